"""GDAP writes in the sandbox as Graph's reference documents them: relationships (create, update
with If-Match and only what the status allows, delete), their requests (lockForApproval,
terminate) and the status each step leads to, the customer's approval at the invitation link,
access assignments (pending before active, a role change as a long-running operation, delete),
operations, the OData options of these collections, who may write, and Partner Center's checks
of an application consent's body."""
from __future__ import annotations

import os

import pytest
import requests

from ca_bundles import add_to_environment
from conformance_helpers import consent, create_app, device_code_token, graph_session
from sandbox import catalog
from sandbox import testing
from sandbox.testing import SandboxProcess, SignInError, approve_invitation

GDAP_READ = "0c0064ea-477b-4130-82a5-4c2cc4ff68aa"
GDAP_READ_WRITE = "885f682f-a990-4bad-a642-36736a74b0c7"
GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"
CLOUD_APPLICATION_ADMINISTRATOR = "158c047a-c907-4556-b7ef-446551a6b5f7"
DIRECTORY_READERS = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
HELPDESK_ADMINISTRATOR = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
RELATIONSHIPS = "/tenantRelationships/delegatedAdminRelationships"
STEP = 10.0  # seconds each intermediate status lasts in these tests (moved through with the clock)


# A sandbox of this module's own: its relationships and clock moves stay out of the other tests'.
@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    process = SandboxProcess(tmp_path_factory.mktemp("gdap-writes"), "--customers", "8")
    process.start()
    previous = add_to_environment(process.endpoints["ca_bundle"])
    yield process
    if previous is None:
        os.environ.pop("REQUESTS_CA_BUNDLE", None)
    else:
        os.environ["REQUESTS_CA_BUNDLE"] = previous
    process.stop()


@pytest.fixture(scope="module")
def ep(sandbox):
    return sandbox.endpoints


@pytest.fixture(scope="module")
def api(ep):
    return testing.TestApi(ep)


@pytest.fixture(scope="module")
def authority(ep):
    return f"{ep['cloud']['login']}/{ep['partner_tenant_id']}"


@pytest.fixture(scope="module")
def graph(ep, api, authority):
    result = device_code_token(api, authority, catalog.AZURE_CLI_APP_ID, [ep["cloud"]["graph"] + "/.default"],
                               ep["accounts"]["admin"]["upn"])
    return graph_session(ep, result["access_token"])


def kind(ep, name):
    return next(c for c in ep["customers"] if c["kind"] == name)


def roles(*ids):
    return {"unifiedRoles": [{"roleDefinitionId": role} for role in ids]}


def app_with(graph, name, permission):
    app = create_app(graph, name)
    access = graph.get(f"/applications/{app['object_id']}").json()["requiredResourceAccess"]
    for entry in access:
        if entry["resourceAppId"] == catalog.GRAPH_APP_ID:
            entry["resourceAccess"].append({"id": permission, "type": "Scope"})
    assert graph.patch(f"/applications/{app['object_id']}", json={"requiredResourceAccess": access}).status_code == 204
    return app


@pytest.fixture(scope="module")
def timing(api):
    before = api.get("/gdap-timing")
    api.call("PUT", "/gdap-timing", {"activation": STEP, "assignment": STEP, "termination": STEP,
                                     "deprovisioning": STEP})
    yield
    api.call("PUT", "/gdap-timing", before)


@pytest.fixture(scope="module")
def writer(graph, ep, authority, timing):
    """The service account (an admin agent) with DelegatedAdminRelationship.ReadWrite.All."""
    app = app_with(graph, "GDAP writes conformance app", GDAP_READ_WRITE)
    result, client = consent(ep, authority, app, scopes=[ep["cloud"]["graph"] + "/.default"])
    assert "access_token" in result, result
    return graph_session(ep, result["access_token"])


@pytest.fixture(scope="module")
def reader(graph, ep, authority):
    app = app_with(graph, "GDAP read-only conformance app", GDAP_READ)
    result, _client = consent(ep, authority, app, scopes=[ep["cloud"]["graph"] + "/.default"])
    return graph_session(ep, result["access_token"])


