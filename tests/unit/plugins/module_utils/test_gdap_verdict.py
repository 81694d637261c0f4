"""The GDAP verdict per customer, the grants' normal form and the consent's create/replace/delete
decisions, without a network (Partner Center is a small in-memory stand-in here: the real service
is exercised by the integration tests against the sandbox)."""
from __future__ import annotations

import datetime

import pytest

from ansible_collections.partnercenter.secure_app.plugins.module_utils._errors import SecureAppError
from ansible_collections.partnercenter.secure_app.plugins.module_utils._gdap_consents import (
    DEFAULT_GRANTS, apply_consent, check_grants, normalize_grants)
from ansible_collections.partnercenter.secure_app.plugins.module_utils._gdap_relationships import relationship_view
from ansible_collections.partnercenter.secure_app.plugins.module_utils._gdap_roles import (
    CLOUD_APPLICATION_ADMINISTRATOR, ROLE_NAMES, role_name)
from ansible_collections.partnercenter.secure_app.plugins.module_utils._gdap_verdict import assess
from ansible_collections.partnercenter.secure_app.plugins.module_utils._times import parse_time

NOW = datetime.datetime(2026, 11, 27, 12, 0, tzinfo=datetime.timezone.utc)
CUSTOMER = {"tenant_id": "c1", "name": "Contoso"}
HELPDESK = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
GRAPH = "00000003-0000-0000-c000-000000000000"


def relationship(status="active", end="2028-01-01T00:00:00Z", roles=(CLOUD_APPLICATION_ADMINISTRATOR,),
                 includes_me=True, assignment_status="active", name="SAM access"):
    named = [{"id": role, "name": role_name(role)} for role in roles]
    return {"id": "r1", "display_name": name, "status": status, "end_date": end, "customer_tenant_id": "c1",
            "roles": named, "access_assignments": [{"id": "a1", "status": assignment_status, "group_id": "g1",
                                                    "roles": named, "includes_me": includes_me}]}


def verdict(relationships, *, consent=None, token_error=None, delegated_access=None, warning_days=30):
    tokens = {"graph": "error" if token_error else "ok"}
    return assess(dict(CUSTOMER, delegated_access=delegated_access), relationships, consent=consent, tokens=tokens,
                  token_error=token_error, now=NOW, warning_days=warning_days)


def test_active_covered_with_a_working_token_is_reachable():
    row = verdict([relationship()], consent={"consented": True, "granted": False})
    assert (row["status"], row["relationship"], row["sentence"]) == ("reachable", "GDAP active", "")
    assert row["covered"] is True and row["can_consent"] is True
    assert row["roles"] == ["Cloud Application Administrator"] and row["days_left"] == 400


def test_consent_granted_now_is_said():
    row = verdict([relationship()], consent={"consented": True, "granted": True})
    assert row["status"] == "reachable" and row["consent_granted"] is True
    assert row["sentence"] == "The SAM app's consent was granted in this run; every token asked for works."


