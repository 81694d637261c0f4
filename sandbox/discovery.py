"""The identity platform's published metadata: the OpenID Connect discovery documents (v2.0 and
v1) of each tenant and the signing keys, with every field Microsoft's documents carry."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from aiohttp import web

from .context import Sandbox, json_response, sandbox_of
from .identity import CLOUD_INSTANCE, Refusal, require_tenant

# The discovery documents and keys may be cached for a day, as the identity platform allows.
METADATA_CACHE = {"Cache-Control": "max-age=86400, private"}
AUTH_METHODS = ["client_secret_post", "private_key_jwt", "client_secret_basic"]
V2_CLAIMS = ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host",
             "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash",
             "c_hash", "email"]
V1_CLAIMS = ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host",
             "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "email", "given_name", "family_name", "nickname"]
# Privileged access (rbac_url) and Azure AD Graph are Microsoft's own hosts in every document.
RBAC_URL = "https://pas.windows.net"
AAD_GRAPH_HOST = "graph.windows.net"


def _tenant(request: web.Request) -> tuple[Sandbox, dict[str, Any], str] | web.Response:
    """The tenant the path names, or the identity platform's answer for an unknown one."""
    sandbox = sandbox_of(request)
    segment = request.match_info["tenant"]
    try:
        tenant = require_tenant(sandbox, segment)
    except Refusal as refusal:
        # The discovery document says invalid_tenant; the token endpoint says invalid_request.
        refusal.args_ = (refusal.args_[0], "invalid_tenant") + refusal.args_[2:]
        return refusal.response(sandbox)
    return sandbox, tenant, segment if tenant.get("alias") else tenant["id"]


def _cloud_fields(sandbox: Sandbox, tenant: dict[str, Any]) -> dict[str, Any]:
    instance, region = CLOUD_INSTANCE.get(tenant.get("cloud", "AzureCloud"), CLOUD_INSTANCE["AzureCloud"])
    return {"tenant_region_scope": None if tenant.get("alias") else region, "cloud_instance_name": instance,
            "cloud_graph_host_name": AAD_GRAPH_HOST, "msgraph_host": urlparse(sandbox.urls["graph"]).netloc,
            "rbac_url": RBAC_URL}


async def openid_configuration(request: web.Request) -> web.Response:
    """`/{tenant}/v2.0/.well-known/openid-configuration`, the document msal reads."""
    found = _tenant(request)
    if isinstance(found, web.Response):
        return found
    sandbox, tenant, path_tenant = found
    base = f"{sandbox.urls['login']}/{path_tenant}"
    issuer_tenant = "{tenantid}" if tenant.get("alias") else tenant["id"]
    return json_response({
        "token_endpoint": f"{base}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "jwks_uri": f"{base}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{sandbox.urls['login']}/{issuer_tenant}/v2.0",
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": f"{sandbox.urls['graph']}/oidc/userinfo",
        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
        "claims_supported": V2_CLAIMS,
        "kerberos_endpoint": f"{base}/kerberos",
        **_cloud_fields(sandbox, tenant),
    }, headers=METADATA_CACHE)


async def openid_configuration_v1(request: web.Request) -> web.Response:
    """`/{tenant}/.well-known/openid-configuration`, the v1 endpoints' document: the issuer is
    sts.windows.net, as in the v1.0 access tokens the APIs receive."""
    found = _tenant(request)
    if isinstance(found, web.Response):
        return found
    sandbox, tenant, path_tenant = found
    base = f"{sandbox.urls['login']}/{path_tenant}"
    issuer_tenant = "{tenantid}" if tenant.get("alias") else tenant["id"]
    return json_response({
        "token_endpoint": f"{base}/oauth2/token",
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "jwks_uri": f"{sandbox.urls['login']}/common/discovery/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
        "scopes_supported": ["openid"],
        "issuer": f"https://sts.windows.net/{issuer_tenant}/",
        "microsoft_multi_refresh_token": True,
        "authorization_endpoint": f"{base}/oauth2/authorize",
        "device_authorization_endpoint": f"{base}/oauth2/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{base}/oauth2/logout",
        "claims_supported": V1_CLAIMS,
        "check_session_iframe": f"{base}/oauth2/checksession",
        "userinfo_endpoint": f"{base}/openid/userinfo",
        "kerberos_endpoint": f"{base}/kerberos",
        **_cloud_fields(sandbox, tenant),
    }, headers=METADATA_CACHE)


async def keys(request: web.Request) -> web.Response:
    """The v2.0 keys: each names the issuer that signs with it ({tenantid}: any tenant's)."""
    sandbox = sandbox_of(request)
    return json_response(sandbox.issuer.jwks({"cloud_instance_name": "microsoftonline.com",
                                              "issuer": f"{sandbox.urls['login']}/{{tenantid}}/v2.0"}),
                         headers=METADATA_CACHE)


async def keys_v1(request: web.Request) -> web.Response:
    return json_response(sandbox_of(request).issuer.jwks(), headers=METADATA_CACHE)


def routes() -> list[web.RouteDef]:
    return [
        web.get("/{tenant}/v2.0/.well-known/openid-configuration", openid_configuration),
        web.get("/{tenant}/.well-known/openid-configuration", openid_configuration_v1),
        web.get("/{tenant}/discovery/v2.0/keys", keys),
        web.get("/{tenant}/discovery/keys", keys_v1),
    ]
