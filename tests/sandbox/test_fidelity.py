"""Behaviours where the sandbox once answered more kindly than Microsoft's services (see
sandbox/FIDELITY.md): each test fails on the lenient answer."""
from __future__ import annotations

import base64
import json
from urllib.parse import quote_plus

import jwt
import msal
import pytest
from azure.core.exceptions import HttpResponseError

from test_keyvault import client_for


def token_endpoint(ep, tenant=None):
    return f"{ep['cloud']['login']}/{tenant or ep['partner_tenant_id']}/oauth2/v2.0/token"


def refresh(http, ep, app, refresh_token, scope, **extra):
    form = {"grant_type": "refresh_token", "client_id": app["app_id"], "client_secret": app["secret"],
            "refresh_token": refresh_token, "scope": scope}
    form.update(extra)
    return http.post(token_endpoint(ep), data={k: v for k, v in form.items() if v is not None})


def code_of(response):
    body = response.json()
    return body["error"], body["error_codes"][0]


def claims(token):
    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture()
def fresh_token(ep, consented, sam_app, http):
    """A refresh token of the SAM app that a test may use up."""
    answer = refresh(http, ep, sam_app, consented["result"]["refresh_token"],
                     ep["cloud"]["partner_center"] + "/user_impersonation offline_access")
    assert answer.status_code == 200, answer.text
    return answer.json()["refresh_token"]


# identity platform: what a token response holds ---------------------------------------------------
def test_a_refresh_token_only_when_offline_access_is_asked(http, ep, sam_app, fresh_token):
    scope = ep["cloud"]["partner_center"] + "/user_impersonation"
    without = refresh(http, ep, sam_app, fresh_token, scope + " openid profile").json()
    assert "refresh_token" not in without and "offline_access" not in without["scope"].split()
    with_it = refresh(http, ep, sam_app, fresh_token, scope + " offline_access").json()
    assert with_it["refresh_token"] and "offline_access" in with_it["scope"].split()
    assert "refresh_token_expires_in" not in with_it  # single-page apps only


def test_client_credentials_answer_has_no_scope(http, ep):
    principal = ep["principals"]["automation"]
    answer = http.post(token_endpoint(ep, principal["tenant_id"]), data={
        "grant_type": "client_credentials", "client_id": principal["client_id"],
        "client_secret": principal["client_secret"], "scope": ep["cloud"]["keyvault_resource"] + "/.default"}).json()
    assert answer["access_token"] and "scope" not in answer


def test_resources_get_v1_access_tokens(ep, consented, sam_app):
    client = msal.ConfidentialClientApplication(sam_app["app_id"], client_credential=sam_app["secret"],
                                                authority=f"{ep['cloud']['login']}/{ep['partner_tenant_id']}",
                                                instance_discovery=False)
    for resource in ("graph", "partner_center"):
        scope = ep["cloud"]["partner_center"] + "/user_impersonation" if resource == "partner_center" else \
            ep["cloud"]["graph"] + "/.default"
        token = client.acquire_token_by_refresh_token(consented["result"]["refresh_token"], [scope])
        access = claims(token["access_token"])
        assert access["iss"] == f"https://sts.windows.net/{ep['partner_tenant_id']}/" and access["ver"] == "1.0"
        assert access["appid"] == sam_app["app_id"] and "azp" not in access


def test_a_refresh_token_ages_from_its_own_issue(http, ep, sam_app, fresh_token, api):
    """Rotation gives a new token and does not make the old one last longer."""
    scope = ep["cloud"]["graph"] + "/.default offline_access"
    api.call("POST", "/clock", {"advance_seconds": 60 * 86400})
    try:
        rotated = refresh(http, ep, sam_app, fresh_token, scope).json()["refresh_token"]
        api.call("POST", "/clock", {"advance_seconds": 31 * 86400})
        old = refresh(http, ep, sam_app, fresh_token, scope)
        assert old.status_code == 400 and code_of(old) == ("invalid_grant", 700082)
        assert refresh(http, ep, sam_app, rotated, scope).status_code == 200
    finally:
        api.call("POST", "/clock", {"advance_seconds": -91 * 86400})


# identity platform: what a request must hold --------------------------------------------------------
@pytest.mark.parametrize("missing", ["client_id", "grant_type", "scope", "refresh_token"])
def test_a_missing_required_parameter_is_900144(http, ep, sam_app, fresh_token, missing):
    form = {"grant_type": "refresh_token", "client_id": sam_app["app_id"], "client_secret": sam_app["secret"],
            "refresh_token": fresh_token, "scope": ep["cloud"]["graph"] + "/.default"}
    del form[missing]
    answer = http.post(token_endpoint(ep), data=form)
    assert answer.status_code == 400 and code_of(answer) == ("invalid_request", 900144)
    assert f"'{missing}'" in answer.json()["error_description"]


def test_devicecode_without_scope_is_900144(http, ep):
    answer = http.post(f"{ep['cloud']['login']}/{ep['partner_tenant_id']}/oauth2/v2.0/devicecode",
                       data={"client_id": "04b07795-8ddb-461a-bbee-02f9e1bf7b46"})
    assert answer.status_code == 400 and code_of(answer) == ("invalid_request", 900144)


