"""gdap_relationship against a sandbox of its own: a relationship requested (created and locked
for approval, with its invitation link), the same task again unchanged, check mode sending
nothing, Microsoft's constraints refused before any request, and termination after approval."""
from __future__ import annotations

import time

import os
import sys

import pytest
import requests

from conftest import ROOT, playbook_runner
from sandbox import catalog
from sandbox.testing import SandboxProcess
from sandbox.testing import TestApi as SandboxApi

sys.path.insert(0, str(ROOT / "tests" / "sandbox"))
from conformance_helpers import consent, device_code_token, graph_session  # noqa: E402  (the sandbox tests' helpers)
from test_gdap_writes import GDAP_READ_WRITE, app_with  # noqa: E402

RELATIONSHIPS = "/v1.0/tenantRelationships/delegatedAdminRelationships"
ROLES = ["Cloud Application Administrator", "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"]  # by name and by template id


@pytest.fixture(scope="module")
def world(tmp_path_factory, collections_path):
    process = SandboxProcess(tmp_path_factory.mktemp("sandbox-gdap-relationship"), "--customers", "2")
    process.start()
    ep = process.endpoints
    api = SandboxApi(ep)
    api.call("PUT", "/gdap-timing", {key: 0.1 for key in api.get("/gdap-timing")})
    # The service account (an admin agent) consents to an app with DelegatedAdminRelationship.ReadWrite.All,
    # which the SAM app does not request: its delegated Graph token is the module's.
    authority = f"{ep['cloud']['login']}/{ep['partner_tenant_id']}"
    previous = os.environ.get("REQUESTS_CA_BUNDLE")
    os.environ["REQUESTS_CA_BUNDLE"] = ep["ca_bundle"]  # what the sandbox tests' helpers expect
    admin = device_code_token(api, authority, catalog.AZURE_CLI_APP_ID, [ep["cloud"]["graph"] + "/.default"],
                              ep["accounts"]["admin"]["upn"])
    app = app_with(graph_session(ep, admin["access_token"]), "GDAP relationship writer", GDAP_READ_WRITE)
    result, _client = consent(ep, authority, app, scopes=[ep["cloud"]["graph"] + "/.default"])
    token = result["access_token"]
    if previous is None:
        os.environ.pop("REQUESTS_CA_BUNDLE", None)
    else:
        os.environ["REQUESTS_CA_BUNDLE"] = previous
    graph = requests.Session()
    graph.trust_env = False
    graph.verify = ep["ca_file"]
    graph.headers["Authorization"] = f"Bearer {token}"
    run = playbook_runner(ep, collections_path, tmp_path_factory.mktemp("runs-gdap-relationship"))
    groups = graph_session(ep, admin["access_token"]).get("/groups").json()["value"]
    yield {"ep": ep, "api": api, "graph": graph, "token": token, "run": run,
           "group": [g["id"] for g in groups if g.get("securityEnabled")][0],
           "customers": [c["tenant_id"] for c in ep["customers"]]}
    process.stop()


def relationships(world, name):
    response = world["graph"].get(world["ep"]["cloud"]["graph"] + RELATIONSHIPS, params={"$top": "300"})
    response.raise_for_status()
    return [r for r in response.json()["value"] if r["displayName"].startswith(name)]


def gdap(world, check=False, **module_args):
    run = world["run"]("gdap_relationship.yml", {"access_token": world["token"], "module_args": module_args},
                       check=check)
    assert run.ok, run
    return run.task("Result")["msg"]


def active(world, name):
    for _attempt in range(50):
        [relationship] = relationships(world, name)
        if relationship["status"] == "active":
            return relationship
        time.sleep(0.2)
    raise AssertionError(f"{name} did not become active")


def assign(world, **module_args):
    run = world["run"]("gdap_access_assignment.yml", {"access_token": world["token"], "module_args": module_args})
    assert run.ok, run
    return run.task("Result")["msg"]


