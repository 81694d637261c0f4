"""msal, unmodified, against the sandbox's identity platform."""
from __future__ import annotations

import warnings

import jwt
import msal
import requests

from conformance_helpers import SAM_REDIRECT, consent, create_app, device_code_token
from sandbox import catalog
from sandbox.testing import auth_response, complete_device_code, parse_page, sign_in


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_discovery_document_has_what_msal_reads(http, ep, authority):
    document = http.get(f"{authority}/v2.0/.well-known/openid-configuration").json()
    for key in ("authorization_endpoint", "token_endpoint", "device_authorization_endpoint", "issuer", "jwks_uri",
                "cloud_instance_name", "tenant_region_scope"):
        assert key in document
    assert document["token_endpoint"] == f"{authority}/oauth2/v2.0/token"
    by_domain = http.get(f"{ep['cloud']['login']}/{ep['partner_domain']}/v2.0/.well-known/openid-configuration")
    assert by_domain.json()["token_endpoint"] == document["token_endpoint"]


def test_tokens_are_signed_with_the_published_key(http, ep, authority, consented):
    keys = http.get(f"{authority}/discovery/v2.0/keys").json()
    token = consented["result"]["access_token"]
    key = jwt.PyJWK(keys["keys"][0]).key
    verified = jwt.decode(token, key, algorithms=["RS256"], audience=ep["cloud"]["partner_center"])
    assert verified["tid"] == ep["partner_tenant_id"]


def test_confidential_auth_code_with_pkce_and_mfa(ep, consented, sam_app):
    result = consented["result"]
    access = claims(result["access_token"])
    assert access["aud"] == ep["cloud"]["partner_center"]
    assert access["scp"] == "user_impersonation"
    assert "mfa" in access["amr"]
    assert access["upn"] == ep["accounts"]["service"]["upn"]
    assert access["appid"] == sam_app["app_id"]
    assert result["id_token_claims"]["preferred_username"] == ep["accounts"]["service"]["upn"]
    assert result["id_token_claims"]["aud"] == sam_app["app_id"]


def test_auth_code_query_response_mode(ep, authority, sam_app):
    with warnings.catch_warnings():  # newer msal warns that form_post is safer; the sandbox honours query
        warnings.simplefilter("ignore", UserWarning)
        result, _client = consent(ep, authority, sam_app, response_mode="query")
    assert "access_token" in result, result


def test_public_client_auth_code_on_any_localhost_port(ep, authority):
    app = msal.PublicClientApplication(catalog.AZURE_CLI_APP_ID, authority=authority, instance_discovery=False)
    flow = app.initiate_auth_code_flow([ep["cloud"]["resource_manager"] + "/user_impersonation"],
                                       redirect_uri="http://localhost:51234", response_mode="form_post")
    browser = requests.Session()
    browser.verify = ep["ca_bundle"]
    account = ep["accounts"]["admin"]
    result = app.acquire_token_by_auth_code_flow(flow, auth_response(
        sign_in(browser, flow["auth_uri"], account["upn"], account["password"])))
    assert claims(result["access_token"])["aud"] == ep["cloud"]["resource_manager"]
    assert "mfa" not in claims(result["access_token"])["amr"]


def test_pkce_is_enforced(ep, authority, sam_app, http):
    client = msal.ConfidentialClientApplication(sam_app["app_id"], client_credential=sam_app["secret"],
                                                authority=authority, instance_discovery=False)
    flow = client.initiate_auth_code_flow([ep["cloud"]["partner_center"] + "/user_impersonation"],
                                          redirect_uri=SAM_REDIRECT, response_mode="form_post")
    account = ep["accounts"]["service"]
    page = sign_in(http, flow["auth_uri"], account["upn"], account["password"], account["mfa_code"])
    response = auth_response(page)
    flow["code_verifier"] = "not-the-verifier-" + "x" * 40
    result = client.acquire_token_by_auth_code_flow(flow, response)
    assert result["error"] == "invalid_grant"
    assert result["error_codes"] == [501481]