def test_client_secret_basic_is_accepted(http, ep):
    principal = ep["principals"]["automation"]
    pair = f"{quote_plus(principal['client_id'])}:{quote_plus(principal['client_secret'])}"
    answer = http.post(token_endpoint(ep, principal["tenant_id"]), data={
        "grant_type": "client_credentials", "scope": ep["cloud"]["keyvault_resource"] + "/.default"},
        headers={"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()})
    assert answer.status_code == 200, answer.text


def test_a_reused_authorization_code_is_54005(ep, authority, sam_app, http):
    from conformance_helpers import SAM_REDIRECT
    from sandbox.testing import auth_response, sign_in
    client = msal.ConfidentialClientApplication(sam_app["app_id"], client_credential=sam_app["secret"],
                                                authority=authority, instance_discovery=False)
    flow = client.initiate_auth_code_flow([ep["cloud"]["partner_center"] + "/user_impersonation"],
                                          redirect_uri=SAM_REDIRECT, response_mode="form_post")
    account = ep["accounts"]["service"]
    response = auth_response(sign_in(http, flow["auth_uri"], account["upn"], account["password"],
                                     account["mfa_code"]))
    form = {"grant_type": "authorization_code", "client_id": sam_app["app_id"], "client_secret": sam_app["secret"],
            "code": response["code"], "redirect_uri": SAM_REDIRECT, "code_verifier": flow["code_verifier"],
            "scope": ep["cloud"]["partner_center"] + "/user_impersonation offline_access"}
    assert http.post(token_endpoint(ep), data=form).status_code == 200
    again = http.post(token_endpoint(ep), data=form)
    assert again.status_code == 400 and code_of(again) == ("invalid_grant", 54005)


def test_login_answers_carry_a_request_id(http, ep):
    answer = http.get(f"{ep['cloud']['login']}/{ep['partner_tenant_id']}/v2.0/.well-known/openid-configuration",
                      headers={"client-request-id": "abc-123"})
    assert answer.headers["x-ms-request-id"] and answer.headers["client-request-id"] == "abc-123"


# Microsoft Graph ----------------------------------------------------------------------------------
def test_graph_refuses_an_invalid_enum_value(graph):
    answer = graph.post("/applications", json={"displayName": "SAM bad audience", "signInAudience": "Everyone"})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "Request_BadRequest"
    answer = graph.post("/applications", json={"displayName": "SAM bad type", "requiredResourceAccess": [
        {"resourceAppId": "00000003-0000-0000-c000-000000000000", "resourceAccess": [{"id": "x", "type": "Both"}]}]})
    assert answer.status_code == 400


def test_graph_filter_startswith_and_and(graph, sam_app):
    everything = graph.get("/applications", params={"$filter": "startswith(displayName,'SAM conf')"}).json()["value"]
    assert [a["appId"] for a in everything] == [sam_app["app_id"]]
    both = graph.get("/applications", params={
        "$filter": f"startswith(displayName,'SAM') and appId eq '{sam_app['app_id']}'"}).json()["value"]
    assert [a["appId"] for a in both] == [sam_app["app_id"]]
    refused = graph.get("/applications", params={"$filter": "displayName ne 'x'"})
    assert refused.status_code == 400


def test_graph_answers_carry_request_ids(graph):
    answer = graph.get("/organization", headers={"client-request-id": "my-id-1"})
    assert answer.headers["request-id"] and answer.headers["client-request-id"] == "my-id-1"
    missing = graph.get("/applications/00000000-0000-0000-0000-000000000000")
    assert missing.json()["error"]["innerError"]["request-id"] == missing.headers["request-id"]


# Key Vault --------------------------------------------------------------------------------------------
def test_a_secret_over_25_kb_is_refused(ep):
    vault = client_for(ep, "automation")
    with pytest.raises(HttpResponseError) as caught:
        vault.set_secret("fidelity-big", "x" * (25 * 1024 + 1))
    assert caught.value.status_code == 400
    assert vault.set_secret("fidelity-big", "x" * (25 * 1024)).value


def test_an_unknown_api_version_is_refused_and_the_version_segment_is_optional(ep, http):
    vault = client_for(ep, "automation")
    vault.set_secret("fidelity-plain", "v")
    token = vault._client._config.authentication_policy._credential.get_token(  # noqa: SLF001
        ep["cloud"]["keyvault_resource"] + "/.default").token
    headers = {"Authorization": f"Bearer {token}"}
    base = f"{ep['vault_url']}/secrets/fidelity-plain"
    unknown = http.get(base + "/", params={"api-version": "1999-01-01"}, headers=headers)
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "BadParameter"
    for url in (base, base + "/"):
        answer = http.get(url, params={"api-version": "7.4"}, headers=headers)
        assert answer.status_code == 200 and json.loads(answer.text)["value"] == "v"
        assert answer.headers["x-ms-request-id"]
