"""Every error a user can cause: a failed task, one sentence with cause and fix, no traceback,
and nothing written."""
from __future__ import annotations

import re

import msal
import pytest

from integration_helpers import failure
from sandbox.testing import auth_response, sign_in


def exchange(run_playbook, sam, **overrides):
    variables = {"client_id": sam["app_id"], "client_secret": sam["secret"], "refresh_token": sam["refresh_token"],
                 "resources": ["graph"], "use_lookup": False}
    variables.update(overrides)
    return run_playbook("access_token.yml", variables)


@pytest.fixture()
def fresh_refresh_token(ep, sam, http):
    """A new refresh token of the flows app, which a test may spoil."""
    client = msal.ConfidentialClientApplication(
        sam["app_id"], client_credential=sam["secret"], instance_discovery=False,
        authority=f"{ep['cloud']['login']}/{ep['partner_tenant_id']}",
        http_client=http)
    flow = client.initiate_auth_code_flow([ep["cloud"]["partner_center"] + "/user_impersonation"],
                                          redirect_uri="http://localhost:8400", response_mode="form_post")
    account = ep["accounts"]["service"]
    result = client.acquire_token_by_auth_code_flow(flow, auth_response(sign_in(
        http, flow["auth_uri"], account["upn"], account["password"], account["mfa_code"])))
    return result["refresh_token"]


def test_unknown_tenant(run_playbook, sam):
    message = failure(exchange(run_playbook, sam, tenant="nosuchtenant.onmicrosoft.com"))
    assert message.startswith("Tenant nosuchtenant.onmicrosoft.com does not exist in sandbox: check tenant_id")


def test_tenant_in_another_cloud(run_playbook, sam, ep, api):
    foreign = ep["foreign_tenants"][0]
    before = api.state()
    message = failure(exchange(run_playbook, sam, tenant=foreign["domain"]))
    assert message.startswith(f"Tenant {foreign['domain']} lives in AzureUSGovernment, not in sandbox: set cloud: "
                              "AzureUSGovernment")
    after = api.state()
    # caught from the discovery document: no token request reached the token endpoint, and no
    # token came from that tenant (counted per tenant: a request another test held up may still
    # finish meanwhile on this worker's sandbox)
    assert after["counters"].get("token_errors", 0) == before["counters"].get("token_errors", 0)
    issued_there = [state["issued_tokens_by_tenant"].get(foreign["tenant_id"], 0) for state in (before, after)]
    assert issued_there == [0, 0]


def test_wrong_client_secret(run_playbook, sam):
    message = failure(exchange(run_playbook, sam, client_secret="not-the-secret"))
    assert re.fullmatch(re.escape(f"The client secret of app {sam['app_id']} is wrong: rotate it with app_registration "
                                  "(rotate_secret: true) and store the new one") + r" \(correlation id [0-9a-f-]{36}\)\.",
                        message), message


def test_unknown_app(run_playbook, sam, ep):
    message = failure(exchange(run_playbook, sam, client_id="11111111-2222-3333-4444-555555555555"))
    assert message.startswith("Application 11111111-2222-3333-4444-555555555555 was not found in tenant")


@pytest.mark.parametrize("action,expected", [
    ("revoke", "has expired or was revoked: run the consent again"),
    ("expire", "has expired or was revoked: run the consent again"),
    ("inactive", "was unused for 90 days and has expired: run the consent again"),
])
def test_spoiled_refresh_token(run_playbook, sam, api, fresh_refresh_token, action, expected):
    assert api.call("POST", f"/refresh-tokens/{action}", {"refresh_token": fresh_refresh_token})["affected"] == 1
    assert expected in failure(exchange(run_playbook, sam, refresh_token=fresh_refresh_token))


def test_malformed_refresh_token(run_playbook, sam):
    assert "malformed, revoked, or was issued to another application" in failure(
        exchange(run_playbook, sam, refresh_token="not-a-refresh-token"))


def test_refresh_token_of_another_app(run_playbook, sam, ep, auto_approve):
    other = run_playbook("setup_sam.yml", {"app_name": "SAM other app", "secret_prefix": "other"})
    assert other.ok, other
    from integration_helpers import vault_client
    vault = vault_client(ep)
    other_token = vault.get_secret("other-refresh-token").value
    run = exchange(run_playbook, sam, refresh_token=other_token)
    assert "issued to another application" in failure(run) and run.failed_task()["error_code"] == "AADSTS70000"
    # A malformed token gets the same sentence; this one is well-formed and works for its own app,
    # so the refusal is about the app (broken by: a sandbox or collection that takes any valid token).
    own = exchange(run_playbook, {"app_id": other.task("Report")["msg"]["app_id"], "secret": "", "refresh_token": ""},
                   client_secret=vault.get_secret("other-client-secret").value, refresh_token=other_token)
    assert own.ok, own


