"""Microsoft Graph subset, with requests."""
from __future__ import annotations

import pytest

from conformance_helpers import create_app


def test_application_lifecycle(graph, ep):
    app = create_app(graph, "O'Brien's app")
    found = graph.get("/applications", params={"$filter": "displayName eq 'O''Brien''s app'"}).json()["value"]
    assert [a["appId"] for a in found] == [app["app_id"]]
    assert found[0]["passwordCredentials"][0]["secretText"] is None
    assert found[0]["passwordCredentials"][0]["keyId"] == app["key_id"]
    assert graph.patch(f"/applications/{app['object_id']}", json={"web": {"redirectUris": ["http://localhost:8400",
                       "urn:ietf:wg:oauth:2.0:oob"]}}).status_code == 204
    assert graph.get(f"/applications/{app['object_id']}").json()["web"]["redirectUris"][1] == "urn:ietf:wg:oauth:2.0:oob"
    assert graph.post(f"/applications/{app['object_id']}/removePassword",
                      json={"keyId": app["key_id"]}).status_code == 204
    assert graph.get(f"/applications/{app['object_id']}").json()["passwordCredentials"] == []
    assert graph.delete(f"/applications/{app['object_id']}").status_code == 204
    missing = graph.get(f"/applications/{app['object_id']}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "Request_ResourceNotFound"
    assert set(missing.json()["error"]["innerError"]) == {"date", "request-id", "client-request-id"}


def test_unknown_property_is_rejected(graph):
    response = graph.post("/applications", json={"displayName": "x", "bogus": 1})
    assert response.status_code == 400 and response.json()["error"]["code"] == "Request_BadRequest"


def test_duplicate_service_principal_conflicts(graph, sam_app):
    response = graph.post("/servicePrincipals", json={"appId": sam_app["app_id"]})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "Request_MultipleObjectsWithSameKeyValue"
    by_app = graph.get("/servicePrincipals", params={"$filter": f"appId eq '{sam_app['app_id']}'"}).json()["value"]
    assert [sp["id"] for sp in by_app] == [sam_app["sp_id"]]


def test_admin_agents_membership(graph, ep, sam_app):
    groups = graph.get("/groups", params={"$filter": "displayName eq 'AdminAgents'"}).json()["value"]
    assert [g["id"] for g in groups] == [ep["admin_agents_group_id"]]
    again = graph.post(f"/groups/{groups[0]['id']}/members/$ref",
                       json={"@odata.id": f"{ep['cloud']['graph']}/v1.0/directoryObjects/{sam_app['sp_id']}"})
    assert again.status_code == 400
    assert again.json()["error"]["message"].startswith("One or more added object references already exist")
    members = graph.get(f"/groups/{groups[0]['id']}/members").json()["value"]
    assert sam_app["sp_id"] in [m["id"] for m in members]


def test_paging_follows_next_link(graph, http):
    first = graph.get("/users", params={"$top": "1"}).json()
    assert len(first["value"]) == 1 and "@odata.nextLink" in first
    seen = [first["value"][0]["id"]]
    link = first["@odata.nextLink"]
    session_headers = {"Authorization": graph_headers(graph)}
    while link:
        page = http.get(link, headers=session_headers).json()
        seen += [u["id"] for u in page["value"]]
        link = page.get("@odata.nextLink")
    assert len(seen) == len(set(seen)) == 3


def graph_headers(graph):
    # the Graph helper carries the admin's token; read it back from a request it makes
    return graph.get("/organization").request.headers["Authorization"]


def test_organization_and_domains(graph, ep):
    organization = graph.get("/organization").json()["value"][0]
    assert organization["id"] == ep["partner_tenant_id"]
    assert organization["verifiedDomains"][0]["name"] == ep["partner_domain"]
    assert graph.get("/domains").json()["value"][0]["id"] == ep["partner_domain"]


@pytest.mark.parametrize("token", ["", "not-a-jwt"])
def test_bad_token_is_401(ep, http, token):
    response = http.get(ep["cloud"]["graph"] + "/v1.0/organization", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_token_for_another_audience_is_401(ep, http, consented):
    token = consented["result"]["access_token"]  # a Partner Center token
    response = http.get(ep["cloud"]["graph"] + "/v1.0/organization", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and "audience" in response.json()["error"]["message"]


def test_non_admin_cannot_create_applications(ep, consented, http):
    token = consented["client"].acquire_token_by_refresh_token(consented["result"]["refresh_token"],
                                                               [ep["cloud"]["graph"] + "/.default"])["access_token"]
    response = http.post(ep["cloud"]["graph"] + "/v1.0/applications", json={"displayName": "nope"},
                         headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "Authorization_RequestDenied"