def advance(api, seconds):
    api.call("POST", "/clock", {"advance_seconds": seconds})


def new_relationship(writer, ep, name, customer_kind="none", role_ids=(CLOUD_APPLICATION_ADMINISTRATOR,),
                     **extra):
    body = {"displayName": name, "duration": "P730D", "customer": {"tenantId": kind(ep, customer_kind)["tenant_id"]},
            "accessDetails": roles(*role_ids), **extra}
    created = writer.post(RELATIONSHIPS, json=body)
    assert created.status_code == 201, created.text
    return created


def status(writer, relationship_id):
    return writer.get(f"{RELATIONSHIPS}/{relationship_id}").json()["status"]


def lock(writer, relationship_id):
    locked = writer.post(f"{RELATIONSHIPS}/{relationship_id}/requests", json={"action": "lockForApproval"})
    assert locked.status_code == 201, locked.text
    return locked


def active_relationship(writer, api, ep, name, role_ids=(CLOUD_APPLICATION_ADMINISTRATOR, DIRECTORY_READERS),
                        customer_kind="none"):
    relationship = new_relationship(writer, ep, name, customer_kind, role_ids).json()
    lock(writer, relationship["id"])
    assert api.call("POST", "/gdap-approve", {"id": relationship["id"]})["approved"] == [relationship["id"]]
    advance(api, STEP)
    assert status(writer, relationship["id"]) == "active"
    return writer.get(f"{RELATIONSHIPS}/{relationship['id']}").json()


def test_create_returns_the_created_relationship(writer, ep):
    created = new_relationship(writer, ep, "Conformance create")
    body = created.json()
    assert created.headers["Location"].endswith(f"{RELATIONSHIPS}/{body['id']}")
    assert body["status"] == "created" and body["@odata.etag"].startswith('W/"')
    assert body["activatedDateTime"] is None and body["endDateTime"] is None
    assert body["duration"] == "P730D" and body["autoExtendDuration"] == "PT0S"
    assert body["customer"]["tenantId"] == kind(ep, "none")["tenant_id"]


def test_lifecycle_from_created_to_active(writer, api, ep, http):
    """created -> (lockForApproval) approvalPending -> (the customer's approval at the invitation
    link) approved -> activating -> active, with activatedDateTime and endDateTime then."""
    relationship = new_relationship(writer, ep, "Conformance lifecycle").json()
    url = f"{RELATIONSHIPS}/{relationship['id']}"
    renamed = writer.patch(url, json={"displayName": "Conformance lifecycle 2"},
                           headers={"If-Match": relationship["@odata.etag"]})
    assert renamed.status_code == 200 and renamed.json()["displayName"] == "Conformance lifecycle 2"
    assert renamed.json()["@odata.etag"] != relationship["@odata.etag"]
    request = lock(writer, relationship["id"])
    assert request.json()["action"] == "lockForApproval" and request.json()["status"] == "created"
    assert request.headers["Location"].endswith(f"/requests/{request.json()['id']}")
    assert status(writer, relationship["id"]) == "approvalPending"
    listed = writer.get(f"{url}/requests").json()["value"]
    assert [r["id"] for r in listed] == [request.json()["id"]]
    advance(api, 1)
    assert writer.get(f"{url}/requests/{request.json()['id']}").json()["status"] == "succeeded"
    customer = kind(ep, "none")
    link = f"{ep['cloud']['admin_center']}/AdminPortal/Home#/partners/invitation/granularAdminRelationships/" \
           f"{relationship['id']}"
    assert "Approve all" not in http.get(link.split("#", maxsplit=1)[0]).text  # the page behind the link opens with a script
    approve_invitation(http, link, customer["admin"]["upn"], customer["admin"]["password"])
    assert status(writer, relationship["id"]) == "approved"
    advance(api, STEP / 2)
    assert status(writer, relationship["id"]) == "activating"
    advance(api, STEP / 2)
    active = writer.get(url).json()
    assert active["status"] == "active" and active["activatedDateTime"] and active["endDateTime"]


