"""Each error the sandbox can produce, in Entra's shape: status, `error`, AADSTS code."""
from __future__ import annotations

import msal
import pytest

from conformance_helpers import SAM_REDIRECT, consent, create_app
from sandbox import catalog
from sandbox.testing import SignInError, sign_in

ENTRA_FIELDS = {"error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id", "error_uri"}


def assert_entra_error(response, status, error, code):
    body = response.json()
    assert response.status_code == status, body
    assert ENTRA_FIELDS <= set(body)
    assert body["error"] == error
    assert body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}: ")


def token_request(http, ep, tenant, **form):
    return http.post(f"{ep['cloud']['login']}/{tenant}/oauth2/v2.0/token", data=form)


def refresh_form(app, refresh_token, scope):
    return {"grant_type": "refresh_token", "client_id": app["app_id"], "client_secret": app["secret"],
            "refresh_token": refresh_token, "scope": scope + " offline_access openid profile", "client_info": "1"}


@pytest.fixture()
def fresh(graph, ep, authority):
    """A new app with its own consented refresh token, so that a test may spoil it."""
    app = create_app(graph, "errors app")
    result, _client = consent(ep, authority, app)
    app["refresh_token"] = result["refresh_token"]
    return app


def test_unknown_tenant(http, ep):
    response = http.get(f"{ep['cloud']['login']}/nosuchtenant.onmicrosoft.com/v2.0/.well-known/openid-configuration")
    assert_entra_error(response, 400, "invalid_tenant", 90002)  # discovery; the token endpoint says invalid_request
    with pytest.raises(ValueError, match="nosuchtenant"):
        msal.PublicClientApplication(catalog.AZURE_CLI_APP_ID, instance_discovery=False,
                                     authority=f"{ep['cloud']['login']}/nosuchtenant.onmicrosoft.com")
    assert_entra_error(token_request(http, ep, "nosuchtenant.onmicrosoft.com", grant_type="client_credentials"),
                       400, "invalid_request", 90002)


def test_unknown_app(http, ep):
    response = token_request(http, ep, ep["partner_tenant_id"], grant_type="client_credentials",
                             client_id="11111111-2222-3333-4444-555555555555", client_secret="x",
                             scope=ep["cloud"]["graph"] + "/.default")
    assert_entra_error(response, 400, "unauthorized_client", 700016)


def test_wrong_client_secret(http, ep, sam_app):
    response = token_request(http, ep, ep["partner_tenant_id"], grant_type="client_credentials",
                             client_id=sam_app["app_id"], client_secret="wrong",
                             scope=ep["cloud"]["graph"] + "/.default")
    assert_entra_error(response, 401, "invalid_client", 7000215)


def test_expired_client_secret(http, ep, api, fresh):
    api.call("POST", "/client-secrets/expire", {"app_id": fresh["app_id"]})
    response = token_request(http, ep, ep["partner_tenant_id"],
                             **refresh_form(fresh, fresh["refresh_token"], ep["cloud"]["graph"] + "/.default"))
    assert_entra_error(response, 401, "invalid_client", 7000222)


@pytest.mark.parametrize("action,code", [("revoke", 70008), ("expire", 70008), ("inactive", 700082)])
def test_spoiled_refresh_token(http, ep, api, fresh, action, code):
    assert api.call("POST", f"/refresh-tokens/{action}", {"client_id": fresh["app_id"]})["affected"] >= 1
    response = token_request(http, ep, ep["partner_tenant_id"],
                             **refresh_form(fresh, fresh["refresh_token"], ep["cloud"]["graph"] + "/.default"))
    assert_entra_error(response, 400, "invalid_grant", code)


def test_malformed_refresh_token(http, ep, sam_app):
    response = token_request(http, ep, ep["partner_tenant_id"],
                             **refresh_form(sam_app, "garbage", ep["cloud"]["graph"] + "/.default"))
    assert_entra_error(response, 400, "invalid_grant", 70000)


def test_refresh_token_of_another_app(http, ep, sam_app, fresh):
    response = token_request(http, ep, ep["partner_tenant_id"],
                             **refresh_form(sam_app, fresh["refresh_token"], ep["cloud"]["graph"] + "/.default"))
    assert_entra_error(response, 400, "invalid_grant", 70000)


