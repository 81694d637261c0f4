"""Inside a customer tenant, as Microsoft documents it: subscribedSkus and the MFA registration
report (reads), users and groups (writes) on Graph, resource groups on Resource Manager, each
allowed by the roles the partner's agent holds there (Global Administrator under DAP, the access
assignment's roles under GDAP)."""
from __future__ import annotations

import msal
import pytest
import requests

from conformance_helpers import graph_session


def tenant_of(ep, kind):
    return next(c for c in ep["customers"] if c["kind"] == kind)


@pytest.fixture(scope="module")
def customer_token(ep, consented, sam_app):
    """A token of the service account through the SAM app in a customer tenant."""
    def token(kind, resource="graph"):
        tenant = tenant_of(ep, kind)["tenant_id"]
        client = msal.ConfidentialClientApplication(sam_app["app_id"], client_credential=sam_app["secret"],
                                                    authority=f"{ep['cloud']['login']}/{tenant}",
                                                    instance_discovery=False)
        scope = ep["cloud"]["graph" if resource == "graph" else "resource_manager"] + "/.default"
        result = client.acquire_token_by_refresh_token(consented["result"]["refresh_token"], [scope])
        assert "access_token" in result, result
        return result["access_token"]
    return token


def test_subscribed_skus_shape_and_roles(ep, customer_token):
    """Directory Readers (GDAP) and Global Administrator (DAP) read licences; the answer has
    Graph's subscribedSku fields."""
    for kind in ("dap", "gdap_consented"):
        answer = graph_session(ep, customer_token(kind)).get("/subscribedSkus")
        assert answer.status_code == 200, answer.text
        skus = answer.json()["value"]
        assert {s["skuPartNumber"] for s in skus} == {"O365_BUSINESS_PREMIUM", "AAD_PREMIUM"}
        for sku in skus:
            assert set(sku) >= {"id", "skuId", "skuPartNumber", "consumedUnits", "prepaidUnits", "capabilityStatus",
                                "appliesTo", "servicePlans", "accountId"}
            assert 0 <= sku["consumedUnits"] <= sku["prepaidUnits"]["enabled"]
            assert sku["accountId"] == tenant_of(ep, kind)["tenant_id"]


def test_registration_report_needs_its_permission(ep, customer_token):
    """userRegistrationDetails needs AuditLog.Read.All: Directory.AccessAsUser.All is not enough."""
    answer = graph_session(ep, customer_token("dap")).get("/reports/authenticationMethods/userRegistrationDetails")
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "Authorization_RequestDenied"


