"""The partner's GDAP relationships as gdap_relationship_info reads them (_gdap_relationships),
against the sandbox's Graph: every field of a relationship and of its access assignments, the
invitation link of a relationship awaiting approval only, includes_me per group, the listing by
customer (Graph's $filter) and by customer_tenants (kept before any assignment is read), paging at
Graph's largest page, and the sentence of each refusal."""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from ansible_collections.partnercenter.secure_app.plugins.module_utils._errors import SecureAppError
from ansible_collections.partnercenter.secure_app.plugins.module_utils._gdap_lifecycle import invitation_link
from ansible_collections.partnercenter.secure_app.plugins.module_utils._gdap_relationships import (
    RELATIONSHIP_PAGE_SIZE, Relationships, read_relationships, relationship_view)
from ansible_collections.partnercenter.secure_app.plugins.module_utils._tokens import exchange
from gdap_sandbox import (  # pylint: disable=import-error
    CLOUD_APPLICATION_ADMINISTRATOR, DIRECTORY_READERS, HELPDESK_ADMINISTRATOR, RELATIONSHIPS, create_relationship,
    gdap_app, module_context)


def customer(ep, kind):
    return next(c for c in ep["customers"] if c["kind"] == kind)


@pytest.fixture(scope="module")
def context(world):
    made = module_context(world)
    yield made
    made.close()


@pytest.fixture(scope="module")
def gdap(world, context):
    """A SAM app that may read and write GDAP (gdap_sandbox.gdap_app)."""
    return gdap_app(world, context, "GDAP reader unit tests")


def graph_requests(world):
    return world["api"].get("/counters")["counters"].get("requests_graph", 0)


def read(context, token, **kwargs):
    return read_relationships(context.http, context.cloud, token, **kwargs)


@pytest.fixture(scope="module")
def scene(world, gdap):
    """Beside the seeded active relationship of the gdap_ready customer, the dap customer gets two
    relationships: one created (no link), one awaiting approval (its link), and an active one whose
    assignments go to a group the service account is in (helpdesk) and to one it is not (tier2)."""
    ep, graph, api = world["ep"], gdap["graph"], world["api"]
    dap = customer(ep, "dap")["tenant_id"]
    created = create_relationship(graph, dap)
    pending = create_relationship(graph, dap)
    assert api.call("POST", "/gdap-relationship", {"id": pending["id"], "status": "approvalPending"})["affected"] == 1
    active = create_relationship(graph, dap, roles=(HELPDESK_ADMINISTRATOR, DIRECTORY_READERS))
    assert api.call("POST", "/gdap-relationship", {"id": active["id"], "status": "active",
                                                   "endsInDays": 20})["affected"] == 1
    assignments = {}
    for group, roles in (("helpdesk", [HELPDESK_ADMINISTRATOR]), ("tier2", [DIRECTORY_READERS])):
        made = graph.post(f"{RELATIONSHIPS}/{active['id']}/accessAssignments", json={
            "accessContainer": {"accessContainerId": ep["gdap_group_ids"][group],
                                "accessContainerType": "securityGroup"},
            "accessDetails": {"unifiedRoles": [{"roleDefinitionId": role} for role in roles]}})
        assert made.status_code == 201, made.text
        assignments[group] = made.json()
    return {"dap": dap, "ready": customer(ep, "gdap_ready")["tenant_id"], "created": created, "pending": pending,
            "active": active, "assignments": assignments}


def test_a_relationship_with_every_field(context, gdap, world, scene):
    """Broken by: a field taken from another property, a role or an assignment left unnamed, a
    link while active, includes_me false for the account's own group."""
    ep = world["ep"]
    raw = gdap["graph"].get(f"{RELATIONSHIPS}?$filter=customer/tenantId eq '{scene['ready']}'").json()["value"][0]
    cloud_app_admin = {"id": CLOUD_APPLICATION_ADMINISTRATOR, "name": "Cloud Application Administrator"}
    readers = {"id": DIRECTORY_READERS, "name": "Directory Readers"}
    assignment = gdap["graph"].get(f"{RELATIONSHIPS}/{raw['id']}/accessAssignments").json()["value"][0]
    result = read(context, gdap["token"], customer_tenants=[scene["ready"]])
    assert result["relationships"] == [{
        "id": raw["id"], "display_name": "SAM access Customer 2 Ltd", "status": "active",
        "customer_tenant_id": scene["ready"], "customer_name": "Customer 2 Ltd",
        "start_date": raw["activatedDateTime"], "end_date": raw["endDateTime"], "duration": "P730D",
        "auto_extend_duration": "PT0S", "roles": [cloud_app_admin, readers],
        "access_assignments": [{"id": assignment["id"], "status": "active", "group_id": ep["gdap_group_ids"]["consent"],
                                "roles": [cloud_app_admin, readers], "includes_me": True}],
        "invitation_link": None}]
    assert raw["activatedDateTime"] and raw["endDateTime"] and raw["activatedDateTime"] != raw["endDateTime"]
    assert result["my_groups"] == [
        {"id": ep["admin_agents_group_id"], "display_name": "AdminAgents"},
        {"id": ep["gdap_group_ids"]["consent"], "display_name": "GDAP Application Consent Agents"},
        {"id": ep["gdap_group_ids"]["helpdesk"], "display_name": "GDAP Helpdesk Agents"}]


