"""Partner Center's application consents through Consents, against the sandbox: read, create
(and 'exists already'), delete (and 'missing is not an error'), and the sentence of each refusal
with the support id. A replace that fails half-way is tested in test_gdap_verdict (Held)."""
from __future__ import annotations

import re

import pytest

from ansible_collections.partnercenter.secure_app.plugins.module_utils._catalog import GRAPH_APP_ID
from ansible_collections.partnercenter.secure_app.plugins.module_utils._clouds import resolve_cloud
from ansible_collections.partnercenter.secure_app.plugins.module_utils._errors import SecureAppError
from ansible_collections.partnercenter.secure_app.plugins.module_utils._gdap_consents import (
    DEFAULT_GRANTS, Consents, apply_consent, check_grants, normalize_grants)
from ansible_collections.partnercenter.secure_app.plugins.module_utils._tokens import exchange
from gdap_sandbox import module_context  # pylint: disable=import-error

UNKNOWN_CUSTOMER = "0badc0de-0000-4000-8000-000000000000"


def customer(ep, kind):
    return next(c["tenant_id"] for c in ep["customers"] if c["kind"] == kind)


def with_support_id(sentence):
    """The sentence as service_error ends it: the id Partner Center gave, then a period."""
    return re.escape(sentence.rstrip(".")) + r" \((correlation|request) id [^)]+\)\."


@pytest.fixture(scope="module")
def context(world):
    made = module_context(world)
    yield made
    made.close()


@pytest.fixture(scope="module")
def consents(context, world):
    app = world["app"]
    tokens = exchange(context, client_id=app["app_id"], client_secret=app["secret"],
                      tenant=world["ep"]["partner_tenant_id"], refresh_token=world["refresh_token"],
                      resources=["partner_center"])["tokens"]
    return Consents(context.http, context.cloud, tokens["partner_center"]["access_token"])


def test_read_create_exists_delete_missing(consents, world):
    """Broken by: a create that does not say 'exists already' (409) apart from created, a delete
    whose 404 is an error, a find that matches another app or another case of the id."""
    ready, app_id = customer(world["ep"], "gdap_ready"), world["app"]["app_id"]
    grants = check_grants(list(DEFAULT_GRANTS))
    assert consents.find(ready, app_id) is None
    assert consents.create(ready, app_id, "SAM unit", grants) is True
    try:
        assert consents.create(ready, app_id, "SAM unit", grants) is False
        found = consents.find(ready, app_id.upper())
        assert found["applicationId"] == app_id and found["displayName"] == "SAM unit"
        assert normalize_grants(found["applicationGrants"]) == grants
        assert consents.find(ready, "11111111-2222-4333-8444-555555555555") is None
    finally:
        assert consents.delete(ready, app_id) is True
    assert consents.delete(ready, app_id) is False
    assert consents.find(ready, app_id) is None


def test_apply_consent_against_partner_center(consents, world):
    ready, app_id = customer(world["ep"], "gdap_ready"), world["app"]["app_id"]
    grants = check_grants(list(DEFAULT_GRANTS))
    made = apply_consent(consents, ready, application_id=app_id, display_name=None, grants=grants, present=True,
                         check_mode=False)
    assert (made["changed"], made["before"], made["after"], made["error"]) == (True, None, grants, None)
    again = apply_consent(consents, ready, application_id=app_id, display_name=None, grants=grants, present=True,
                          check_mode=False, at_least=True)
    assert (again["changed"], again["before"], again["after"]) == (False, grants, grants)
    gone = apply_consent(consents, ready, application_id=app_id, display_name=None, grants=grants, present=False,
                         check_mode=False)
    assert (gone["changed"], gone["before"], gone["after"]) == (True, grants, None)
    assert consents.find(ready, app_id) is None


def test_a_role_that_cannot_consent_is_one_sentence(consents, world):
    none = customer(world["ep"], "none")
    with pytest.raises(SecureAppError) as raised:
        consents.create(none, world["app"]["app_id"], None, check_grants(list(DEFAULT_GRANTS)))
    assert raised.value.code == "consent_forbidden" and raised.value.status == 403
    assert re.fullmatch(with_support_id(
        f"Failed to consent the SAM app in customer {none}: Partner Center refused it: the service account's GDAP "
        "roles in this customer cannot grant consents; add Cloud Application Administrator (or Privileged Role "
        "Administrator) to an access assignment of the relationship for a group the account is in."),
        raised.value.message), raised.value.message


@pytest.mark.parametrize("call", ["find", "create"])
def test_an_unknown_customer_is_one_sentence(consents, world, call):
    action = {"find": f"read the application consents of customer {UNKNOWN_CUSTOMER}",
              "create": f"consent the SAM app in customer {UNKNOWN_CUSTOMER}"}[call]
    with pytest.raises(SecureAppError) as raised:
        if call == "find":
            consents.find(UNKNOWN_CUSTOMER, world["app"]["app_id"])
        else:
            consents.create(UNKNOWN_CUSTOMER, world["app"]["app_id"], None, check_grants(list(DEFAULT_GRANTS)))
    assert raised.value.code == "customer_not_found" and raised.value.status == 404
    assert re.fullmatch(with_support_id(f"Failed to {action}: Partner Center does not know this customer for the "
                                        "partner: check the customer's tenant id."), raised.value.message)