def test_the_invitation_needs_the_customers_global_administrator(writer, ep, http):
    relationship = new_relationship(writer, ep, "Conformance approver").json()
    lock(writer, relationship["id"])
    link = f"{ep['cloud']['admin_center']}/AdminPortal/partners/invitation/granularAdminRelationships/" \
           f"{relationship['id']}"
    other = kind(ep, "dap")["admin"]
    with pytest.raises(SignInError, match="Global Administrator of this customer"):
        approve_invitation(http, link, other["upn"], other["password"])
    with pytest.raises(SignInError, match="password is incorrect"):
        approve_invitation(http, link, kind(ep, "none")["admin"]["upn"], "wrong")
    user = f"user1@{kind(ep, 'none')['domain']}"
    with pytest.raises(SignInError):
        approve_invitation(http, link, user, "wrong")
    assert status(writer, relationship["id"]) == "approvalPending"


def test_update_needs_the_current_etag(writer, ep):
    relationship = new_relationship(writer, ep, "Conformance etag").json()
    url = f"{RELATIONSHIPS}/{relationship['id']}"
    missing = writer.patch(url, json={"duration": "P30D"})
    assert missing.status_code == 400 and "If-Match" in missing.json()["error"]["message"]
    assert writer.patch(url, json={"duration": "P30D"}, headers={"If-Match": relationship["@odata.etag"]}).ok
    stale = writer.patch(url, json={"duration": "P60D"}, headers={"If-Match": relationship["@odata.etag"]})
    assert stale.status_code == 412 and stale.json()["error"]["code"] == "PreconditionFailed"
    assert writer.delete(url, headers={"If-Match": relationship["@odata.etag"]}).status_code == 412


@pytest.mark.parametrize("change, sentence", [
    ({"displayName": "x" * 51}, "longer than 50"),
    ({"displayName": "Conformance taken"}, "already used"),
    ({"duration": "P0D"}, "between P1D and P2Y"),
    ({"duration": "P731D"}, "between P1D and P2Y"),
    ({"duration": "P3Y"}, "between P1D and P2Y"),
    ({"duration": "two years"}, "between P1D and P2Y"),
    ({"autoExtendDuration": "P90D"}, "P0D, PT0S or P180D"),
    ({"autoExtendDuration": "P180D", "accessDetails": roles(GLOBAL_ADMINISTRATOR)}, "cannot be extended"),
    ({"accessDetails": roles("00000000-0000-0000-0000-000000000001")}, "not a built-in role"),
    ({"accessDetails": {"unifiedRoles": []}}, "at least one"),
    ({"customer": {"tenantId": "00000000-0000-0000-0000-000000000002"}}, "not a customer"),
    ({"status": "active"}, "does not exist on type"),
])
def test_create_refuses_what_graph_refuses(writer, ep, change, sentence):
    if change.get("displayName") == "Conformance taken":
        writer.post(RELATIONSHIPS, json={"displayName": "Conformance taken", "duration": "P1D", "accessDetails": roles(
            DIRECTORY_READERS), "customer": {"tenantId": kind(ep, "none")["tenant_id"]}})
        change = {"displayName": "conformance TAKEN"}  # unique regardless of case
    body = {"displayName": "Conformance refused", "duration": "P730D", "accessDetails": roles(DIRECTORY_READERS),
            "customer": {"tenantId": kind(ep, "none")["tenant_id"]}, **change}
    refused = writer.post(RELATIONSHIPS, json=body)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "BadRequest"
    assert sentence in refused.json()["error"]["message"]


def test_durations_in_years_and_days(writer, ep):
    created = new_relationship(writer, ep, "Conformance P2Y", duration="P2Y")
    assert created.json()["duration"] == "P730D"