def test_the_link_only_while_awaiting_approval_and_includes_me_per_group(context, gdap, world, scene):
    """Broken by: a link for another status, or includes_me true for a group the account is not in."""
    ep = world["ep"]
    result = read(context, gdap["token"], customer_tenants=[scene["dap"]])
    by_id = {r["id"]: r for r in result["relationships"]}
    created, pending, active = (by_id[scene[name]["id"]] for name in ("created", "pending", "active"))
    assert (created["status"], created["invitation_link"]) == ("created", None)
    assert created["start_date"] is None and created["end_date"] is None and created["duration"] == "P30D"
    assert created["roles"] == [{"id": HELPDESK_ADMINISTRATOR, "name": "Helpdesk Administrator"}]
    assert created["customer_name"] == "Customer 1 Ltd" and created["access_assignments"] == []
    assert pending["status"] == "approvalPending"
    assert pending["invitation_link"] == invitation_link(context.cloud, scene["pending"]["id"])
    assert pending["invitation_link"].endswith(scene["pending"]["id"])
    assert active["status"] == "active" and active["invitation_link"] is None
    views = {a["group_id"]: a for a in active["access_assignments"]}
    helpdesk, tier2 = views[ep["gdap_group_ids"]["helpdesk"]], views[ep["gdap_group_ids"]["tier2"]]
    assert (helpdesk["id"], helpdesk["includes_me"]) == (scene["assignments"]["helpdesk"]["id"], True)
    assert helpdesk["roles"] == [{"id": HELPDESK_ADMINISTRATOR, "name": "Helpdesk Administrator"}]
    assert (tier2["id"], tier2["includes_me"]) == (scene["assignments"]["tier2"]["id"], False)
    assert tier2["roles"] == [{"id": DIRECTORY_READERS, "name": "Directory Readers"}]
    assert {helpdesk["status"], tier2["status"]} <= {"pending", "active"}


def test_customer_tenants_keeps_those_before_any_assignment_is_read(context, gdap, world, scene):
    """One listing, the groups, then one assignment read per relationship kept: broken by a
    filter applied after the reads, a case-sensitive match, or an empty list that keeps all."""
    before = graph_requests(world)
    result = read(context, gdap["token"], customer_tenants=[scene["ready"].upper()])
    assert graph_requests(world) - before == 3
    assert [r["customer_tenant_id"] for r in result["relationships"]] == [scene["ready"]]
    assert read(context, gdap["token"], customer_tenants=[])["relationships"] == []
    assert read(context, gdap["token"], customer_tenants=["0badc0de-0000-4000-8000-000000000000"],
                include_access_assignments=False)["relationships"] == []
    everyone = read(context, gdap["token"], customer_tenants=None, include_access_assignments=False)
    listed = Relationships(context.http, context.cloud, gdap["token"]).list()
    assert [r["id"] for r in everyone["relationships"]] == [r["id"] for r in listed]
    assert {scene["ready"], scene["dap"]} <= {r["customer_tenant_id"] for r in everyone["relationships"]}
    both = read(context, gdap["token"], customer_tenants=[scene["ready"], scene["dap"]], concurrency=1)
    kept = [r["id"] for r in listed if r["customer"]["tenantId"] in (scene["ready"], scene["dap"])]
    assert [r["id"] for r in both["relationships"]] == kept


