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