@pytest.mark.parametrize("days, status", [(29, "expiring"), (30, "reachable"), (1, "expiring")])
def test_expiring_is_flagged_within_the_warning_days(days, status):
    end = (NOW + datetime.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    row = verdict([relationship(end=end)], consent={"consented": True})
    assert row["status"] == status and row["days_left"] == days
    if status == "expiring":
        assert row["relationship"] == "GDAP expiring"
        assert row["sentence"] == (f"GDAP relationship 'SAM access' ends {end[:10]} (in {days} days): extend it in "
                                   "Partner Center before then (auto-extend, or a new relationship).")


def test_a_part_of_a_day_counts_as_a_day_left():
    end = (NOW + datetime.timedelta(days=9, hours=23)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert verdict([relationship(end=end)])["days_left"] == 10


@pytest.mark.parametrize("status", ["expired", "terminated"])
def test_ended_relationship(status):
    row = verdict([relationship(status=status, end="2026-10-01T00:00:00Z")], token_error="AADSTS50020 ...")
    assert (row["status"], row["relationship"]) == ("unreachable", f"GDAP {status}")
    assert row["sentence"] == (f"GDAP relationship 'SAM access' ended 2026-10-01 ({status}): renew it in Partner "
                               "Center (a new relationship request the customer approves).")


def test_relationship_not_yet_active():
    row = verdict([relationship(status="approvalPending")], token_error="x")
    assert row["relationship"] == "GDAP approvalPending" and "is approvalPending, not active" in row["sentence"]


@pytest.mark.parametrize("change", [{"includes_me": False}, {"assignment_status": "pending"}])
def test_not_covered(change):
    row = verdict([relationship(**change)], token_error="AADSTS50020")
    assert row["status"] == "unreachable" and row["covered"] is False and row["can_consent"] is False
    assert row["sentence"].startswith("The service account is in no group that an active access assignment of "
                                      "GDAP relationship 'SAM access' covers")


def test_not_consented_but_can_consent():
    row = verdict([relationship()], consent={"consented": False}, token_error="AADSTS65001 ...")
    assert row["status"] == "needs_consent"
    assert row["sentence"] == ("The SAM app is not consented in this customer; the service account's roles (Cloud "
                               "Application Administrator) can grant it: run playbooks/customers.yml with "
                               "customer_access_consent=true.")


def test_not_consented_and_cannot_consent():
    row = verdict([relationship(roles=(HELPDESK,))], consent={"consented": False}, token_error="AADSTS65001")
    assert row["status"] == "unreachable" and row["can_consent"] is False
    assert "roles (Helpdesk Administrator) cannot grant it: add Cloud Application Administrator" in row["sentence"]


def test_consent_unknown_but_the_token_says_consent_is_missing():
    row = verdict([relationship()], token_error="App x has no consent (code AADSTS65001).")
    assert row["status"] == "needs_consent"


def test_consent_error_is_the_sentence():
    row = verdict([relationship()], consent={"consented": False, "error": "Partner Center refused it."},
                  token_error="AADSTS65001")
    assert row["sentence"] == "Partner Center refused it."


def test_consented_yet_no_token_names_the_token_error():
    row = verdict([relationship()], consent={"consented": True}, token_error="graph: throttled.")
    assert row["status"] == "unreachable"
    assert row["sentence"] == ("No token although GDAP relationship 'SAM access' is active and covers the service "
                               "account: graph: throttled.")


def test_dap_and_none():
    dap = verdict([], delegated_access=True)
    assert (dap["status"], dap["relationship"]) == ("reachable", "DAP") and "retired" in dap["sentence"]
    broken = verdict([], delegated_access=True, token_error="boom.")
    assert (broken["status"], broken["sentence"]) == ("unreachable", "DAP gave no token: boom.")
    unknown_but_works = verdict([], delegated_access=None)
    assert unknown_but_works["relationship"] == "DAP"
    none = verdict([], delegated_access=False)
    assert (none["status"], none["relationship"]) == ("unreachable", "none")
    assert none["sentence"].startswith("No GDAP relationship with this customer: request one in Partner Center")
    assert verdict([], delegated_access=None, token_error="x")["relationship"] == "none"


def test_the_usable_covering_relationship_decides():
    old = relationship(status="expired", end="2026-01-01T00:00:00Z", name="old")
    uncovered = relationship(includes_me=False, name="uncovered", end="2029-01-01T00:00:00Z")
    current = relationship(name="current", end="2027-06-01T00:00:00Z")
    assert verdict([old, uncovered, current])["relationship_name"] == "current"
    assert verdict([old, uncovered])["relationship_name"] == "uncovered"
    later = relationship(status="expired", end="2026-06-01T00:00:00Z", name="later")
    assert verdict([old, later])["relationship_name"] == "later"


def test_parse_time():
    expected = datetime.datetime(2026, 10, 1, 12, 30, tzinfo=datetime.timezone.utc)
    assert parse_time("2026-10-01T12:30:00.1234567Z") == expected
    assert parse_time(None) is None and parse_time("soon") is None


def test_relationship_view_names_roles_and_coverage():
    view = relationship_view(
        {"id": "r", "displayName": "n", "status": "active", "customer": {"tenantId": "c", "displayName": "C"},
         "accessDetails": {"unifiedRoles": [{"roleDefinitionId": HELPDESK}]}, "activatedDateTime": "s",
         "endDateTime": "e", "duration": "P730D", "autoExtendDuration": "PT0S"},
        [{"id": "a", "status": "active", "accessContainer": {"accessContainerId": "G1"},
          "accessDetails": {"unifiedRoles": [{"roleDefinitionId": "unknown-role"}]}}], {"g1"})
    assert view["roles"] == [{"id": HELPDESK, "name": "Helpdesk Administrator"}]
    assert view["access_assignments"] == [{"id": "a", "status": "active", "group_id": "G1",
                                           "roles": [{"id": "unknown-role", "name": "unknown-role"}],
                                           "includes_me": True}]
    assert (view["customer_tenant_id"], view["start_date"], view["end_date"]) == ("c", "s", "e")


def test_grants_normal_form_from_either_shape():
    ours = [{"enterprise_application_id": GRAPH.upper(), "scopes": ["b", "a", "a"]}]
    theirs = [{"enterpriseApplicationId": GRAPH, "scope": "a, b"}]
    assert normalize_grants(ours) == normalize_grants(theirs) == [{"enterprise_application_id": GRAPH,
                                                                  "scopes": ["a", "b"]}]
    assert len(check_grants(list(DEFAULT_GRANTS))) == 3


@pytest.mark.parametrize("grants", [[], [{"enterprise_application_id": GRAPH, "scopes": []}],
                                    [{"enterprise_application_id": "", "scopes": ["a"]}]])
def test_grants_refused(grants):
    with pytest.raises(SecureAppError):
        check_grants(grants)


class Consents:
    """Partner Center's application consents in memory: what apply_consent asks and does."""

    def __init__(self, existing=None, create_answers=True, fail=None):
        self.existing = existing
        self.calls = []
        self.create_answers = create_answers
        self.fail = fail

    def find(self, customer, application_id):
        self.calls.append("find")
        if self.fail:
            raise SecureAppError(self.fail, code="consent_forbidden")
        return self.existing

    def delete(self, customer, application_id):
        self.calls.append("delete")
        return True

    def create(self, customer, application_id, display_name, grants):
        self.calls.append("create")
        return self.create_answers


GRANTS = [{"enterprise_application_id": GRAPH, "scopes": ["a"]}]
SAME = {"applicationId": "app", "applicationGrants": [{"enterpriseApplicationId": GRAPH, "scope": "a"}]}
OTHER = {"applicationId": "app", "applicationGrants": [{"enterpriseApplicationId": GRAPH, "scope": "b"}]}


@pytest.mark.parametrize("existing, present, check, calls, changed", [
    (None, True, False, ["find", "create"], True),
    (None, True, True, ["find"], True),
    (SAME, True, False, ["find"], False),
    (OTHER, True, False, ["find", "delete", "create"], True),
    (OTHER, True, True, ["find"], True),
    (SAME, False, False, ["find", "delete"], True),
    (SAME, False, True, ["find"], True),
    (None, False, False, ["find"], False),
])
def test_apply_consent(existing, present, check, calls, changed):
    consents = Consents(existing)
    entry = apply_consent(consents, "c1", application_id="app", display_name=None, grants=GRANTS, present=present,
                          check_mode=check)
    assert consents.calls == calls and entry["changed"] is changed and entry["error"] is None
    assert entry["before"] == (normalize_grants(existing["applicationGrants"]) if existing else None)
    assert entry["after"] == (GRANTS if present else None)


def test_apply_consent_created_meanwhile_is_not_a_change():
    entry = apply_consent(Consents(None, create_answers=False), "c1", application_id="app", display_name=None,
                          grants=GRANTS, present=True, check_mode=False)
    assert entry["changed"] is False


def test_apply_consent_error_is_per_customer():
    entry = apply_consent(Consents(fail="Refused."), "c1", application_id="app", display_name=None, grants=GRANTS,
                          present=True, check_mode=False)
    assert (entry["changed"], entry["error"], entry["error_code"]) == (False, "Refused.", "consent_forbidden")


# Every value of each decision table ---------------------------------------------------------------
# Graph's delegatedAdminRelationshipStatus, each with what the verdict must make of it.
RELATIONSHIP_STATUSES = {
    "active": "usable", "expiring": "usable",
    "expired": "ended", "terminated": "ended", "terminating": "ended", "terminationRequested": "ended",
    "activating": "not_yet", "approvalPending": "not_yet", "approved": "not_yet", "created": "not_yet",
    "unknownFutureValue": "not_yet",
}
# delegatedAdminAccessAssignmentStatus: only an active assignment gives its roles.
ASSIGNMENT_STATUSES = {"active": True, "pending": False, "deleting": False, "deleted": False, "error": False,
                       "unknownFutureValue": False}


@pytest.mark.parametrize("status", sorted(RELATIONSHIP_STATUSES))
def test_every_relationship_status(status):
    """Broken by: a status moved between usable, ended and not yet active (USABLE_STATUSES or the
    ended list), which would send a partner to renew a live relationship or trust a dead one."""
    row = verdict([relationship(status=status, end="2027-06-01T00:00:00Z")], consent={"consented": True})
    kind = RELATIONSHIP_STATUSES[status]
    if kind == "usable":
        assert (row["status"], row["relationship"], row["sentence"]) == ("reachable", "GDAP active", "")
        assert row["covered"] is True and row["can_consent"] is True
        return
    assert (row["status"], row["relationship"], row["covered"]) == ("unreachable", f"GDAP {status}", False)
    if kind == "ended":
        assert row["sentence"] == (f"GDAP relationship 'SAM access' ended 2027-06-01 ({status}): renew it in "
                                   "Partner Center (a new relationship request the customer approves).")
    else:
        assert row["sentence"] == (f"GDAP relationship 'SAM access' is {status}, not active: it gives access once "
                                   "the customer approves it and it is active.")


def test_an_ended_relationship_without_an_end_date_says_already():
    row = verdict([relationship(status="terminated", end=None)])
    assert row["sentence"].startswith("GDAP relationship 'SAM access' ended already (terminated): renew it")
    assert (row["end_date"], row["days_left"]) == (None, None)


@pytest.mark.parametrize("status", sorted(ASSIGNMENT_STATUSES))
def test_every_assignment_status(status):
    """Broken by: an assignment that is not active counted as covering the service account."""
    row = verdict([relationship(assignment_status=status)], consent={"consented": True})
    covers = ASSIGNMENT_STATUSES[status]
    assert row["covered"] is covers and row["can_consent"] is covers
    assert row["status"] == ("reachable" if covers else "unreachable")
    assert row["roles"] == (["Cloud Application Administrator"] if covers else [])


@pytest.mark.parametrize("role_id", sorted(ROLE_NAMES))
def test_every_role_can_consent_or_not(role_id):
    """Broken by: a role added to or dropped from CONSENT_ROLE_IDS. Only Global Administrator,
    Privileged Role Administrator and Cloud Application Administrator may grant the consent."""
    can = ROLE_NAMES[role_id] in ("Global Administrator", "Privileged Role Administrator",
                                  "Cloud Application Administrator")
    row = verdict([relationship(roles=(role_id,))], consent={"consented": False}, token_error="AADSTS65001")
    name = ROLE_NAMES[role_id]
    assert row["can_consent"] is can and row["roles"] == [name]
    if can:
        assert row["status"] == "needs_consent"
        assert f"the service account's roles ({name}) can grant it" in row["sentence"]
    else:
        assert row["status"] == "unreachable"
        assert f"the service account's roles ({name}) cannot grant it" in row["sentence"]


def test_a_role_id_is_matched_without_regard_to_case():
    assert role_name(CLOUD_APPLICATION_ADMINISTRATOR.upper()) == "Cloud Application Administrator"


def test_the_roles_of_every_covering_assignment_count_and_no_role_is_named_as_such():
    """Two covering assignments: their roles together; a relationship whose assignments give no
    role says 'no role'."""
    both = relationship(roles=(HELPDESK,))
    both["access_assignments"].append({"id": "a2", "status": "active", "group_id": "g2", "includes_me": True,
                                       "roles": [{"id": CLOUD_APPLICATION_ADMINISTRATOR,
                                                  "name": "Cloud Application Administrator"}]})
    row = verdict([both], consent={"consented": False}, token_error="AADSTS65001")
    assert row["roles"] == ["Cloud Application Administrator", "Helpdesk Administrator"] and row["can_consent"]
    empty = verdict([relationship(roles=())], consent={"consented": False}, token_error="AADSTS65001")
    assert "roles (no role) cannot grant it" in empty["sentence"]


@pytest.mark.parametrize("warning_days", [1, 30, 60])
@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_both_sides_of_the_expiry_warning(warning_days, offset):
    """Broken by: <= instead of <, or any other threshold than warning_days: days_left one below
    the threshold warns, at it and above it does not."""
    days = warning_days + offset
    end = (NOW + datetime.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    row = verdict([relationship(end=end)], consent={"consented": True}, warning_days=warning_days)
    assert row["days_left"] == days
    assert row["status"] == ("expiring" if offset < 0 else "reachable")
    assert row["relationship"] == ("GDAP expiring" if offset < 0 else "GDAP active")


@pytest.mark.parametrize("left, days", [(datetime.timedelta(days=30), 30),
                                        (datetime.timedelta(days=29, seconds=1), 30),
                                        (datetime.timedelta(days=30, seconds=1), 31),
                                        (datetime.timedelta(seconds=1), 1),
                                        (datetime.timedelta(0), 0),
                                        (-datetime.timedelta(hours=23), 0)])
def test_days_left_round_up_to_whole_days(left, days):
    """Broken by: floor or round instead of ceil (a relationship ending in 29 days and 1 second has
    30 days left)."""
    end = (NOW + left).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert verdict([relationship(end=end)], consent={"consented": True})["days_left"] == days


@pytest.mark.parametrize("delegated_access, token_error, status, relationship_kind", [
    (True, None, "reachable", "DAP"), (True, "boom.", "unreachable", "DAP"),
    (None, None, "reachable", "DAP"), (None, "boom.", "unreachable", "none"),
    (False, None, "unreachable", "none"), (False, "boom.", "unreachable", "none"),
])
def test_every_value_of_the_dap_table(delegated_access, token_error, status, relationship_kind):
    """Broken by: DAP assumed where Partner Center said none, or a DAP customer without a token
    called reachable."""
    row = verdict([], delegated_access=delegated_access, token_error=token_error)
    assert (row["status"], row["relationship"]) == (status, relationship_kind)
    if relationship_kind == "none":
        assert row["sentence"].startswith("No GDAP relationship with this customer")
    elif token_error:
        assert row["sentence"] == "DAP gave no token: boom."


@pytest.mark.parametrize("consent, token_error, status, words", [
    ({"consented": False}, "AADSTS65001", "needs_consent", "is not consented in this customer; the service"),
    (None, "App x (AADSTS65001).", "needs_consent", "is not consented in this customer; the service"),
    (None, "AADSTS50020", "unreachable", "No token although"),
    ({"consented": True}, "AADSTS65001", "unreachable", "No token although"),
    ({"consented": False, "error": "Partner Center said no."}, "AADSTS65001", "unreachable",
     "Partner Center said no."),
    ({"consented": True, "error": "Partner Center said no."}, "AADSTS65001", "unreachable",
     "Partner Center said no."),
    ({"consented": True, "granted": True}, None, "reachable", "granted in this run"),
])
def test_every_value_of_the_consent_table(consent, token_error, status, words):
    """Broken by: a consent error hidden behind the token's sentence, or a consent Partner Center
    holds called missing."""
    row = verdict([relationship()], consent=consent, token_error=token_error)
    assert row["status"] == status and words in row["sentence"]


def test_ranking_prefers_covering_then_usable_then_latest_end_in_any_input_order():
    covering = relationship(name="covering", end="2027-01-01T00:00:00Z")
    usable = relationship(name="usable", includes_me=False, end="2029-01-01T00:00:00Z")
    ended = relationship(name="ended", status="expired", end="2030-01-01T00:00:00Z")
    for order in ([covering, usable, ended], [ended, usable, covering], [usable, ended, covering]):
        assert verdict(order)["relationship_name"] == "covering"
    for order in ([usable, ended], [ended, usable]):
        assert verdict(order)["relationship_name"] == "usable"
