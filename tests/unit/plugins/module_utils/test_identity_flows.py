"""The identity layer against the sandbox: msal's grants over the run's session, the direct
customer-tenant grant, discovery, national-cloud checks and each failure's sentence."""
from __future__ import annotations

import time

import pytest

from ansible_collections.partnercenter.secure_app.plugins.module_utils._clouds import resolve_cloud
from ansible_collections.partnercenter.secure_app.plugins.module_utils._errors import SecureAppError
from ansible_collections.partnercenter.secure_app.plugins.module_utils._http import HttpClient
from ansible_collections.partnercenter.secure_app.plugins.module_utils._identity import OIDC_SCOPES, Identity
from ansible_collections.partnercenter.secure_app.plugins.module_utils._sam_credential import cache_key

AZURE_CLI = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"


def customer(ep, kind):
    """The tenant id of the sandbox's first customer of a kind (dap, gdap_ready, none, ...)."""
    return next(c["tenant_id"] for c in ep["customers"] if c["kind"] == kind)


@pytest.fixture()
def identity(world):
    http = HttpClient(world["ep"]["ca_file"], 30, 2)
    yield Identity(http, resolve_cloud("AzureCloud", world["ep"]["cloud"]))
    http.close()


def graph_scope(world):
    return world["ep"]["cloud"]["graph"] + "/.default"


def refresh(identity, world, tenant=None, secret=True, scopes=None):
    app = world["app"]
    return identity.refresh(app["app_id"], app["secret"] if secret else None, tenant or world["ep"]["partner_tenant_id"],
                            world["refresh_token"], scopes or [graph_scope(world)])


def test_refresh_gives_a_rotated_token_and_who_signed_in(identity, world):
    before = int(time.time())
    result = refresh(identity, world)
    ep = world["ep"]
    assert result.tenant_id == ep["partner_tenant_id"]
    assert result.refresh_token and result.refresh_token != world["refresh_token"]
    assert before + 3000 <= result.expires_on <= int(time.time()) + 5000
    assert result.scope and not set(result.scope.split()) & set(OIDC_SCOPES)
    assert result.scope.startswith(ep["cloud"]["graph"])
    assert result.identity() == {"upn": ep["accounts"]["service"]["upn"],
                                 "object_id": ep["accounts"]["service"]["object_id"],
                                 "tenant_id": ep["partner_tenant_id"], "mfa": True}
    assert result.id_token_claims.get("preferred_username") == ep["accounts"]["service"]["upn"]


def test_applications_are_built_once_per_client_tenant_and_kind(identity, world):
    app, tenant = world["app"], world["ep"]["partner_tenant_id"]
    first = identity.application(app["app_id"], tenant, app["secret"])
    assert identity.application(app["app_id"], tenant.upper(), app["secret"]) is first
    public = identity.application(app["app_id"], tenant)
    assert public is not first and type(public).__name__ == "PublicClientApplication"
    assert type(first).__name__ == "ConfidentialClientApplication"


def test_discovery_is_fetched_once_for_many_grants(identity, world):
    counters = world["api"].get("/counters")["counters"]
    for _attempt in range(3):
        refresh(identity, world)
    after = world["api"].get("/counters")["counters"]
    assert after.get("discovery_requests", 0) - counters.get("discovery_requests", 0) <= 1


def test_wrong_client_secret(identity, world):
    app = world["app"]
    with pytest.raises(SecureAppError) as raised:
        identity.refresh(app["app_id"], "wrong-secret-value", world["ep"]["partner_tenant_id"], world["refresh_token"],
                         [graph_scope(world)])
    assert raised.value.code == "AADSTS7000215"
    assert raised.value.message.startswith(f"The client secret of app {app['app_id']} is wrong: rotate it")
    assert "correlation id" in raised.value.message


def test_unknown_tenant_is_named(identity, world):
    with pytest.raises(SecureAppError) as raised:
        refresh(identity, world, tenant="nobody.onmicrosoft.com")
    assert raised.value.code == "AADSTS90002"
    assert raised.value.message.startswith("Tenant nobody.onmicrosoft.com does not exist in sandbox: check tenant_id")


def test_tenant_of_another_national_cloud(identity, world):
    foreign = world["ep"]["foreign_tenants"][0]
    with pytest.raises(SecureAppError) as raised:
        refresh(identity, world, tenant=foreign["tenant_id"])
    assert raised.value.code == "cross_cloud"
    assert raised.value.message == (f"Tenant {foreign['tenant_id']} lives in AzureUSGovernment, not in sandbox: set "
                                    "cloud: AzureUSGovernment (or the matching cloud_endpoints) for this tenant.")


def test_unreachable_sign_in_service(world):
    http = HttpClient(world["ep"]["ca_file"], 5, 0)
    cloud = resolve_cloud("AzureCloud", dict(world["ep"]["cloud"], login="https://127.0.0.1:9"))
    with pytest.raises(SecureAppError) as raised:
        Identity(http, cloud).refresh("a", None, "contoso.onmicrosoft.com", "r", ["s"])
    assert raised.value.message == "Cannot connect to 127.0.0.1:9: check the endpoint URL and the network."