def test_a_refused_token_is_one_sentence(context, world):
    refused = Consents(context.http, context.cloud, "not-a-token")
    with pytest.raises(SecureAppError) as raised:
        refused.find(customer(world["ep"], "dap"), world["app"]["app_id"])
    base = resolve_cloud("AzureCloud", world["ep"]["cloud"]).partner_center
    assert raised.value.status == 401
    assert re.fullmatch(with_support_id(
        f"Failed to read the application consents of customer {customer(world['ep'], 'dap')}: Partner Center refused "
        f"the access token: use a token for {base} issued in the partner tenant."), raised.value.message)


CREATE = {"service": "partner_center", "method": "POST", "path": "/applicationconsents$"}


def test_a_replace_whose_create_fails_is_restored_in_partner_center(consents, world, faults):
    """The create of a replace fails after the delete: the previous grants are posted again for
    this customer and this app, and Partner Center holds them. Broken by: the restore sent for
    another customer or without the app's id (the consent then said to be removed)."""
    ready, app_id = customer(world["ep"], "gdap_ready"), world["app"]["app_id"]
    grants = check_grants(list(DEFAULT_GRANTS))
    wanted = check_grants([{"enterprise_application_id": GRAPH_APP_ID, "scopes": ["User.Read"]}])
    assert consents.create(ready, app_id, "SAM unit", grants) is True
    try:
        faults(dict(CREATE, status=500, count=1))
        entry = apply_consent(consents, ready, application_id=app_id, display_name=None, grants=wanted,
                              present=True, check_mode=False)
        assert (entry["changed"], entry["before"], entry["after"]) == (False, grants, grants)
        assert entry["error"].startswith(f"Failed to consent the SAM app in customer {ready}: ")
        assert entry["error"].endswith("; the previous consent was restored, unchanged."), entry["error"]
        found = consents.find(ready, app_id)
        assert normalize_grants(found["applicationGrants"]) == grants and found["displayName"] == "SAM unit"
    finally:
        consents.delete(ready, app_id)


def test_a_restore_partner_center_says_exists_reads_back_what_it_holds(consents, world, faults):
    """The restore's create answered 409 (made meanwhile): what Partner Center holds for this
    customer and app is read back, someone else's grants (a canned answer here) or none (the
    consent gone: changed). Broken by: the read-back for another customer or without the app's
    id, or no consent after one taken for no change."""
    ready, app_id = customer(world["ep"], "gdap_ready"), world["app"]["app_id"]
    grants = check_grants(list(DEFAULT_GRANTS))
    wanted = check_grants([{"enterprise_application_id": GRAPH_APP_ID, "scopes": ["User.Read"]}])
    theirs = [{"enterpriseApplicationId": GRAPH_APP_ID, "scope": "Directory.Read.All"}]
    read_back = {"service": "partner_center", "method": "GET", "path": f"/customers/{ready}/applicationconsents$",
                 "skip": 1, "count": 1,
                 "body": {"items": [{"applicationId": app_id.upper(), "applicationGrants": theirs}]}}
    for held in (None, theirs):
        assert consents.create(ready, app_id, "SAM unit", grants) is True
        try:
            faults(dict(CREATE, status=500, count=1), dict(CREATE, status=409, count=1),
                   *([read_back] if held else []))
            entry = apply_consent(consents, ready, application_id=app_id, display_name=None, grants=wanted,
                                  present=True, check_mode=False)
            world["api"].call("DELETE", "/faults")
            after = normalize_grants(held) if held else None
            assert (entry["changed"], entry["before"], entry["after"]) == (True, grants, after)
            assert entry["error"].endswith("; meanwhile a consent was made by someone else."), entry["error"]
        finally:
            consents.delete(ready, app_id)


def test_at_least_creates_a_missing_consent_and_completes_one_that_lacks_a_resource(consents, world):
    """The default grants (at_least): no consent is created; one holding Graph only gets the
    other resources beside it, its scopes kept. Broken by: no consent taken as covering, or a
    resource the consent lacks looked up without its empty default (TypeError)."""
    ready, app_id = customer(world["ep"], "gdap_ready"), world["app"]["app_id"]
    grants = check_grants(list(DEFAULT_GRANTS))
    try:
        made = apply_consent(consents, ready, application_id=app_id, display_name=None, grants=grants,
                             present=True, check_mode=False, at_least=True)
        assert (made["changed"], made["before"], made["after"], made["error"]) == (True, None, grants, None)
        assert consents.delete(ready, app_id) is True
        # Graph (the first resource in id order) as the default wants it: the others are missing.
        graph_only = check_grants([{"enterprise_application_id": GRAPH_APP_ID,
                                    "scopes": ["Directory.AccessAsUser.All"]}])
        assert consents.create(ready, app_id, None, graph_only) is True
        completed = apply_consent(consents, ready, application_id=app_id, display_name=None, grants=grants,
                                  present=True, check_mode=False, at_least=True)
        union = normalize_grants(graph_only + grants)
        assert (completed["changed"], completed["before"], completed["after"]) == (True, graph_only, union)
        assert normalize_grants(consents.find(ready, app_id)["applicationGrants"]) == union
    finally:
        consents.delete(ready, app_id)