def test_create_lock_then_unchanged_then_terminate(world):
    args = {"customer_tenants": world["customers"], "display_name": "SAM test {tenant_id}", "roles": ROLES}
    preview = gdap(world, check=True, **args)
    assert not preview.get("failed"), preview
    assert preview["changed"] and [e["action"] for e in preview["customers"]] == ["create", "create"]
    assert relationships(world, "SAM test") == []  # check mode sent nothing

    created = gdap(world, **args)
    assert not created.get("failed"), created
    assert created["changed"] and [e["action"] for e in created["customers"]] == ["create", "create"]
    made = relationships(world, "SAM test")
    assert sorted(r["customer"]["tenantId"] for r in made) == sorted(world["customers"])
    assert {r["status"] for r in made} == {"approvalPending"}
    assert created["diff"]["after"][world["customers"][0]]["status"] == "approvalPending"
    links = {entry["tenant_id"]: entry["invitation_link"] for entry in created["awaiting_approval"]}
    for relationship in made:
        assert links[relationship["customer"]["tenantId"]].endswith(
            "/partners/invitation/granularAdminRelationships/" + relationship["id"])
        assert sorted(r["roleDefinitionId"] for r in relationship["accessDetails"]["unifiedRoles"]) == [
            "158c047a-c907-4556-b7ef-446551a6b5f7", "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"]

    again = gdap(world, **args)
    assert not again.get("failed") and not again["changed"], again
    assert [e["action"] for e in again["customers"]] == ["none", "none"]
    assert len(relationships(world, "SAM test")) == 2

    first = world["customers"][0]
    world["api"].call("POST", "/gdap-approve", {"tenant_id": first})
    active(world, f"SAM test {first}")
    terminate = {**args, "customer_tenants": [first], "state": "terminated"}
    ended = gdap(world, **terminate)
    assert not ended.get("failed") and ended["changed"], ended
    assert ended["customers"][0]["action"] == "terminate"
    status = relationships(world, f"SAM test {first}")[0]["status"]
    assert status in ("terminationRequested", "terminating", "terminated")


@pytest.mark.parametrize("args, sentence", [
    ({"duration_days": 731}, "duration_days 731 is outside what Graph allows"),
    ({"auto_extend_duration": "P90D"}, "auto_extend_duration 'P90D' is not one Graph accepts"),
    ({"roles": ["Global Administrator"], "auto_extend_duration": "P180D"},
     "A relationship with Global Administrator cannot auto-extend"),
    ({"roles": ["Coffee Maker"]}, "roles entry 'Coffee Maker' is not a built-in Entra role"),
    ({"display_name": "x" * 51}, "Graph allows at most 50"),
])
def test_constraints_refused_before_any_request(world, args, sentence):
    refused = gdap(world, **{"customer_tenants": world["customers"], "display_name": "SAM refused {tenant_id}",
                             "roles": ROLES, **args})
    assert refused["failed"] and sentence in refused["msg"], refused
    assert "Traceback" not in refused["msg"]
    assert relationships(world, "SAM refused") == [] and relationships(world, "x" * 50) == []


def test_access_assignment_present_unchanged_conflict_absent(world):
    customer = world["customers"][1]
    made = gdap(world, customer_tenants=[customer], display_name="SAM assign {tenant_id}", roles=ROLES)
    assert not made.get("failed"), made
    world["api"].call("POST", "/gdap-approve", {"tenant_id": customer})
    relationship = active(world, "SAM assign")
    args = {"relationship_id": relationship["id"], "group_id": world["group"], "roles": ["Directory Readers"]}
    preview = world["run"]("gdap_access_assignment.yml", {"access_token": world["token"], "module_args": args},
                           check=True).task("Result")["msg"]
    assert preview["changed"] and preview["action"] == "create", preview
    url = world["ep"]["cloud"]["graph"] + RELATIONSHIPS + f"/{relationship['id']}/accessAssignments"
    assert world["graph"].get(url).json()["value"] == []  # check mode sent nothing

    created = assign(world, **args)
    assert created["changed"] and created["action"] == "create", created
    [assignment] = world["graph"].get(url).json()["value"]
    assert [r["roleDefinitionId"] for r in assignment["accessDetails"]["unifiedRoles"]] == [
        "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"]
    again = assign(world, **args)
    assert not again.get("failed") and not again["changed"], again

    for _attempt in range(50):  # Graph changes only an assignment it has applied
        assignment = world["graph"].get(f"{url}/{assignment['id']}").json()
        if assignment["status"] == "active":
            break
        time.sleep(0.2)
    stale = assignment["@odata.etag"]
    changed = assign(world, **{**args, "roles": ROLES})
    assert changed["changed"] and changed["action"] == "update", changed
    conflict = assign(world, **{**args, "roles": ["Directory Readers"], "etag": stale})
    assert conflict["failed"] and "changed since its etag was read" in conflict["msg"], conflict
    assert "Traceback" not in conflict["msg"]

    removed = assign(world, **{**args, "state": "absent"})
    assert removed["changed"] and removed["action"] == "delete", removed
    assert {a["status"] for a in world["graph"].get(url).json()["value"]} <= {"deleting", "deleted"}


def approved(world, name):
    """The relationship of that name, approved through the test API and active."""
    [relationship] = relationships(world, name)
    world["api"].call("POST", "/gdap-approve", {"id": relationship["id"]})
    return active(world, name)