def test_delete_only_while_created(writer, api, ep):
    relationship = new_relationship(writer, ep, "Conformance delete").json()
    url = f"{RELATIONSHIPS}/{relationship['id']}"
    assert writer.delete(url, headers={"If-Match": relationship["@odata.etag"]}).status_code == 204
    assert writer.get(url).status_code == 404
    locked = new_relationship(writer, ep, "Conformance delete locked").json()
    lock(writer, locked["id"])
    etag = writer.get(f"{RELATIONSHIPS}/{locked['id']}").json()["@odata.etag"]
    refused = writer.delete(f"{RELATIONSHIPS}/{locked['id']}", headers={"If-Match": etag})
    assert refused.status_code == 400 and "approvalPending" in refused.json()["error"]["message"]
    patched = writer.patch(f"{RELATIONSHIPS}/{locked['id']}", json={"displayName": "n"}, headers={"If-Match": etag})
    assert patched.status_code == 400
    again = writer.post(f"{RELATIONSHIPS}/{locked['id']}/requests", json={"action": "lockForApproval"})
    assert again.status_code == 400


def test_an_active_relationship_changes_only_auto_extend_and_loses_global_administrator(writer, api, ep):
    plain = active_relationship(writer, api, ep, "Conformance active")
    url = f"{RELATIONSHIPS}/{plain['id']}"
    renamed = writer.patch(url, json={"displayName": "other"}, headers={"If-Match": plain["@odata.etag"]})
    assert renamed.status_code == 400 and "autoExtendDuration" in renamed.json()["error"]["message"]
    extended = writer.patch(url, json={"autoExtendDuration": "P180D"}, headers={"If-Match": plain["@odata.etag"]})
    assert extended.status_code == 200 and extended.json()["autoExtendDuration"] == "P180D"
    with_ga = active_relationship(writer, api, ep, "Conformance active GA", (GLOBAL_ADMINISTRATOR, DIRECTORY_READERS))
    url = f"{RELATIONSHIPS}/{with_ga['id']}"
    refused = writer.patch(url, json={"autoExtendDuration": "P180D"}, headers={"If-Match": with_ga["@odata.etag"]})
    assert refused.status_code == 400 and "Global Administrator" in refused.json()["error"]["message"]
    other_role = writer.patch(url, json={"accessDetails": roles(GLOBAL_ADMINISTRATOR)},
                              headers={"If-Match": with_ga["@odata.etag"]})
    assert other_role.status_code == 400
    removed = writer.patch(url, json={"accessDetails": roles(DIRECTORY_READERS)},
                           headers={"If-Match": with_ga["@odata.etag"]})
    assert removed.status_code == 200 and removed.json()["accessDetails"] == roles(DIRECTORY_READERS)


def test_terminate_goes_through_termination_requested_and_terminating(writer, api, ep):
    relationship = active_relationship(writer, api, ep, "Conformance terminate")
    refused = writer.post(f"{RELATIONSHIPS}/{relationship['id']}/requests", json={"action": "approve"})
    assert refused.status_code == 400 and "indirect reseller" in refused.json()["error"]["message"]
    assert writer.post(f"{RELATIONSHIPS}/{relationship['id']}/requests", json={"action": "terminate"}).status_code == 201
    assert status(writer, relationship["id"]) == "terminationRequested"
    advance(api, STEP / 2)
    assert status(writer, relationship["id"]) == "terminating"
    advance(api, STEP / 2)
    ended = writer.get(f"{RELATIONSHIPS}/{relationship['id']}").json()
    assert ended["status"] == "terminated" and ended["endDateTime"]
    again = writer.post(f"{RELATIONSHIPS}/{relationship['id']}/requests", json={"action": "terminate"})
    assert again.status_code == 400


def test_an_active_relationship_past_its_end_is_expiring_then_expired(writer, api, ep):
    relationship = active_relationship(writer, api, ep, "Conformance expiry")
    assert api.call("POST", "/gdap-relationship", {"id": relationship["id"], "endsInDays": 0})["affected"] == 1
    assert status(writer, relationship["id"]) == "expiring"
    advance(api, STEP)
    assert status(writer, relationship["id"]) == "expired"