def test_several_scopes_of_a_resource_and_the_display_name_reach_partner_center(consents, world):
    """Partner Center takes a resource's scopes as one comma-separated string. Broken by: another
    separator (one scope of a made-up name), or the display name given not sent."""
    ready, app_id = customer(world["ep"], "gdap_ready"), world["app"]["app_id"]
    grants = check_grants([{"enterprise_application_id": GRAPH_APP_ID, "scopes": ["User.Read", "Group.Read.All"]}])
    try:
        entry = apply_consent(consents, ready, application_id=app_id, display_name="SAM named", grants=grants,
                              present=True, check_mode=False)
        assert entry["tenant_id"] == ready and entry["changed"] is True
        found = consents.find(ready, app_id)
        assert found["displayName"] == "SAM named"
        assert normalize_grants(found["applicationGrants"]) == grants
        assert sorted(found["applicationGrants"][0]["scope"].split(",")) == ["Group.Read.All", "User.Read"]
    finally:
        consents.delete(ready, app_id)


def test_a_consent_partner_center_says_exists_is_read_back(consents, world, faults):
    """A new consent's create answered 409 (made meanwhile): what Partner Center holds for this
    customer and app is read back (a canned answer here). Broken by: the read-back for another
    customer or without the app's id."""
    ready, app_id = customer(world["ep"], "gdap_ready"), world["app"]["app_id"]
    theirs = [{"enterpriseApplicationId": GRAPH_APP_ID, "scope": "Directory.Read.All"}]
    faults(dict(CREATE, status=409, count=1),
           {"service": "partner_center", "method": "GET", "path": f"/customers/{ready}/applicationconsents$",
            "skip": 1, "count": 1,
            "body": {"items": [{"applicationId": app_id.upper(), "applicationGrants": theirs}]}})
    entry = apply_consent(consents, ready, application_id=app_id, display_name=None,
                          grants=check_grants(list(DEFAULT_GRANTS)), present=True, check_mode=False)
    assert (entry["changed"], entry["before"], entry["after"], entry["error"]) == (
        True, None, normalize_grants(theirs), None)


def test_an_error_entry_still_says_what_partner_center_holds(consents, world, faults):
    """A customer Partner Center does not know: the entry has its tenant id, before and after
    None and changed false beside the error. A failed delete's sentence names the delete.
    Broken by: the entry without its customer or without before or after (a KeyError for the
    module), or the delete's action sentence dropped."""
    entry = apply_consent(consents, UNKNOWN_CUSTOMER, application_id=world["app"]["app_id"], display_name=None,
                          grants=check_grants(list(DEFAULT_GRANTS)), present=True, check_mode=False)
    assert (entry["tenant_id"], entry["changed"], entry["before"], entry["after"], entry["error_code"]) == (
        UNKNOWN_CUSTOMER, False, None, None, "customer_not_found")
    ready = customer(world["ep"], "gdap_ready")
    faults({"service": "partner_center", "method": "DELETE", "path": "/applicationconsents/", "status": 500})
    with pytest.raises(SecureAppError) as raised:
        consents.delete(ready, world["app"]["app_id"])
    assert raised.value.message.startswith(f"Failed to remove the SAM app's consent in customer {ready}: ")


def test_the_normal_form_of_scopes_given_as_a_string_or_missing():
    """Scopes as one comma-separated string (either form) are split at the commas; a Partner
    Center grant without a scope has none; scopes sort by their lower case ('_' before the
    letters). Broken by: the string not split, split at spaces or at another separator, a
    missing scope read as a made-up one, or the scopes sorted in upper case."""
    assert normalize_grants([{"enterprise_application_id": GRAPH_APP_ID, "scopes": "User.Read, Group.Read.All"}]) \
        == [{"enterprise_application_id": GRAPH_APP_ID, "scopes": ["Group.Read.All", "User.Read"]}]
    assert normalize_grants([{"enterpriseApplicationId": GRAPH_APP_ID.upper()}]) == [
        {"enterprise_application_id": GRAPH_APP_ID, "scopes": []}]
    assert normalize_grants([{"enterprise_application_id": GRAPH_APP_ID,
                              "scopes": ["AccessReview.Read.All", "access_as_user"]}]) == [
        {"enterprise_application_id": GRAPH_APP_ID, "scopes": ["access_as_user", "AccessReview.Read.All"]}]
