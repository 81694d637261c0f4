"""Partner Center and Resource Manager, with requests."""
from __future__ import annotations

import pytest

from conformance_helpers import consent


@pytest.fixture(scope="module")
def pc(ep, consented):
    import requests
    http = requests.Session()
    http.verify = ep["ca_bundle"]
    token = consented["client"].acquire_token_by_refresh_token(
        consented["result"]["refresh_token"], [ep["cloud"]["partner_center"] + "/user_impersonation"])["access_token"]
    http.headers["Authorization"] = "Bearer " + token
    return http


def test_organization_profile(pc, ep):
    profile = pc.get(ep["cloud"]["partner_center"] + "/v1/profiles/organization",
                     headers={"MS-CorrelationId": "corr-1"})
    assert profile.status_code == 200
    assert profile.json()["tenantId"] == ep["partner_tenant_id"]
    assert profile.headers["MS-CorrelationId"] == "corr-1" and profile.headers["MS-RequestId"]


def test_customers_with_continuation_paging(pc, ep):
    base = ep["cloud"]["partner_center"] + "/v1"
    page = pc.get(base + "/customers", params={"size": 2}).json()
    seen = [c["id"] for c in page["items"]]
    while "next" in page["links"]:
        link = page["links"]["next"]
        headers = {h["key"]: h["value"] for h in link["headers"]}
        page = pc.get(base + link["uri"], headers=headers).json()
        seen += [c["id"] for c in page["items"]]
    assert sorted(seen) == sorted(c["tenant_id"] for c in ep["customers"])
    assert len(ep["customers"]) == 8  # four pages of two
    one = pc.get(base + f"/customers/{seen[0]}").json()
    assert one["companyProfile"]["tenantId"] == seen[0] and one["attributes"]["objectType"] == "Customer"


def test_application_consents(pc, ep, sam_app):
    customer = ep["customers"][0]["tenant_id"]
    url = ep["cloud"]["partner_center"] + f"/v1/customers/{customer}/applicationconsents"
    body = {"applicationId": sam_app["app_id"], "applicationGrants": [
        {"enterpriseApplicationId": "00000003-0000-0000-c000-000000000000", "scope": "Directory.Read.All"}]}
    assert pc.post(url, json=body).status_code == 201
    again = pc.post(url, json=body)
    assert again.status_code == 409 and again.json()["description"] == "Permission entry already exists."
    assert [c["applicationId"] for c in pc.get(url).json()["items"]] == [sam_app["app_id"]]
    assert pc.delete(f"{url}/{sam_app['app_id']}").status_code == 204


def test_partner_center_demands_mfa(ep, authority, sam_app, http):
    result, _client = consent(ep, authority, sam_app, user="nomfa")
    response = http.get(ep["cloud"]["partner_center"] + "/v1/profiles/organization",
                        headers={"Authorization": "Bearer " + result["access_token"]})
    assert response.status_code == 401
    assert response.json()["description"] == "Authentication failed. MFA required."


def test_resource_manager(ep, consented, http):
    client = consented["client"]
    token = client.acquire_token_by_refresh_token(consented["result"]["refresh_token"],
                                                  [ep["cloud"]["resource_manager"] + "/user_impersonation"])
    headers = {"Authorization": "Bearer " + token["access_token"]}
    url = ep["cloud"]["resource_manager"]
    assert http.get(url + "/subscriptions", headers=headers).status_code == 400  # api-version is required
    answer = http.get(url + "/subscriptions?api-version=2022-12-01", headers=headers)
    partner = answer.json()
    assert partner["value"] == [] and answer.headers["x-ms-request-id"]
    tenants = http.get(url + "/tenants?api-version=2022-12-01", headers=headers).json()["value"]
    assert tenants[0]["tenantId"] == ep["partner_tenant_id"]
    dap = next(c for c in ep["customers"] if c["relationship"] == "DAP")
    import msal
    customer_app = msal.ConfidentialClientApplication(
        client.client_id, client_credential=client.client_credential,
        authority=f"{ep['cloud']['login']}/{dap['tenant_id']}", instance_discovery=False)
    customer = customer_app.acquire_token_by_refresh_token(consented["result"]["refresh_token"],
                                                           [url + "/user_impersonation"])
    subscriptions = http.get(url + "/subscriptions?api-version=2022-12-01",
                             headers={"Authorization": "Bearer " + customer["access_token"]}).json()["value"]
    assert [s["subscriptionId"] for s in subscriptions] == [dap["subscription_id"]]