def test_user_lifecycle_as_global_administrator(ep, customer_token):
    graph = graph_session(ep, customer_token("dap"))
    domain = tenant_of(ep, "dap")["domain"]
    body = {"accountEnabled": True, "displayName": "Sandbox Test", "mailNickname": "sandboxtest",
            "userPrincipalName": f"sandboxtest@{domain}", "passwordProfile": {"password": "Very-Secret-123"}}
    created = graph.post("/users", json=body)
    assert created.status_code == 201, created.text
    user = created.json()
    assert "passwordProfile" not in user and user["userPrincipalName"] == body["userPrincipalName"]
    assert created.headers["Location"].endswith(f"/v1.0/users/{user['id']}")
    again = graph.post("/users", json=body)
    assert again.status_code == 400 and "already exists" in again.json()["error"]["message"]
    foreign = graph.post("/users", json=dict(body, userPrincipalName="someone@elsewhere.example"))
    assert foreign.status_code == 400 and "verified domain" in foreign.json()["error"]["message"]
    assert graph.post("/users", json=dict(body, passwordProfile=None)).status_code == 400
    assert graph.patch(f"/users/{user['id']}", json={"jobTitle": "Tester"}).status_code == 204
    assert graph.get(f"/users/{body['userPrincipalName']}").json()["jobTitle"] == "Tester"
    assert graph.patch(f"/users/{user['id']}", json={"notAField": 1}).status_code == 400
    assert graph.delete(f"/users/{user['id']}").status_code == 204
    gone = graph.delete(f"/users/{user['id']}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "Request_ResourceNotFound"


def test_writes_follow_the_gdap_roles(ep, customer_token):
    """Cloud Application Administrator and Directory Readers may neither create users nor groups."""
    graph = graph_session(ep, customer_token("gdap_consented"))
    domain = tenant_of(ep, "gdap_consented")["domain"]
    user = graph.post("/users", json={"accountEnabled": True, "displayName": "x", "mailNickname": "x",
                                      "userPrincipalName": f"x@{domain}", "passwordProfile": {"password": "P-123456"}})
    assert user.status_code == 403 and user.json()["error"]["code"] == "Authorization_RequestDenied"
    group = graph.post("/groups", json={"displayName": "x", "mailEnabled": False, "mailNickname": "x",
                                        "securityEnabled": True})
    assert group.status_code == 403


def test_group_lifecycle(ep, customer_token):
    graph = graph_session(ep, customer_token("dap"))
    created = graph.post("/groups", json={"displayName": "Sandbox Team", "mailEnabled": False,
                                          "mailNickname": "sandboxteam", "securityEnabled": True})
    assert created.status_code == 201, created.text
    group_id = created.json()["id"]
    assert graph.post("/groups", json={"displayName": "no nickname", "mailEnabled": False,
                                       "securityEnabled": True}).status_code == 400
    assert graph.patch(f"/groups/{group_id}", json={"description": "d"}).status_code == 204
    assert graph.get(f"/groups/{group_id}").json()["description"] == "d"
    assert graph.delete(f"/groups/{group_id}").status_code == 204
    assert graph.get(f"/groups/{group_id}").status_code == 404


def test_resource_group_put_is_idempotent_and_delete_is_accepted(ep, customer_token):
    customer = tenant_of(ep, "dap")
    session = requests.Session()
    session.verify = ep["ca_bundle"]
    session.headers["Authorization"] = "Bearer " + customer_token("dap", "resource_manager")
    url = f"{ep['cloud']['resource_manager']}/subscriptions/{customer['subscription_id']}/resourcegroups/rg-Test"
    version = {"api-version": "2021-04-01"}
    first = session.put(url, params=version, json={"location": "westeurope", "tags": {"a": "b"}})
    assert first.status_code == 201, first.text
    assert first.json()["id"] == f"/subscriptions/{customer['subscription_id']}/resourceGroups/rg-Test"
    again = session.put(url.replace("rg-Test", "RG-TEST"), params=version, json={"location": "westeurope"})
    assert again.status_code == 200 and again.json()["name"] == "rg-Test"
    moved = session.put(url, params=version, json={"location": "eastus"})
    assert moved.status_code == 409 and moved.json()["error"]["code"] == "InvalidResourceGroupLocation"
    assert session.put(url, params=version, json={}).json()["error"]["code"] == "LocationRequired"
    assert session.get(url, params=version).json()["location"] == "westeurope"
    assert session.delete(url, params=version).status_code == 202
    assert session.get(url, params=version).status_code == 404
    assert session.delete(url, params=version).status_code == 204
    other = session.put(url.replace(customer["subscription_id"], tenant_of(ep, "gdap_consented")["subscription_id"]),
                        params=version, json={"location": "westeurope"})
    assert other.status_code == 404 and other.json()["error"]["code"] == "SubscriptionNotFound"


@pytest.mark.parametrize("collection, kind, bodies", [
    ("users", "user", {"required": {"displayName": "x"}}),
    ("groups", "group", {"required": {"displayName": "x"}}),
])
def test_users_and_groups_refuse_alike(ep, customer_token, collection, kind, bodies):
    """Every write of a user or a group is refused as Graph does: no permission (403), an object
    that does not exist (404), a body that is not JSON, a property the type has not, a missing
    required property (400), in the same order of checks for both."""
    missing = "00000000-0000-0000-0000-00000000beef"
    allowed_writer = graph_session(ep, customer_token("dap"))
    reader = graph_session(ep, customer_token("gdap_consented"))
    assert reader.post(f"/{collection}", json=bodies["required"]).status_code == 403
    for method in ("patch", "delete"):
        refused = getattr(reader, method)(f"/{collection}/{missing}", json={})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "Authorization_RequestDenied"
        gone = getattr(allowed_writer, method)(f"/{collection}/{missing}", json={})
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "Request_ResourceNotFound"
        assert f"Resource '{missing}' does not exist" in gone.json()["error"]["message"]
    assert allowed_writer.get(f"/{collection}/{missing}").status_code == 404
    for answer, message in (
            (allowed_writer.post(f"/{collection}", data="not json", headers={"Content-Type": "application/json"}),
             "The request body is not valid JSON."),
            (allowed_writer.post(f"/{collection}", json={"noSuchProperty": 1}),
             f"Property 'noSuchProperty' does not exist on type 'microsoft.graph.{kind}'."),
            (allowed_writer.post(f"/{collection}", json=bodies["required"]),
             f"of resource '{kind.capitalize()}'.")):
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "Request_BadRequest", answer.text
        assert answer.json()["error"]["message"].endswith(message), answer.json()