def test_access_assignments_lifecycle(writer, api, ep):
    relationship = active_relationship(writer, api, ep, "Conformance assignments")
    base = f"{RELATIONSHIPS}/{relationship['id']}/accessAssignments"
    group = ep["gdap_group_ids"]["tier2"]
    container = {"accessContainerId": group, "accessContainerType": "securityGroup"}
    outside = writer.post(base, json={"accessContainer": container, "accessDetails": roles(HELPDESK_ADMINISTRATOR)})
    assert outside.status_code == 400 and "not one of the relationship's roles" in outside.json()["error"]["message"]
    not_group = writer.post(base, json={"accessContainer": dict(container, accessContainerId=ep["accounts"][
        "service"]["object_id"]), "accessDetails": roles(DIRECTORY_READERS)})
    assert not_group.status_code == 400 and "security group" in not_group.json()["error"]["message"]
    created = writer.post(base, json={"accessContainer": container, "accessDetails": roles(DIRECTORY_READERS)})
    assert created.status_code == 201 and created.json()["status"] == "pending"
    assert created.headers["Location"].endswith(f"/accessAssignments/{created.json()['id']}")
    duplicate = writer.post(base, json={"accessContainer": container, "accessDetails": roles(DIRECTORY_READERS)})
    assert duplicate.status_code == 409
    advance(api, STEP)
    item = f"{base}/{created.json()['id']}"
    current = writer.get(item).json()
    assert current["status"] == "active"
    same = writer.patch(item, json={"accessDetails": roles(DIRECTORY_READERS)}, headers={"If-Match": current["@odata.etag"]})
    assert same.status_code == 200 and same.json()["@odata.etag"] == current["@odata.etag"]
    changed = writer.patch(item, json={"accessDetails": roles(DIRECTORY_READERS, CLOUD_APPLICATION_ADMINISTRATOR)},
                           headers={"If-Match": current["@odata.etag"]})
    assert changed.status_code == 202 and "/operations/" in changed.headers["Location"]
    assert int(changed.headers["Retry-After"]) >= 1
    stale = writer.patch(item, json={"accessDetails": roles(DIRECTORY_READERS)}, headers={"If-Match": current["@odata.etag"]})
    assert stale.status_code == 412
    operation_path = "/tenantRelationships" + changed.headers["Location"].split("/tenantRelationships", 1)[1]
    assert writer.get(operation_path).json()["status"] == "notStarted"
    advance(api, STEP / 2)
    assert writer.get(operation_path).json()["status"] == "running"
    assert writer.get(item).json()["accessDetails"] == roles(DIRECTORY_READERS)
    advance(api, STEP / 2)
    operation = writer.get(operation_path).json()
    assert operation["status"] == "succeeded" and operation["operationType"] == "delegatedAdminAccessAssignmentUpdate"
    assert [o["id"] for o in writer.get(f"{RELATIONSHIPS}/{relationship['id']}/operations").json()["value"]] == [
        operation["id"]]
    updated = writer.get(item).json()
    assert updated["accessDetails"] == roles(DIRECTORY_READERS, CLOUD_APPLICATION_ADMINISTRATOR)
    assert writer.delete(item, headers={"If-Match": current["@odata.etag"]}).status_code == 412
    assert writer.delete(item, headers={"If-Match": updated["@odata.etag"]}).status_code == 204
    assert writer.get(item).json()["status"] == "deleting"
    advance(api, STEP)
    assert writer.get(item).json()["status"] == "deleted"


def test_assignments_need_an_active_relationship(writer, ep):
    relationship = new_relationship(writer, ep, "Conformance assignment early").json()
    refused = writer.post(f"{RELATIONSHIPS}/{relationship['id']}/accessAssignments", json={
        "accessContainer": {"accessContainerId": ep["gdap_group_ids"]["tier2"], "accessContainerType": "securityGroup"},
        "accessDetails": roles(CLOUD_APPLICATION_ADMINISTRATOR)})
    assert refused.status_code == 400 and "created" in refused.json()["error"]["message"]