def test_device_code_through_the_device_page(ep, authority, http):
    app = msal.PublicClientApplication(catalog.GRAPH_CLI_APP_ID, authority=authority, instance_discovery=False)
    flow = app.initiate_device_flow(scopes=["User.Read"])
    assert flow["verification_uri"].startswith(ep["cloud"]["login"])
    assert flow["interval"] == 5 and flow["expires_in"] == 900
    account = ep["accounts"]["service"]
    assert complete_device_code(http, flow["verification_uri"], flow["user_code"], account["upn"],
                                account["password"], account["mfa_code"]) == {"done": True}
    result = app.acquire_token_by_device_flow(flow)
    assert "mfa" in claims(result["access_token"])["amr"]


def test_device_code_pending_then_declined(ep, authority, http, sam_app):
    def poll():
        return http.post(f"{authority}/oauth2/v2.0/token", data={
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code", "client_id": sam_app["app_id"],
            "client_secret": sam_app["secret"], "device_code": flow["device_code"]})

    flow = http.post(f"{authority}/oauth2/v2.0/devicecode", data={
        "client_id": sam_app["app_id"], "scope": ep["cloud"]["partner_center"] + "/user_impersonation"}).json()
    assert poll().json()["error"] == "authorization_pending"
    account = ep["accounts"]["nomfa"]  # has not consented yet: the consent page is shown, and declined
    entry = http.get(flow["verification_uri"])
    action = parse_page(entry.text).forms[0]["action"]
    assert sign_in(http, action, account["upn"], account["password"], method="POST",
                   data={"code": flow["user_code"]}, accept=False) == {"done": True}
    declined = poll()
    assert declined.status_code == 400 and declined.json()["error"] == "authorization_declined"


def test_refresh_token_rotates_and_spans_resources(ep, consented):
    client = consented["client"]
    first = consented["result"]["refresh_token"]
    graph = client.acquire_token_by_refresh_token(first, [ep["cloud"]["graph"] + "/.default"])
    assert graph["refresh_token"] != first
    assert claims(graph["access_token"])["aud"] == ep["cloud"]["graph"]
    assert "Directory.AccessAsUser.All" in claims(graph["access_token"])["scp"].split()
    azure = client.acquire_token_by_refresh_token(graph["refresh_token"],
                                                  [ep["cloud"]["resource_manager"] + "/user_impersonation"])
    assert claims(azure["access_token"])["aud"] == ep["cloud"]["resource_manager"]
    assert "mfa" in claims(azure["access_token"])["amr"]
    # Entra keeps the previous refresh token valid after rotation.
    again = client.acquire_token_by_refresh_token(first, [ep["cloud"]["partner_center"] + "/user_impersonation"])
    assert "access_token" in again


def test_client_credentials(ep, authority):
    principal = ep["principals"]["automation"]
    app = msal.ConfidentialClientApplication(principal["client_id"], client_credential=principal["client_secret"],
                                             authority=authority, instance_discovery=False)
    result = app.acquire_token_for_client([ep["cloud"]["keyvault_resource"] + "/.default"])
    access = claims(result["access_token"])
    assert access["idtyp"] == "app" and access["oid"] == principal["object_id"]
    assert "scope" not in result  # the identity platform returns none for client credentials
    cached = app.acquire_token_for_client([ep["cloud"]["keyvault_resource"] + "/.default"])
    assert cached["token_source"] == "cache"


def customer(ep, relationship):
    return next(c for c in ep["customers"] if c["relationship"] == relationship)


def customer_client(ep, app, tenant_id):
    return msal.ConfidentialClientApplication(app["app_id"], client_credential=app["secret"],
                                              authority=f"{ep['cloud']['login']}/{tenant_id}",
                                              instance_discovery=False)


def test_customer_tenant_with_dap(ep, consented, sam_app):
    tenant = customer(ep, "DAP")["tenant_id"]
    result = customer_client(ep, sam_app, tenant).acquire_token_by_refresh_token(
        consented["result"]["refresh_token"], [ep["cloud"]["graph"] + "/.default"])
    access = claims(result["access_token"])
    assert access["tid"] == tenant and access["idp"] == f"https://sts.windows.net/{ep['partner_tenant_id']}/"