def test_customer_grant_goes_straight_to_the_customer(identity, world):
    dap = customer(world["ep"], "dap")
    before = world["api"].get("/counters")["counters"]
    app = world["app"]
    result = identity.refresh_in_customer(app["app_id"], app["secret"], world["ep"]["partner_tenant_id"], dap,
                                          world["refresh_token"], [graph_scope(world)])
    after = world["api"].get("/counters")["counters"]
    assert result.tenant_id == dap and result.refresh_token
    assert not set(result.scope.split()) & set(OIDC_SCOPES)
    assert after["token_requests"] - before["token_requests"] == 1
    assert after.get("discovery_requests", 0) - before.get("discovery_requests", 0) <= 1
    endpoint = identity._customer_token_endpoint(app["app_id"], app["secret"], world["ep"]["partner_tenant_id"], dap)
    assert endpoint == f"{world['ep']['cloud']['login']}/{dap}/oauth2/v2.0/token"


@pytest.mark.parametrize("kind, code, words", [
    ("none", "AADSTS50020", "The service account has no access to tenant {tenant}: no active GDAP relationship"),
    ("gdap_ready", "AADSTS65001", "has no consent for this resource in customer tenant {tenant}: under GDAP"),
])
def test_customer_refusals_in_gdap_terms(identity, world, kind, code, words):
    tenant = customer(world["ep"], kind)
    app = world["app"]
    with pytest.raises(SecureAppError) as raised:
        identity.refresh_in_customer(app["app_id"], app["secret"], world["ep"]["partner_tenant_id"], tenant,
                                     world["refresh_token"], [graph_scope(world)])
    assert raised.value.code == code and words.format(tenant=tenant) in raised.value.message
    assert "correlation id" in raised.value.message


def test_customer_grant_needs_the_client_secret_of_a_confidential_app(identity, world):
    app = world["app"]
    with pytest.raises(SecureAppError) as raised:
        identity.refresh_in_customer(app["app_id"], None, world["ep"]["partner_tenant_id"], customer(world["ep"], "dap"),
                                     world["refresh_token"], [graph_scope(world)])
    assert raised.value.code == "AADSTS7000218"


def test_customer_grant_on_a_server_error(identity, world):
    api, app = world["api"], world["app"]
    dap = customer(world["ep"], "dap")
    identity.application(app["app_id"], world["ep"]["partner_tenant_id"], app["secret"])
    api.call("PUT", "/faults", [{"service": "login", "path": f"/{dap}/oauth2", "status": 500, "count": 10}])
    try:
        with pytest.raises(SecureAppError) as raised:
            identity.refresh_in_customer(app["app_id"], app["secret"], world["ep"]["partner_tenant_id"], dap,
                                         world["refresh_token"], [graph_scope(world)])
    finally:
        api.call("DELETE", "/faults")
    assert (raised.value.code, raised.value.status) == ("service_error", 500)
    assert raised.value.message == f"The sign-in service for tenant {dap} failed (HTTP 500): try again later."


def test_client_credentials(identity, world):
    principal = world["ep"]["principals"]["automation"]
    result = identity.client_credentials(principal["client_id"], principal["client_secret"], principal["tenant_id"],
                                         world["ep"]["cloud"]["keyvault_resource"] + "/.default")
    assert result.refresh_token is None and result.claims["idtyp"] == "app"
    assert result.identity()["object_id"] == principal["object_id"] and result.mfa is False


def test_device_code_shows_the_message_and_signs_in(identity, world):
    api, ep = world["api"], world["ep"]
    api.call("PUT", "/auto-approve", [{"upn": ep["accounts"]["admin"]["upn"], "client_id": AZURE_CLI}])
    shown = []
    try:
        result = identity.device_code(AZURE_CLI, ep["partner_tenant_id"], [graph_scope(world)], shown.append, 60)
    finally:
        api.call("PUT", "/auto-approve", [])
    assert len(shown) == 1 and "enter the code" in shown[0]
    assert result.identity()["upn"] == ep["accounts"]["admin"]["upn"] and result.refresh_token


def test_device_code_that_nobody_completes_ends_at_the_timeout(identity, world):
    started = time.monotonic()
    with pytest.raises(SecureAppError) as raised:
        identity.device_code(AZURE_CLI, world["ep"]["partner_tenant_id"], [graph_scope(world)], lambda m: None, 1)
    assert time.monotonic() - started < 20
    assert raised.value.code