def test_writes_need_read_write_and_an_admin_agent(reader, graph, ep):
    body = {"displayName": "Conformance denied", "duration": "P1D", "accessDetails": roles(DIRECTORY_READERS),
            "customer": {"tenantId": kind(ep, "none")["tenant_id"]}}
    for session in (reader, graph):  # Read.All only; the admin's Azure CLI token has neither
        refused = session.post(RELATIONSHIPS, json=body)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "Authorization_RequestDenied"
    assert reader.get(RELATIONSHIPS).status_code == 200


@pytest.mark.parametrize("query", [{"$select": "nope"}, {"$orderby": "nope desc"}, {"$filter": "nope eq 'x'"}])
def test_an_unknown_property_is_a_graph_400(writer, query):
    refused = writer.get(RELATIONSHIPS, params=query)
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == "BadRequest" and "Could not find a property named 'nope'" in error["message"]
    assert set(error) == {"code", "message", "innerError"}


def test_odata_select_count_orderby_top(writer, ep):
    everything = writer.get(RELATIONSHIPS, params={"$top": "300"}).json()["value"]
    counted = writer.get(RELATIONSHIPS, params={"$count": "true", "$top": "2", "$select": "displayName,status"}).json()
    assert counted["@odata.count"] == len(everything) and len(counted["value"]) == 2
    assert set(counted["value"][0]) == {"@odata.type", "@odata.etag", "id", "displayName", "status"}
    ordered = writer.get(RELATIONSHIPS, params={"$orderby": "displayName desc", "$top": "300"})
    names = [r["displayName"] for r in ordered.json()["value"]]
    assert names == sorted(names, key=str.lower, reverse=True)
    assert writer.get(RELATIONSHIPS, params={"$count": "maybe"}).status_code == 400
    [ready] = writer.get(RELATIONSHIPS, params={
        "$filter": f"customer/tenantId eq '{kind(ep, 'gdap_ready')['tenant_id']}'"}).json()["value"]
    assignments = writer.get(f"{RELATIONSHIPS}/{ready['id']}/accessAssignments",
                             params={"$select": "status", "$count": "true", "$filter": "status eq 'active'"}).json()
    assert assignments["@odata.count"] == 1 and set(assignments["value"][0]) >= {"id", "status"}
    assert "accessDetails" not in assignments["value"][0]


@pytest.fixture(scope="module")
def partner_center_token(ep, authority, graph):
    app = app_with(graph, "GDAP consent checks app", GDAP_READ)
    result, _client = consent(ep, authority, app)
    return app, result["access_token"]


@pytest.mark.parametrize("body, content_type, status_code, sentence", [
    (b"applicationId=x", "application/x-www-form-urlencoded", 415, "Content-Type"),
    ({"applicationId": "not-a-guid", "applicationGrants": []}, "application/json", 400, "not a valid application id"),
    ({"applicationGrants": []}, "application/json", 400, "required"),
    ({"applicationId": "APP", "applicationGrants": []}, "application/json", 400, "at least one grant"),
    ({"applicationId": "APP", "applicationGrants": [{"enterpriseApplicationId": "graph", "scope": "x"}]},
     "application/json", 400, "a GUID"),
    ({"applicationId": "APP", "applicationGrants": [{"enterpriseApplicationId": catalog.GRAPH_APP_ID, "scope": " , "}]},
     "application/json", 400, "needs a scope"),
])
def test_partner_center_checks_a_consent_body(http, ep, partner_center_token, body, content_type, status_code,
                                              sentence):
    app, token = partner_center_token
    url = f"{ep['cloud']['partner_center']}/v1/customers/{kind(ep, 'gdap_ready')['tenant_id']}/applicationconsents"
    headers = {"Authorization": "Bearer " + token, "Content-Type": content_type}
    if isinstance(body, dict):
        body = requests.models.complexjson.dumps(body).replace('"APP"', f'"{app["app_id"]}"').encode()
    refused = http.post(url, data=body, headers=headers)
    assert refused.status_code == status_code and sentence in refused.json()["description"], refused.text