def test_customer_tenant_with_gdap_needs_application_consent(ep, consented, sam_app, http):
    tenant = customer(ep, "GDAP")["tenant_id"]
    client = customer_client(ep, sam_app, tenant)
    refused = client.acquire_token_by_refresh_token(consented["result"]["refresh_token"],
                                                    [ep["cloud"]["graph"] + "/.default"])
    assert refused["error_codes"] == [65001] and refused["suberror"] == "consent_required"
    pc_token = consented["client"].acquire_token_by_refresh_token(
        consented["result"]["refresh_token"], [ep["cloud"]["partner_center"] + "/user_impersonation"])
    made = http.post(f"{ep['cloud']['partner_center']}/v1/customers/{tenant}/applicationconsents",
                     headers={"Authorization": "Bearer " + pc_token["access_token"]},
                     json={"applicationId": sam_app["app_id"], "displayName": "SAM", "applicationGrants": [
                         {"enterpriseApplicationId": catalog.GRAPH_APP_ID,
                          "scope": "Directory.Read.All,Directory.AccessAsUser.All"}]})
    assert made.status_code == 201, made.text
    # A new msal object: msal replays a 400 for the same request for 60 s without asking again.
    fresh_client = customer_client(ep, sam_app, tenant)
    result = fresh_client.acquire_token_by_refresh_token(consented["result"]["refresh_token"],
                                                         [ep["cloud"]["graph"] + "/.default"])
    assert claims(result["access_token"])["tid"] == tenant


def test_customer_tenant_without_relationship_is_refused(ep, consented, sam_app):
    tenant = customer(ep, "none")["tenant_id"]
    refused = customer_client(ep, sam_app, tenant).acquire_token_by_refresh_token(
        consented["result"]["refresh_token"], [ep["cloud"]["graph"] + "/.default"])
    assert refused["error"] == "invalid_grant" and refused["error_codes"] == [50020]


def test_auto_approve_signs_in_unattended(ep, api, authority):
    api.call("PUT", "/auto-approve", [{"upn": ep["accounts"]["admin"]["upn"], "client_id": catalog.AZURE_CLI_APP_ID}])
    try:
        app = msal.PublicClientApplication(catalog.AZURE_CLI_APP_ID, authority=authority, instance_discovery=False)
        flow = app.initiate_device_flow(scopes=[ep["cloud"]["graph"] + "/.default"])
        result = app.acquire_token_by_device_flow(flow)
        assert claims(result["access_token"])["upn"] == ep["accounts"]["admin"]["upn"]
    finally:
        api.call("PUT", "/auto-approve", [])


def test_device_code_needs_public_client_flows_allowed(ep, api, authority, graph, http):
    app = create_app(graph, "public flows app")
    flow = http.post(f"{authority}/oauth2/v2.0/devicecode", data={
        "client_id": app["app_id"], "scope": ep["cloud"]["partner_center"] + "/user_impersonation"}).json()
    api.call("POST", "/device-codes/approve", {"user_code": flow["user_code"], "upn": ep["accounts"]["service"]["upn"]})
    refused = http.post(f"{authority}/oauth2/v2.0/token", data={
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code", "client_id": app["app_id"],
        "device_code": flow["device_code"]})
    assert refused.status_code == 401 and refused.json()["error_codes"] == [7000218]
    assert graph.patch(f"/applications/{app['object_id']}", json={"isFallbackPublicClient": True}).status_code == 204
    result = device_code_token(api, authority, app["app_id"], [ep["cloud"]["partner_center"] + "/user_impersonation"],
                               ep["accounts"]["service"]["upn"])
    assert "refresh_token" in result and "mfa" in claims(result["access_token"])["amr"]
    # A refresh token from a public flow can be redeemed with the secret as well (the SAM exchange).
    client = msal.ConfidentialClientApplication(app["app_id"], client_credential=app["secret"], authority=authority,
                                                instance_discovery=False)
    assert "access_token" in client.acquire_token_by_refresh_token(
        result["refresh_token"], [ep["cloud"]["graph"] + "/.default"])