def test_auth_code_flow_and_a_refused_sign_in(identity, world):
    app, tenant = world["app"], world["ep"]["partner_tenant_id"]
    flow = identity.auth_code_flow(app["app_id"], app["secret"], tenant, [graph_scope(world)],
                                   "http://localhost:8400", login_hint="someone@contoso.com", prompt=None)
    assert flow["auth_uri"].startswith(f"{world['ep']['cloud']['login']}/{tenant}/oauth2/v2.0/authorize")
    assert "login_hint=someone%40contoso.com" in flow["auth_uri"] and "prompt=" not in flow["auth_uri"]
    with pytest.raises(SecureAppError) as raised:
        identity.redeem_auth_code(app["app_id"], app["secret"], tenant, flow,
                                  {"error": "access_denied", "error_description": "The user declined"})
    assert (raised.value.code, raised.value.message) == ("access_denied", "The sign-in was not completed: The user "
                                                                          "declined.")


def test_a_plain_code_that_is_not_valid(identity, world):
    app = world["app"]
    with pytest.raises(SecureAppError) as raised:
        identity.redeem_plain_code(app["app_id"], app["secret"], world["ep"]["partner_tenant_id"], "not-a-code",
                                   [graph_scope(world)], "http://localhost:8400")
    assert raised.value.code.startswith("AADSTS")


def test_a_server_error_in_the_partner_tenant_names_the_status(world):
    """msal raises MsalServiceError with no error for a 5xx: the sentence names the status, not None."""
    api, app, tenant = world["api"], world["app"], world["ep"]["partner_tenant_id"]
    http = HttpClient(world["ep"]["ca_file"], 30, 0)
    identity = Identity(http, resolve_cloud("AzureCloud", world["ep"]["cloud"]))
    identity.application(app["app_id"], tenant, app["secret"])  # discovery before the fault
    api.call("PUT", "/faults", [{"service": "login", "path": f"/{tenant}/oauth2/v2.0/token", "status": 502,
                                 "count": 3}])
    try:
        with pytest.raises(SecureAppError) as raised:
            identity.refresh(app["app_id"], app["secret"], tenant, world["refresh_token"], [graph_scope(world)])
    finally:
        api.call("DELETE", "/faults")
        http.close()
    assert raised.value.message == f"The sign-in service for tenant {tenant} failed (HTTP Error: 502): try again later."
    assert raised.value.code == "service_error"


def test_msal_refusing_a_reserved_scope(identity, world):
    with pytest.raises(SecureAppError) as raised:
        refresh(identity, world, scopes=["openid"])
    assert raised.value.message.startswith(f"msal refused the request for tenant {world['ep']['partner_tenant_id']}: ")


def test_a_full_authorization_code_sign_in(identity, world):
    import requests  # pylint: disable=import-outside-toplevel
    from sandbox.testing import auth_response, sign_in  # pylint: disable=import-outside-toplevel

    app, ep = world["app"], world["ep"]
    tenant = ep["partner_tenant_id"]
    flow = identity.auth_code_flow(app["app_id"], app["secret"], tenant, [graph_scope(world)],
                                   "http://localhost:8400", response_mode="query")
    assert "response_mode=query" in flow["auth_uri"]
    browser = requests.Session()
    browser.verify = ep["ca_bundle"]
    browser.trust_env = False  # REQUESTS_CA_BUNDLE (another sandbox's, set by a fixture) would override verify
    account = ep["accounts"]["service"]
    answer = auth_response(sign_in(browser, flow["auth_uri"], account["upn"], account["password"],
                                   account.get("mfa_code")))
    result = identity.redeem_auth_code(app["app_id"], app["secret"], tenant, flow, answer)
    assert result.identity()["upn"] == account["upn"] and result.mfa and result.refresh_token
    with pytest.raises(SecureAppError) as reused:  # a code works once
        identity.redeem_auth_code(app["app_id"], app["secret"], tenant, flow, answer)
    assert reused.value.code.startswith("AADSTS") or reused.value.code


def test_customer_endpoint_from_the_discovery_document(world):
    """The customer's token endpoint is the partner's with the tenant changed; without a usable
    document, the standard path."""
    cloud = resolve_cloud("AzureCloud", world["ep"]["cloud"])
    http = HttpClient(world["ep"]["ca_file"], 30, 0)
    identity = Identity(http, cloud)
    login = cloud.login
    partner, customer_id = "partner.onmicrosoft.com", "customer.onmicrosoft.com"
    identity._apps[("app", partner, cache_key(None))] = object()  # no sign-in needed for this check

    def endpoint_with(document):
        identity._recorder.documents[cloud.authority(partner) + "/v2.0/.well-known/openid-configuration"] = \
            (200, document)
        return identity._customer_token_endpoint("app", None, partner, customer_id)

    standard = f"{login}/{customer_id}/oauth2/v2.0/token"
    assert endpoint_with({"token_endpoint": f"{login}/{partner}/oauth2/v9/token"}) == \
        f"{login}/{customer_id}/oauth2/v9/token"
    assert endpoint_with({"token_endpoint": f"https://elsewhere/{partner}/oauth2/v2.0/token"}) == standard
    assert endpoint_with({"token_endpoint": f"{login}/{partner}"}) == standard
    assert endpoint_with({}) == standard
    assert endpoint_with(None) == standard
    http.close()
