"""Helpers the conformance tests share (kept out of conftest.py so that test modules can import them)."""
from __future__ import annotations

import msal
import requests

from sandbox import catalog
from sandbox.testing import auth_response, sign_in

SAM_REDIRECT = "http://localhost:8400"


def device_code_token(api, authority, client_id, scopes, upn):
    app = msal.PublicClientApplication(client_id, authority=authority, instance_discovery=False)
    flow = app.initiate_device_flow(scopes=scopes)
    assert "user_code" in flow, flow
    assert api.call("POST", "/device-codes/approve", {"user_code": flow["user_code"], "upn": upn})["approved"] == 1
    return app.acquire_token_by_device_flow(flow)


def sam_required_access():
    return [
        {"resourceAppId": catalog.PARTNER_CENTER_APP_ID,
         "resourceAccess": [{"id": "1cebfa2a-fb4d-419e-b5f9-839b4383e05a", "type": "Scope"}]},
        {"resourceAppId": catalog.GRAPH_APP_ID,
         "resourceAccess": [{"id": "0e263e50-5827-48a4-b97c-d940288653c7", "type": "Scope"},
                            {"id": "7ab1d382-f21e-4acd-a863-ba3e13f7da61", "type": "Role"}]},
        {"resourceAppId": catalog.AZURE_SERVICE_MANAGEMENT_APP_ID,
         "resourceAccess": [{"id": "41094075-9dad-400e-a0bd-54e686782033", "type": "Scope"}]},
    ]


def create_app(graph, name, redirects=(SAM_REDIRECT,)):
    created = graph.post("/applications", json={
        "displayName": name, "signInAudience": "AzureADMultipleOrgs",
        "requiredResourceAccess": sam_required_access(), "web": {"redirectUris": list(redirects)}})
    assert created.status_code == 201, created.text
    app = created.json()
    secret = graph.post(f"/applications/{app['id']}/addPassword", json={"passwordCredential": {"displayName": "t"}})
    assert secret.status_code == 200, secret.text
    sp = graph.post("/servicePrincipals", json={"appId": app["appId"]})
    assert sp.status_code == 201, sp.text
    return {"app_id": app["appId"], "object_id": app["id"], "secret": secret.json()["secretText"],
            "key_id": secret.json()["keyId"], "sp_id": sp.json()["id"]}


def consent(ep, authority, app, user="service", scopes=None, response_mode="form_post"):
    """The service account's interactive consent, completed over HTTP; returns msal's result."""
    client = msal.ConfidentialClientApplication(app["app_id"], client_credential=app["secret"], authority=authority,
                                                instance_discovery=False)
    scopes = scopes or [ep["cloud"]["partner_center"] + "/user_impersonation"]
    flow = client.initiate_auth_code_flow(scopes, redirect_uri=SAM_REDIRECT, response_mode=response_mode)
    account = ep["accounts"][user]
    browser = requests.Session()
    browser.verify = ep["ca_bundle"]
    browser.trust_env = False  # REQUESTS_CA_BUNDLE (another sandbox's, set by a fixture) would override verify
    result = sign_in(browser, flow["auth_uri"], account["upn"], account["password"], account.get("mfa_code"))
    return client.acquire_token_by_auth_code_flow(flow, auth_response(result)), client


def graph_session(ep, access_token):
    """Microsoft Graph v1.0 with a token: graph.get("/applications"), graph.post(...), ..."""
    session = requests.Session()
    session.verify = ep["ca_bundle"]
    session.trust_env = False  # REQUESTS_CA_BUNDLE (another sandbox's, set by a fixture) would override verify
    session.headers["Authorization"] = "Bearer " + access_token
    base = ep["cloud"]["graph"] + "/v1.0"

    class Graph:
        def __getattr__(self, method):
            return lambda path, **kw: session.request(method.upper(), base + path, timeout=60, **kw)
    return Graph()