def test_the_listing_by_customer_is_graphs_filter(context, gdap, world, scene):
    """Broken by: a $filter on another property or not sent, or sent for an empty id."""
    graph = Relationships(context.http, context.cloud, gdap["token"])
    before = graph_requests(world)
    ready = graph.list(scene["ready"])
    assert graph_requests(world) - before == 1
    assert [r["customer"]["tenantId"] for r in ready] == [scene["ready"]]
    dap = graph.list(scene["dap"])
    assert {r["id"] for r in dap} >= {scene[name]["id"] for name in ("created", "pending", "active")}
    assert {r["customer"]["tenantId"] for r in dap} == {scene["dap"]}
    assert len(graph.list("")) == len(graph.list(None)) == len(graph.list()) > len(dap) + len(ready) - 1
    assert graph.list("0badc0de-0000-4000-8000-000000000000") == []
    result = read(context, gdap["token"], customer_tenant_id=scene["ready"])
    assert [r["customer_tenant_id"] for r in result["relationships"]] == [scene["ready"]]


def test_without_assignments_neither_groups_nor_assignments_are_read(context, gdap, world, scene):
    """Broken by: memberOf or the assignments read although not asked for."""
    before = graph_requests(world)
    result = read(context, gdap["token"], customer_tenants=[scene["ready"]], include_access_assignments=False)
    assert graph_requests(world) - before == 1
    assert result["my_groups"] == []
    assert [(r["id"], r["access_assignments"], r["status"]) for r in result["relationships"]] == [
        (r["id"], [], "active") for r in Relationships(context.http, context.cloud, gdap["token"]).list(scene["ready"])]


def test_groups_by_type_and_in_any_case(context, gdap, world, scene, faults):
    """memberOf lists directory roles too (only groups count, an entry without a type is a group),
    and ids compare in any case.
    Broken by: directory roles counted as groups, or ids compared as sent."""
    ep = world["ep"]
    consent_group = ep["gdap_group_ids"]["consent"]
    faults({"service": "graph", "path": "/me/memberOf$", "body": {"value": [
        {"@odata.type": "#microsoft.graph.directoryRole", "id": ep["gdap_group_ids"]["tier2"], "displayName": "Role"},
        {"id": consent_group.upper(), "displayName": "Consent, no type"}]}})
    result = read(context, gdap["token"], customer_tenants=[scene["ready"], scene["dap"]])
    assert result["my_groups"] == [{"id": consent_group.upper(), "display_name": "Consent, no type"}]
    assignments = [a for r in result["relationships"] for a in r["access_assignments"]]
    assert {a["group_id"]: a["includes_me"] for a in assignments} == {
        consent_group: True, ep["gdap_group_ids"]["helpdesk"]: False, ep["gdap_group_ids"]["tier2"]: False}


def with_support_id(sentence):
    return re.escape(sentence.rstrip(".")) + r" \((correlation|request) id [^)]+\)\."


def test_a_token_without_the_gdap_permission_is_one_sentence(context, world):
    """The world's SAM app has Directory.AccessAsUser.All only. Broken by: the GDAP hint for 403 dropped or reworded."""
    app = world["app"]
    token = exchange(context, client_id=app["app_id"], client_secret=app["secret"],
                     tenant=world["ep"]["partner_tenant_id"], refresh_token=world["refresh_token"],
                     resources=["graph"])["tokens"]["graph"]["access_token"]
    with pytest.raises(SecureAppError) as raised:
        read(context, token)
    assert raised.value.status == 403
    assert re.fullmatch(with_support_id(
        "Failed to list the partner's GDAP relationships: permission denied by Microsoft Graph "
        "(Authorization_RequestDenied): the SAM app needs the delegated permission "
        "DelegatedAdminRelationship.Read.All, consented in the partner tenant: run the onboard playbook again with "
        "onboard_renew_consent=true (app_registration adds the permission)."), raised.value.message), \
        raised.value.message


def test_a_refused_token_is_one_sentence(context, world):
    """Broken by: Graph's own hints (401) lost when the GDAP one is added."""
    with pytest.raises(SecureAppError) as raised:
        read(context, "not-a-token")
    assert raised.value.status == 401
    assert re.fullmatch(with_support_id(
        "Failed to list the partner's GDAP relationships: Microsoft Graph refused the access token "
        f"(InvalidAuthenticationToken): get a token for {context.cloud.graph} in the partner tenant."),
        raised.value.message), raised.value.message


