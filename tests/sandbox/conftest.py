"""A sandbox for the whole conformance session, and the objects most tests need: an admin's
Graph token (Azure CLI's public client, device code), a SAM app registration, and the service
account's consent to it (authorization code with PKCE, sign-in pages filled over HTTP)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import msal
import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sandbox import catalog  # noqa: E402
from sandbox.testing import SandboxProcess, TestApi, auth_response, sign_in  # noqa: E402

SAM_REDIRECT = "http://localhost:8400"


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    process = SandboxProcess(tmp_path_factory.mktemp("sandbox"), "--customers", "5")
    process.start()
    previous = os.environ.get("REQUESTS_CA_BUNDLE")
    # PROTOCOL.md section 7: requests lets REQUESTS_CA_BUNDLE override verify=, so the bundle
    # that holds the system CAs plus the sandbox CA is what every library must see.
    os.environ["REQUESTS_CA_BUNDLE"] = process.endpoints["ca_bundle"]
    yield process
    if previous is None:
        os.environ.pop("REQUESTS_CA_BUNDLE", None)
    else:
        os.environ["REQUESTS_CA_BUNDLE"] = previous
    process.stop()


@pytest.fixture(scope="session")
def ep(sandbox):
    return sandbox.endpoints


@pytest.fixture(scope="session")
def api(ep):
    return TestApi(ep)


@pytest.fixture()
def http(ep):
    session = requests.Session()
    session.verify = ep["ca_bundle"]
    return session


@pytest.fixture(scope="session")
def cloud(ep):
    return ep["cloud"]


@pytest.fixture(scope="session")
def authority(ep):
    return f"{ep['cloud']['login']}/{ep['partner_tenant_id']}"


def device_code_token(api, authority, client_id, scopes, upn):
    app = msal.PublicClientApplication(client_id, authority=authority, instance_discovery=False)
    flow = app.initiate_device_flow(scopes=scopes)
    assert "user_code" in flow, flow
    assert api.call("POST", "/device-codes/approve", {"user_code": flow["user_code"], "upn": upn})["approved"] == 1
    return app.acquire_token_by_device_flow(flow)


@pytest.fixture(scope="session")
def admin_graph(ep, api, authority):
    result = device_code_token(api, authority, catalog.AZURE_CLI_APP_ID, [ep["cloud"]["graph"] + "/.default"],
                               ep["accounts"]["admin"]["upn"])
    assert "access_token" in result, result
    return result


@pytest.fixture(scope="session")
def graph(ep, admin_graph):
    session = requests.Session()
    session.verify = ep["ca_bundle"]
    session.headers["Authorization"] = "Bearer " + admin_graph["access_token"]
    base = ep["cloud"]["graph"] + "/v1.0"

    class Graph:
        def __getattr__(self, method):
            return lambda path, **kw: session.request(method.upper(), base + path, timeout=30, **kw)
    return Graph()


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


@pytest.fixture(scope="session")
def sam_app(graph, ep):
    app = create_app(graph, "SAM conformance app")
    added = graph.post(f"/groups/{ep['admin_agents_group_id']}/members/$ref",
                       json={"@odata.id": f"{ep['cloud']['graph']}/v1.0/directoryObjects/{app['sp_id']}"})
    assert added.status_code == 204, added.text
    return app


def consent(ep, authority, app, user="service", scopes=None, response_mode="form_post"):
    """The service account's interactive consent, completed over HTTP; returns msal's result."""
    client = msal.ConfidentialClientApplication(app["app_id"], client_credential=app["secret"], authority=authority,
                                                instance_discovery=False)
    scopes = scopes or [ep["cloud"]["partner_center"] + "/user_impersonation"]
    flow = client.initiate_auth_code_flow(scopes, redirect_uri=SAM_REDIRECT, response_mode=response_mode)
    account = ep["accounts"][user]
    browser = requests.Session()
    browser.verify = ep["ca_bundle"]
    result = sign_in(browser, flow["auth_uri"], account["upn"], account["password"], account.get("mfa_code"))
    return client.acquire_token_by_auth_code_flow(flow, auth_response(result)), client


@pytest.fixture(scope="session")
def consented(ep, authority, sam_app):
    result, client = consent(ep, authority, sam_app)
    assert "refresh_token" in result, result
    return {"result": result, "client": client}