# Each test below asks for a role set no other test uses: a successor is any live relationship of
# the customer with exactly the desired roles, whatever its name.
def test_auto_extension_follows_while_active_with_its_etag(world):
    customer = world["customers"][0]
    args = {"customer_tenants": [customer], "display_name": "SAM extend {tenant_id}", "roles": ["Billing Administrator"]}
    assert not gdap(world, **args).get("failed")
    pending = gdap(world, **{**args, "auto_extend_duration": "P180D"})
    assert not pending["changed"] and "only while it is active" in pending["customers"][0]["message"], pending
    relationship = approved(world, f"SAM extend {customer}")
    assert relationship["autoExtendDuration"] in ("PT0S", "P0D")

    preview = gdap(world, check=True, **{**args, "auto_extend_duration": "P180D"})
    assert preview["changed"] and preview["customers"][0]["action"] == "update", preview
    assert preview["diff"]["after"][customer]["auto_extend_duration"] == "P180D"
    assert relationships(world, f"SAM extend {customer}")[0]["autoExtendDuration"] in ("PT0S", "P0D")

    extended = gdap(world, **{**args, "auto_extend_duration": "P180D"})
    assert extended["changed"] and extended["customers"][0]["action"] == "update", extended
    [now] = relationships(world, f"SAM extend {customer}")
    assert now["autoExtendDuration"] == "P180D" and now["@odata.etag"] != relationship["@odata.etag"]
    again = gdap(world, **{**args, "auto_extend_duration": "P180D"})
    assert not again["changed"] and again["customers"][0]["action"] == "none", again
    assert gdap(world, **{**args, "auto_extend_duration": "P0D"})["customers"][0]["action"] == "update"
    assert relationships(world, f"SAM extend {customer}")[0]["autoExtendDuration"] in ("PT0S", "P0D")


def test_renewal_on_both_sides_of_the_days_then_its_successor_is_found(world):
    customer = world["customers"][0]
    roles = ["License Administrator"]
    args = {"customer_tenants": [customer], "display_name": "SAM renew {tenant_id}", "roles": roles,
            "successor_name": "SAMr {date} {tenant_id}"}
    assert not gdap(world, **args).get("failed")
    relationship = approved(world, f"SAM renew {customer}")
    world["api"].call("POST", "/gdap-relationship", {"id": relationship["id"], "endsInDays": 10})

    outside = gdap(world, **{**args, "renew_within_days": 9})
    assert not outside["changed"] and outside["customers"][0]["action"] == "none", outside
    preview = gdap(world, check=True, **{**args, "renew_within_days": 10})
    assert preview["changed"] and preview["customers"][0]["action"] == "renew", preview
    assert relationships(world, "SAMr ") == []  # check mode sent nothing

    renewed = gdap(world, **{**args, "renew_within_days": 10})
    entry = renewed["customers"][0]
    assert renewed["changed"] and entry["action"] == "renew", renewed
    [successor] = relationships(world, "SAMr ")
    today = time.strftime("%Y%m%d", time.gmtime())
    assert successor["displayName"] == f"SAMr {today} {customer}"
    assert successor["status"] == "approvalPending" and successor["customer"]["tenantId"] == customer
    assert [r["roleDefinitionId"] for r in successor["accessDetails"]["unifiedRoles"]] == [
        "4d6ac14f-3453-41d0-bef9-a3e0c569773a"]
    assert entry["invitation_link"].endswith("/granularAdminRelationships/" + successor["id"])
    assert renewed["awaiting_approval"] == [{"tenant_id": customer, "display_name": successor["displayName"],
                                             "invitation_link": entry["invitation_link"]}]
    assert "ends on" in entry["message"] and "requested its successor" in entry["message"]

    again = gdap(world, **{**args, "renew_within_days": 10})
    entry = again["customers"][0]
    assert not again["changed"] and entry["action"] == "none", again
    assert entry["successor"]["id"] == successor["id"] and entry["invitation_link"]
    assert len(relationships(world, "SAMr ")) == 1


def test_an_ended_relationship_is_an_error_unless_renewed(world):
    customer = world["customers"][1]
    roles = ["Exchange Administrator"]
    args = {"customer_tenants": [customer], "display_name": "SAM gone {tenant_id}", "roles": roles,
            "successor_name": "SAM gone next {tenant_id}"}
    assert not gdap(world, **args).get("failed")
    relationship = approved(world, f"SAM gone {customer}")
    world["api"].call("POST", "/gdap-relationship", {"id": relationship["id"], "status": "expired"})

    refused = gdap(world, **args)
    assert refused["failed"] and refused["customers"][0]["error_code"] == "relationship_ended", refused
    assert "is expired and Graph keeps the names of ended relationships: set renew_within_days" in refused["msg"]
    assert relationships(world, "SAM gone next") == []

    renewed = gdap(world, **{**args, "renew_within_days": 0})
    assert renewed["changed"] and renewed["customers"][0]["action"] == "renew", renewed
    assert [r["status"] for r in relationships(world, "SAM gone next")] == ["approvalPending"]
    taken = gdap(world, **{**args, "renew_within_days": 0, "roles": ["SharePoint Administrator"]})
    assert taken["failed"] and "is taken by another relationship" in taken["msg"], taken