def test_an_unknown_relationship_is_one_sentence(context, gdap):
    """Broken by: another action in the sentence."""
    unknown = "0badc0de-0000-4000-8000-000000000000-0badc0de-0000-4000-8000-000000000001"
    with pytest.raises(SecureAppError) as raised:
        Relationships(context.http, context.cloud, gdap["token"]).access_assignments(unknown)
    assert raised.value.status == 404
    assert raised.value.message.startswith(f"Failed to list the access assignments of GDAP relationship {unknown}: ")


@pytest.mark.parametrize("path, action", [
    ("/me/memberOf$", "list the signed-in account's groups"),
    ("/accessAssignments$", "list the access assignments of GDAP relationship {id}")])
def test_a_refused_read_after_the_listing_is_one_sentence(context, gdap, scene, faults, path, action):
    """Broken by: another action in the sentence, or the GDAP hint missing there."""
    faults({"service": "graph", "path": path, "status": 403})
    with pytest.raises(SecureAppError) as raised:
        read(context, gdap["token"], customer_tenants=[scene["ready"]])
    relationship = Relationships(context.http, context.cloud, gdap["token"]).list(scene["ready"])[0]
    assert raised.value.status == 403
    assert raised.value.message.startswith(f"Failed to {action.format(id=relationship['id'])}: permission denied by "
                                           "Microsoft Graph ("), raised.value.message
    assert "DelegatedAdminRelationship.Read.All" in raised.value.message


STATUSES = ["created", "approvalPending", "approved", "activating", "active", "terminationRequested", "terminating",
            "terminated", "expiring", "expired", "unknownFutureValue"]


@pytest.mark.parametrize("status", STATUSES + [None])
def test_the_link_is_given_for_approval_pending_only(status):
    """Broken by: a link for any status but approvalPending."""
    view = relationship_view({"id": "r1", "status": status}, [], set(), "https://link/r1")
    assert view["invitation_link"] == ("https://link/r1" if status == "approvalPending" else None)
    assert view["status"] == status


def test_a_sparse_relationship_and_assignment():
    """What Graph may leave out: the customer, the roles, the container; ids compare in lower case
    (the caller lowers the account's group ids)."""
    view = relationship_view({"id": "r1", "customer": None, "accessDetails": None}, [
        {"id": "a1", "status": "active", "accessContainer": None, "accessDetails": None},
        {"id": "a2", "status": "pending", "accessContainer": {"accessContainerId": "GROUP-1"},
         "accessDetails": {"unifiedRoles": [{"roleDefinitionId": "11111111-2222-4333-8444-555555555555"}]}}],
        {"group-1", "none", ""})
    assert view == {
        "id": "r1", "display_name": None, "status": None, "customer_tenant_id": None, "customer_name": None,
        "start_date": None, "end_date": None, "duration": None, "auto_extend_duration": None, "roles": [],
        "access_assignments": [
            {"id": "a1", "status": "active", "group_id": None, "roles": [], "includes_me": True},
            {"id": "a2", "status": "pending", "group_id": "GROUP-1", "includes_me": True,
             "roles": [{"id": "11111111-2222-4333-8444-555555555555",
                        "name": "11111111-2222-4333-8444-555555555555"}]}],
        "invitation_link": None}
    assert relationship_view({}, [{"accessContainer": {}}], {"none"})["access_assignments"][0]["includes_me"] is False
    assert relationship_view({}, [{"accessContainer": {"accessContainerId": "g"}}], set())[
        "access_assignments"][0]["includes_me"] is False


def test_paging_at_graphs_largest_page(context, gdap, world, scene):
    """Last: it brings the partner's relationships to 300 (one page of the largest $top Graph
    accepts) then 301 (two pages); Graph refuses a $top above 300."""
    assert RELATIONSHIP_PAGE_SIZE == 300
    graph = Relationships(context.http, context.cloud, gdap["token"])
    missing = RELATIONSHIP_PAGE_SIZE - len(graph.list())
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: create_relationship(gdap["graph"], scene["dap"]), range(missing)))
    before = graph_requests(world)
    assert len(graph.list()) == 300
    assert graph_requests(world) - before == 1
    create_relationship(gdap["graph"], scene["dap"])
    before = graph_requests(world)
    listed = graph.list()
    assert graph_requests(world) - before == 2
    assert len(listed) == 301 and len({r["id"] for r in listed}) == 301
    assert len(read(context, gdap["token"], include_access_assignments=False)["relationships"]) == 301