def test_missing_consent(http, ep, api, graph):
    app = create_app(graph, "never consented")
    api.call("PUT", "/auto-approve", [])
    # A device code approved by the test API consents as the user would; a refresh for a
    # resource the app never asked for still has no consent.
    account = ep["accounts"]["service"]
    client = msal.ConfidentialClientApplication(app["app_id"], client_credential=app["secret"],
                                                authority=f"{ep['cloud']['login']}/{ep['partner_tenant_id']}",
                                                instance_discovery=False)
    flow = client.initiate_auth_code_flow([ep["cloud"]["partner_center"] + "/user_impersonation"],
                                          redirect_uri=SAM_REDIRECT, response_mode="form_post")
    from sandbox.testing import auth_response
    result = client.acquire_token_by_auth_code_flow(flow, auth_response(sign_in(
        http, flow["auth_uri"], account["upn"], account["password"], account["mfa_code"])))
    response = token_request(http, ep, ep["partner_tenant_id"], **refresh_form(
        app, result["refresh_token"], ep["cloud"]["keyvault_resource"] + "/user_impersonation"))
    assert_entra_error(response, 400, "invalid_grant", 65001)
    assert response.json()["suberror"] == "consent_required"


def test_unregistered_redirect_uri_fails_on_the_page(http, ep, authority, sam_app):
    client = msal.ConfidentialClientApplication(sam_app["app_id"], client_credential=sam_app["secret"],
                                                authority=authority, instance_discovery=False)
    flow = client.initiate_auth_code_flow(["User.Read"], redirect_uri="https://evil.example/callback",
                                          response_mode="form_post")
    page = http.get(flow["auth_uri"], allow_redirects=False)
    assert page.status_code == 400 and "Location" not in page.headers
    with pytest.raises(SignInError, match="AADSTS50011"):
        sign_in(http, flow["auth_uri"], "x", "y")


def test_wrong_password_and_unknown_user_on_the_page(http, ep, authority, sam_app):
    client = msal.ConfidentialClientApplication(sam_app["app_id"], client_credential=sam_app["secret"],
                                                authority=authority, instance_discovery=False)
    flow = client.initiate_auth_code_flow(["User.Read"], redirect_uri=SAM_REDIRECT, response_mode="form_post")
    with pytest.raises(SignInError, match="AADSTS50126"):
        sign_in(http, flow["auth_uri"], ep["accounts"]["service"]["upn"], "wrong")
    with pytest.raises(SignInError, match="AADSTS50034"):
        sign_in(http, flow["auth_uri"], "nobody@contosopartner.onmicrosoft.com", "x")


def test_cross_cloud_tenant(http, ep, sam_app):
    foreign = ep["foreign_tenants"][0]
    discovery = http.get(f"{ep['cloud']['login']}/{foreign['domain']}/v2.0/.well-known/openid-configuration").json()
    assert discovery["cloud_instance_name"] == "microsoftonline.us"
    assert discovery["tenant_region_scope"] == "USGov"
    response = token_request(http, ep, foreign["tenant_id"], grant_type="client_credentials",
                             client_id=sam_app["app_id"], client_secret=sam_app["secret"],
                             scope=ep["cloud"]["graph"] + "/.default")
    assert_entra_error(response, 400, "invalid_request", 900382)


def test_v1_resource_parameter_is_rejected(http, ep, sam_app):
    response = token_request(http, ep, ep["partner_tenant_id"], grant_type="client_credentials",
                             client_id=sam_app["app_id"], client_secret=sam_app["secret"],
                             resource=ep["cloud"]["graph"])
    assert_entra_error(response, 400, "invalid_request", 901002)


def test_two_resources_in_one_request(http, ep, consented, sam_app):
    scope = f"{ep['cloud']['graph']}/.default {ep['cloud']['partner_center']}/user_impersonation"
    response = token_request(http, ep, ep["partner_tenant_id"],
                             **refresh_form(sam_app, consented["result"]["refresh_token"], scope))
    assert_entra_error(response, 400, "invalid_scope", 700022)