def test_other_roles_are_reported_or_get_a_successor_when_asked(world):
    customer = world["customers"][1]
    args = {"customer_tenants": [customer], "display_name": "SAM roles {tenant_id}", "roles": ["Teams Administrator"],
            "successor_name": "SAM rnext {tenant_id}"}
    assert not gdap(world, **args).get("failed")
    wider = {**args, "roles": ["Teams Administrator", "Intune Administrator"]}
    reported = gdap(world, **wider)
    assert not reported["changed"] and "holds other roles (Teams Administrator)" in reported["customers"][0]["message"]
    assert "on_role_change=successor" in reported["customers"][0]["message"]

    replaced = gdap(world, **{**wider, "on_role_change": "successor"})
    entry = replaced["customers"][0]
    assert replaced["changed"] and entry["action"] == "replace", replaced
    [successor] = relationships(world, "SAM rnext")
    assert sorted(r["roleDefinitionId"] for r in successor["accessDetails"]["unifiedRoles"]) == [
        "3a2c62db-5318-420d-8d74-23affee5d9d5", "69091246-20e8-4a56-aa4d-066075b2a7a8"]
    again = gdap(world, **{**wider, "on_role_change": "successor"})
    assert not again["changed"] and again["customers"][0]["successor"]["id"] == successor["id"], again
    assert [r["status"] for r in relationships(world, "SAM roles")] == ["approvalPending"]  # kept until terminated


def test_many_assignments_in_one_task_wait_until_active(world):
    """Two relationships, one task: each gets the group, the task returns once Graph made both
    active; a relationship that is not active is its own entry's error and the other goes on."""
    roles = ["Service Support Administrator"]
    ids = []
    for customer in world["customers"]:
        assert not gdap(world, customer_tenants=[customer], display_name="SAM many {tenant_id}", roles=roles).get("failed")
        ids.append(approved(world, f"SAM many {customer}")["id"])
    assert not gdap(world, customer_tenants=[world["customers"][0]], display_name="SAM idle {tenant_id}",
                    roles=["Security Administrator"]).get("failed")
    [idle] = relationships(world, "SAM idle")
    world["api"].call("PUT", "/gdap-timing", {"assignment": 1.5})
    try:
        items = [{"relationship_id": rid, "group_id": world["group"]} for rid in ids]
        items.append({"relationship_id": idle["id"], "group_id": world["group"]})
        preview = world["run"]("gdap_access_assignment.yml", {"access_token": world["token"], "module_args": {
            "assignments": items, "wait": True, "fail_on_customer_error": False}}, check=True).task("Result")["msg"]
        assert [e["action"] for e in preview["assignments"]] == ["create", "create", "none"], preview
        done = assign(world, assignments=items, wait=True, wait_timeout=30, fail_on_customer_error=False)
        entries = done["assignments"]
        assert done["changed"] and [e["action"] for e in entries] == ["create", "create", "none"], done
        assert [e["assignment"]["status"] for e in entries[:2]] == ["active", "active"], done
        assert [e["tenant_id"] for e in entries[:2]] == world["customers"]
        assert entries[2]["error_code"] == "relationship_not_active" and "approvalPending" in entries[2]["error"]
        strict = world["run"]("gdap_access_assignment.yml", {"access_token": world["token"], "module_args": {
            "assignments": items}}).task("Result")["msg"]
        assert strict["failed"] and strict["msg"].startswith("1 of 3 access assignments gave an error; first, "
                                                             f"relationship {idle['id']}: "), strict

        removed = assign(world, assignments=[dict(items[0], state="absent")], wait=True, wait_timeout=30)
        assert removed["changed"] and removed["assignments"][0]["action"] == "delete", removed
        url = world["ep"]["cloud"]["graph"] + RELATIONSHIPS + f"/{ids[0]}/accessAssignments"
        assert {a["status"] for a in world["graph"].get(url).json()["value"]} == {"deleted"}

        world["api"].call("PUT", "/gdap-timing", {"assignment": 60})
        slow = assign(world, assignments=[items[0]], wait=True, wait_timeout=1, fail_on_customer_error=False)
        assert slow["assignments"][0]["error_code"] == "assignment_timeout", slow
        assert "still being applied after 1 seconds (wait_timeout)" in slow["assignments"][0]["error"]
    finally:
        world["api"].call("PUT", "/gdap-timing", {key: 0.1 for key in world["api"].get("/gdap-timing")})