def test_resource_never_consented(run_playbook, sam):
    message = failure(exchange(run_playbook, sam, resources=["keyvault"]))
    assert message.startswith(f"App {sam['app_id']} has no consent for this resource in tenant")


def test_expired_client_secret(run_playbook, api, ep, auto_approve):
    setup = run_playbook("setup_sam.yml", {"app_name": "SAM expired secret", "secret_prefix": "expired"})
    assert setup.ok, setup
    from integration_helpers import vault_client
    vault = vault_client(ep)
    app_id = setup.task("Report")["msg"]["app_id"]
    api.call("POST", "/client-secrets/expire", {"app_id": app_id})
    message = failure(exchange(run_playbook, {"app_id": app_id, "secret": "", "refresh_token": ""},
                               client_secret=vault.get_secret("expired-client-secret").value,
                               refresh_token=vault.get_secret("expired-refresh-token").value))
    assert message.startswith(f"The client secret of app {app_id} has expired: rotate it with app_registration "
                              "(rotate_secret: true) and store the new one (correlation id ")


@pytest.mark.parametrize("endpoint,expected", [
    ("http://127.0.0.1:1", "The cloud endpoint 'login' ('http://127.0.0.1:1') is not an https origin"),
    ("https://127.0.0.1:notaport", "The cloud endpoint 'login' ('https://127.0.0.1:notaport') has an invalid port"),
])
def test_malformed_cloud_endpoint(run_playbook, sam, ep, endpoint, expected):
    cloud = dict(ep["cloud"], login=endpoint)
    run = run_playbook("access_token.yml", {"client_id": sam["app_id"], "client_secret": sam["secret"],
                                            "refresh_token": sam["refresh_token"], "use_lookup": False,
                                            "sandbox_cloud_override": cloud})
    assert failure(run).startswith(expected)


def test_unreachable_login_host(run_playbook, sam, ep):
    cloud = dict(ep["cloud"], login="https://127.0.0.1:9")
    run = run_playbook("access_token.yml", {"client_id": sam["app_id"], "client_secret": sam["secret"],
                                            "refresh_token": sam["refresh_token"], "use_lookup": False,
                                            "sandbox_cloud_override": cloud})
    assert failure(run) == "Cannot connect to 127.0.0.1:9: check the endpoint URL and the network."


def test_graph_permission_denied(run_playbook, sam, api):
    """The service account is no Global Administrator: Graph refuses to create apps for it."""
    writes = api.get("/writes")["counts"]
    run = run_playbook("app_registration_with_token.yml", {
        "client_id": sam["app_id"], "client_secret": sam["secret"], "refresh_token": sam["refresh_token"],
        "app_name": "SAM not allowed"})
    message = failure(run)
    assert message.startswith("Failed to create application 'SAM not allowed': permission denied by Microsoft Graph")
    # Microsoft support asks for the request id: the sentence names the one Graph returned.
    assert "Global Administrator" in message and re.search(r"\(request id [0-9a-f-]{36}\)\.$", message)
    assert api.get("/writes")["counts"] == writes


def test_missing_credentials(run_playbook, sam):
    run = run_playbook("app_registration_with_token.yml", {"app_name": "SAM no credential"})
    assert failure(run).startswith("No credential to manage the app registration: give access_token")


def test_unregistered_redirect_uri_fails_on_the_sign_in_page(run_playbook, sam, http, tmp_path):
    """The identity platform refuses before any sign-in: the printed URL leads to AADSTS50011, and
    nothing is redirected anywhere."""
    run = run_playbook("consent.yml", {"client_id": sam["app_id"], "client_secret": sam["secret"], "mode": "code",
                                       "state_dir": str(tmp_path), "redirect_uri": "http://localhost:8999/unregistered"})
    assert not run.ok
    auth_uri = run.failed_task()["msg"].split("URL: ", 1)[1]
    page = http.get(auth_uri, allow_redirects=False)
    assert page.status_code == 400 and "Location" not in page.headers
    assert "AADSTS50011" in page.text and "does not match the redirect URIs" in page.text


def test_partner_center_refuses_a_token_without_mfa(run_playbook, ep, sam, http):
    client = msal.ConfidentialClientApplication(
        sam["app_id"], client_credential=sam["secret"], instance_discovery=False,
        authority=f"{ep['cloud']['login']}/{ep['partner_tenant_id']}", http_client=http)
    flow = client.initiate_auth_code_flow([ep["cloud"]["partner_center"] + "/user_impersonation"],
                                          redirect_uri="http://localhost:8400", response_mode="form_post")
    account = ep["accounts"]["nomfa"]
    token = client.acquire_token_by_auth_code_flow(flow, auth_response(sign_in(
        http, flow["auth_uri"], account["upn"], account["password"])))["access_token"]
    message = failure(run_playbook("partner_center_info.yml", {"token": token}))
    assert message.startswith("Failed to list customers: Partner Center requires "
                              "multi-factor authentication")
