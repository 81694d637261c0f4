"""The identity platform's v2.0 endpoints: authorize with a real sign-in form, token
(authorization_code, refresh_token, client_credentials, device_code) and devicecode. The published
metadata (discovery documents, keys) is in discovery.py."""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any
from urllib.parse import unquote_plus, urlencode, urlparse

from aiohttp import web

from . import catalog, credentials, gdap, pages
from .context import Sandbox, aad_error, json_response, sandbox_of
from .ids import hash_secret, stable_id
from .tokens import client_info

TENANT_ALIASES = {"common", "organizations"}
CLOUD_INSTANCE = {
    "AzureCloud": ("microsoftonline.com", "WW"),
    "AzureUSGovernment": ("microsoftonline.us", "USGov"),
    "AzureChinaCloud": ("partner.microsoftonline.cn", "CN"),
}
REFRESH_TOKEN_PREFIX = "1.AS"
REFRESH_INACTIVE_SECONDS = 90 * 86400
CODE_SECONDS = 600
DEVICE_CODE_SECONDS = 900
OOB = "urn:ietf:wg:oauth:2.0:oob"


class Refusal(Exception):
    """An Entra error response: raised deep in a grant, answered once at the top."""

    def __init__(self, status: int, error: str, code: int, message: str, suberror: str | None = None):
        super().__init__(message)
        self.args_ = (status, error, code, message, suberror)

    def response(self, sandbox: Sandbox) -> web.Response:
        return aad_error(sandbox, *self.args_)


# lookups -------------------------------------------------------------------------------------
def resolve_tenant(sandbox: Sandbox, segment: str) -> dict[str, Any] | None:
    if segment.lower() in TENANT_ALIASES:
        return {"id": segment.lower(), "alias": True, "cloud": "AzureCloud", "kind": "alias"}
    return sandbox.store.tenant(segment)


def require_parameter(form: dict[str, str], name: str) -> str:
    """Entra answers a missing required parameter with AADSTS900144, whichever it is."""
    value = form.get(name)
    if not value:
        raise Refusal(400, "invalid_request", 900144,
                      f"The request body must contain the following parameter: '{name}'.")
    return value


def basic_client_credentials(request: web.Request, form: dict[str, str]) -> dict[str, str]:
    """client_secret_basic (RFC 6749 section 2.3.1): id and secret, each form-urlencoded, in an
    HTTP Basic header; the identity platform advertises it and takes it like the form fields."""
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("basic "):
        return form
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        client_id, _colon, secret = decoded.partition(":")
    except (ValueError, UnicodeDecodeError):
        raise Refusal(401, "invalid_client", 7000215, "Invalid client secret provided.") from None
    form = dict(form)
    form.setdefault("client_id", unquote_plus(client_id))
    form["client_secret"] = unquote_plus(secret)
    return form


def require_tenant(sandbox: Sandbox, segment: str) -> dict[str, Any]:
    tenant = resolve_tenant(sandbox, segment)
    if tenant is None:
        raise Refusal(400, "invalid_request", 90002,
                      f"Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and are "
                      "signing into the correct cloud.")
    return tenant


def require_app(sandbox: Sandbox, client_id: str, tenant_id: str) -> tuple[str, dict[str, Any]]:
    home, app = sandbox.store.application_by_app_id(client_id or "")
    if app is None:
        raise Refusal(400, "unauthorized_client", 700016,
                      f"Application with identifier '{client_id}' was not found in the directory '{tenant_id}'. "
                      "This can happen if the application has not been installed by the administrator of the "
                      "tenant or consented to by any user in the tenant.")
    return home, app


def find_user_by_upn(sandbox: Sandbox, upn: str) -> tuple[str, dict[str, Any]] | tuple[None, None]:
    for row in sandbox.store.all("SELECT tenant_id, data FROM directory WHERE kind='user'"):
        user = json.loads(row["data"])
        if user["userPrincipalName"].lower() == upn.strip().lower():
            return row["tenant_id"], user
    return None, None


def is_admin_agent(sandbox: Sandbox, partner_id: str, object_id: str) -> bool:
    return sandbox.store.one(
        "SELECT 1 FROM members m JOIN directory g ON g.id=m.group_id WHERE g.tenant_id=? AND g.kind='group'"
        " AND g.display_name='AdminAgents' AND m.member_id=?", (partner_id, object_id)) is not None


def cross_cloud_check(tenant: dict[str, Any], confidential: bool) -> None:
    if tenant.get("cloud", "AzureCloud") != "AzureCloud":
        if confidential:
            raise Refusal(400, "invalid_request", 900382, "Confidential Client is not supported in Cross Cloud request.")
        raise Refusal(400, "invalid_request", 90038,
                      f"Tenant '{tenant['id']}' is not in the cloud this request was sent to; it lives in "
                      f"{tenant['cloud']}.")


# scopes and consent --------------------------------------------------------------------------
def parse_scopes(sandbox: Sandbox, scope: str) -> tuple[str, list[str], set[str]]:
    """Split a v2 scope string into (resource key, permission names, OIDC scopes).

    A request names at most one resource; with none, the token is for Microsoft Graph."""
    oidc: set[str] = set()
    by_resource: dict[str, list[str]] = {}
    for item in scope.split():
        if item in catalog.OIDC_SCOPES:
            oidc.add(item)
            continue
        if "://" in item:
            identifier, _slash, name = item.rpartition("/")
        else:
            identifier, name = sandbox.resource_identifier("graph"), item
        key = sandbox.resource_key_for(identifier)
        if key is None:
            raise Refusal(400, "invalid_resource", 500011,
                          f"The resource principal named {identifier} was not found in the tenant. This can happen "
                          "if the application has not been installed by the administrator of the tenant.")
        by_resource.setdefault(key, []).append(name)
    if len(by_resource) > 1:
        raise Refusal(400, "invalid_scope", 700022,
                      "The provided value for the input parameter scope is not valid because it contains more "
                      f"than one resource. Scope {scope} is not valid.")
    if not by_resource:
        return "graph", ["User.Read"], oidc
    key, names = next(iter(by_resource.items()))
    return key, names, oidc


def static_scopes(app: dict[str, Any], resource_key: str) -> list[str]:
    """Delegated permissions the app registration lists for a resource (requiredResourceAccess)."""
    names = []
    resource_app_id = catalog.RESOURCES[resource_key]["app_id"]
    for entry in app.get("requiredResourceAccess", []):
        if entry.get("resourceAppId") != resource_app_id:
            continue
        for access in entry.get("resourceAccess", []):
            if access.get("type") == "Scope":
                name = catalog.scope_name(resource_key, access.get("id"))
                if name:
                    names.append(name)
    return names


def granted_scopes(sandbox: Sandbox, tenant_id: str, app: dict[str, Any], resource_key: str, user_id: str) -> set[str]:
    if app.get("x_first_party"):
        return set(catalog.FIRST_PARTY_GRANTS.get(resource_key, []))
    rows = sandbox.store.all(
        "SELECT scopes FROM grants WHERE tenant_id=? AND client_app_id=? AND resource_app_id=?"
        " AND principal_id IN (?, 'all')",
        (tenant_id, app["appId"], catalog.RESOURCES[resource_key]["app_id"], user_id))
    return {name for row in rows for name in row["scopes"].split()}


def all_consented_resources(sandbox: Sandbox, tenant_id: str, app: dict[str, Any], user_id: str) -> dict[str, list[str]]:
    return {key: sorted(granted_scopes(sandbox, tenant_id, app, key, user_id)) for key in catalog.RESOURCES}


def record_consent(sandbox: Sandbox, tenant_id: str, app: dict[str, Any], user: dict[str, Any],
                   wanted: dict[str, list[str]], for_org: bool) -> None:
    principal = "all" if for_org else user["id"]
    for resource_key, names in wanted.items():
        if not names:
            continue
        resource_app_id = catalog.RESOURCES[resource_key]["app_id"]
        row = sandbox.store.one("SELECT scopes FROM grants WHERE tenant_id=? AND client_app_id=? AND"
                                " resource_app_id=? AND principal_id=?",
                                (tenant_id, app["appId"], resource_app_id, principal))
        merged = sorted(set(row["scopes"].split() if row else []) | set(names))
        sandbox.store.execute("INSERT OR REPLACE INTO grants VALUES(?, ?, ?, ?, ?)",
                              (tenant_id, app["appId"], resource_app_id, " ".join(merged), principal))
    # Consent creates the app's service principal in the tenant if it is not there yet.
    if sandbox.store.service_principal(tenant_id, app["appId"]) is None:
        sandbox.store.put_object("servicePrincipal", tenant_id, {
            "id": stable_id(tenant_id, "sp", app["appId"]), "appId": app["appId"],
            "displayName": app.get("displayName"), "servicePrincipalType": "Application"})


def consent_needed(sandbox: Sandbox, tenant_id: str, app: dict[str, Any], user: dict[str, Any],
                   resource_key: str, names: list[str], prompt: str) -> dict[str, list[str]]:
    """What the consent screen must ask for: the requested permissions plus the app's static
    ones, minus what is already granted. Empty when nothing needs asking."""
    if app.get("x_first_party"):
        return {}
    wanted: dict[str, list[str]] = {}
    requested = [n for n in names if n != ".default"]
    for key in catalog.RESOURCES:
        static = static_scopes(app, key)
        asked = (requested if key == resource_key else []) + static
        if asked:
            wanted[key] = sorted(set(asked))
    if prompt == "consent":
        return wanted
    missing = {}
    for key, asked in wanted.items():
        have = granted_scopes(sandbox, tenant_id, app, key, user["id"])
        if set(asked) - have:
            missing[key] = asked
    return missing


# client authentication -----------------------------------------------------------------------
def authenticate_client(sandbox: Sandbox, app_home: str, app: dict[str, Any], form: dict[str, str],
                        public_allowed: bool) -> bool:
    """Return True for a confidential (authenticated) client, False for an accepted public one."""
    secret = form.get("client_secret")
    if form.get("client_assertion"):
        try:
            credentials.verify_client_assertion(sandbox.store, sandbox.issuer, sandbox.urls["login"], app, form,
                                                sandbox.now())
        except credentials.CredentialError as error:
            raise Refusal(error.status, error.error, error.code, error.message) from None
        return True
    if secret is None:
        if public_allowed:
            return False
        raise Refusal(401, "invalid_client", 7000218,
                      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
    digest = hash_secret(secret)
    row = sandbox.store.one("SELECT * FROM passwords WHERE app_object_id=? AND secret_hash=?", (app["id"], digest))
    if row is None:
        raise Refusal(401, "invalid_client", 7000215,
                      f"Invalid client secret provided. Ensure the secret being sent in the request is the client "
                      f"secret value, not the client secret ID, for a secret added to app '{app['appId']}'.")
    if row["end"] is not None and row["end"] < sandbox.now():
        raise Refusal(401, "invalid_client", 7000222,
                      f"The provided client secret keys for app '{app['appId']}' are expired. Visit the Azure portal "
                      "to create new keys for your app.")
    return True


def is_public_client(app: dict[str, Any], redirect_uri: str | None = None) -> bool:
    if app.get("isFallbackPublicClient"):
        return True
    if redirect_uri is not None:
        return redirect_matches(app.get("publicClient", {}).get("redirectUris", []), redirect_uri)
    return False


def redirect_matches(registered: list[str], redirect_uri: str) -> bool:
    if redirect_uri in registered:
        return True
    # Entra ignores the port of loopback redirect URIs.
    wanted = urlparse(redirect_uri)
    if wanted.scheme == "http" and wanted.hostname in ("localhost", "127.0.0.1"):
        for uri in registered:
            reg = urlparse(uri)
            if reg.scheme == "http" and reg.hostname == wanted.hostname and reg.path.rstrip("/") == wanted.path.rstrip("/"):
                return True
    return False


def registered_redirects(app: dict[str, Any]) -> list[str]:
    return app.get("web", {}).get("redirectUris", []) + app.get("publicClient", {}).get("redirectUris", [])


# token issuance ------------------------------------------------------------------------------
def new_refresh_token(sandbox: Sandbox, *, client_id: str, user_id: str, home_tenant_id: str, mfa: bool,
                      confidential: bool) -> str:
    value = REFRESH_TOKEN_PREFIX + secrets.token_urlsafe(96)
    now = sandbox.now()
    sandbox.store.execute(
        "INSERT INTO refresh_tokens VALUES(?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
        (hash_secret(value), secrets.token_hex(8), client_id, user_id, home_tenant_id, now, now, int(mfa),
         int(confidential)))
    return value


def user_token_response(sandbox: Sandbox, *, tenant_id: str, home_tenant_id: str, app: dict[str, Any],
                        user: dict[str, Any], resource_key: str, names: list[str], oidc: set[str], mfa: bool,
                        confidential: bool, nonce: str | None = None, wids: list[str] | None = None) -> dict[str, Any]:
    identifier = sandbox.resource_identifier(resource_key)
    access_token, lifetime, jti = sandbox.issuer.access_token(
        tenant_id=tenant_id, audience=identifier, client_id=app["appId"], subject=user, scopes=names, mfa=mfa,
        home_tenant_id=home_tenant_id, wids=wids)
    sandbox.store.execute("INSERT INTO issued_tokens VALUES(?, 'delegated', ?, ?, ?, ?, ?, ?)",
                          (jti, app["appId"], user["id"], tenant_id, identifier, " ".join(names), sandbox.now()))
    sandbox.count("tokens_issued")
    body: dict[str, Any] = {
        "token_type": "Bearer",
        "scope": " ".join([f"{identifier}/{name}" for name in names] + sorted(oidc - {"email"})),
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access_token,
    }
    if "offline_access" in oidc:
        body["refresh_token"] = new_refresh_token(
            sandbox, client_id=app["appId"], user_id=user["id"], home_tenant_id=home_tenant_id, mfa=mfa,
            confidential=confidential)
    if "openid" in oidc:
        body["id_token"] = sandbox.issuer.id_token(tenant_id=home_tenant_id, client_id=app["appId"], user=user,
                                                   nonce=nonce)
    body["client_info"] = client_info(user["id"], home_tenant_id)
    return body


def delegated_names(sandbox: Sandbox, tenant_id: str, app: dict[str, Any], user: dict[str, Any],
                    resource_key: str, names: list[str], consent_tenant: str | None = None) -> list[str]:
    """The permissions a delegated token carries, or a 65001 refusal when consent is missing."""
    granted = granted_scopes(sandbox, consent_tenant or tenant_id, app, resource_key, user["id"])
    if ".default" in names:
        if not granted:
            raise Refusal(400, "invalid_grant", 65001, _no_consent(app, tenant_id), "consent_required")
        return sorted(granted)
    missing = set(names) - granted
    if missing:
        raise Refusal(400, "invalid_grant", 65001, _no_consent(app, tenant_id), "consent_required")
    return names


def _no_consent(app: dict[str, Any], tenant_id: str) -> str:
    return (f"The user or administrator has not consented to use the application with ID '{app['appId']}' named "
            f"'{app.get('displayName')}'. Send an interactive authorization request for this user and resource.")


def customer_names(sandbox: Sandbox, tenant: dict[str, Any], home_tenant_id: str, app: dict[str, Any],
                   user: dict[str, Any], resource_key: str, names: list[str]) -> tuple[list[str], list[str]]:
    """A partner's agent acting in a customer tenant: the permissions and the role ids (wids) its
    token carries. DAP: the app pre-consented through AdminAgents, Global Administrator. GDAP: the
    roles of active access assignments covering the agent, and only what the partner consented in
    the customer through Partner Center. Anything else: the agent does not exist there."""
    not_in_tenant = Refusal(400, "invalid_grant", 50020,
                            f"User account '{user.get('userPrincipalName')}' from identity provider "
                            f"'{sandbox.issuer.issuer(home_tenant_id)}' does not exist in tenant "
                            f"'{tenant.get('display_name')}' and cannot access the application '{app['appId']}' "
                            "in that tenant.")
    if tenant.get("partner_id") != home_tenant_id:
        raise not_in_tenant
    if tenant.get("relationship") == "DAP":
        if not is_admin_agent(sandbox, home_tenant_id, user["id"]):
            raise not_in_tenant
        sp = sandbox.store.service_principal(home_tenant_id, app["appId"])
        if sp is None or not is_admin_agent(sandbox, home_tenant_id, sp["id"]):
            raise Refusal(400, "invalid_grant", 65001, _no_consent(app, tenant["id"]), "consent_required")
        names = delegated_names(sandbox, tenant["id"], app, user, resource_key, names, consent_tenant=home_tenant_id)
        return names, [gdap.GLOBAL_ADMINISTRATOR]
    roles = gdap.agent_roles(sandbox, home_tenant_id, tenant["id"], user["id"])
    if not roles:
        raise not_in_tenant
    row = sandbox.store.one("SELECT grants FROM app_consents WHERE customer_tenant_id=? AND application_id=?",
                            (tenant["id"], app["appId"]))
    if row is None:
        raise Refusal(400, "invalid_grant", 65001, _no_consent(app, tenant["id"]), "consent_required")
    resource_app_id = catalog.RESOURCES[resource_key]["app_id"]
    # Entra compares permission names without regard to case: the consent's spelling -> its name.
    granted: dict[str, str] = {}
    for grant in json.loads(row["grants"]):
        if str(grant.get("enterpriseApplicationId", "")).lower() == resource_app_id:
            for scope in (s.strip() for s in grant.get("scope", "").split(",")):
                if scope:
                    granted.setdefault(scope.lower(), scope)
    wanted = sorted(granted.values()) if ".default" in names else names
    if not granted or {name.lower() for name in wanted} - set(granted):
        raise Refusal(400, "invalid_grant", 65001, _no_consent(app, tenant["id"]), "consent_required")
    return wanted, sorted(roles)


# endpoints -----------------------------------------------------------------------------------
async def token(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    form = dict(await request.post())
    try:
        if "resource" in form:
            raise Refusal(400, "invalid_request", 901002, "The 'resource' request parameter is not supported.")
        tenant = require_tenant(sandbox, request.match_info["tenant"])
        credentials.TOKEN_REQUEST.set((request.match_info["tenant"], tenant["id"], tenant.get("domain") or ""))
        form = basic_client_credentials(request, form)
        grant_type = require_parameter(form, "grant_type")
        require_parameter(form, "client_id")
        handler = GRANTS.get(grant_type)
        if handler is None:
            raise Refusal(400, "unsupported_grant_type", 70003,
                          f"The app requested an unsupported grant type '{grant_type}'.")
        return json_response(await handler(sandbox, tenant, form))
    except Refusal as refusal:
        sandbox.count("token_errors")
        return refusal.response(sandbox)


async def grant_authorization_code(sandbox: Sandbox, tenant: dict[str, Any], form: dict[str, str]) -> dict[str, Any]:
    app_home, app = require_app(sandbox, form.get("client_id", ""), tenant["id"])
    row = sandbox.store.one("SELECT * FROM auth_codes WHERE hash=?", (hash_secret(require_parameter(form, "code")),))
    invalid = Refusal(400, "invalid_grant", 70008,
                      "The provided authorization code or refresh token has expired due to inactivity. Send a new "
                      "interactive authorization request for this user and resource.")
    if row is not None and row["used"]:
        raise Refusal(400, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry "
                      "with a new valid code or use an existing refresh token.")
    if row is None or row["expires"] < sandbox.now():
        raise invalid
    data = json.loads(row["data"])
    if data["client_id"] != app["appId"]:
        raise Refusal(400, "invalid_grant", 70000, "Provided grant is invalid or malformed: the code was issued "
                      "to another application.")
    if data["redirect_uri"] != form.get("redirect_uri"):
        raise Refusal(400, "invalid_grant", 50148, "The redirect_uri does not match the one used in the "
                      "authorization request.")
    if data.get("code_challenge"):
        verifier = form.get("code_verifier", "")
        computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if computed != data["code_challenge"]:
            raise Refusal(400, "invalid_grant", 501481,
                          "The Code_Verifier does not match the code_challenge supplied in the authorization request.")
    confidential = authenticate_client(sandbox, app_home, app, form,
                                       public_allowed=is_public_client(app, data["redirect_uri"]))
    sandbox.store.execute("UPDATE auth_codes SET used=1 WHERE hash=?", (row["hash"],))
    user = sandbox.store.get_object(data["user_id"], "user")
    resource_key, names, oidc = parse_scopes(sandbox, form.get("scope") or data["scope"])
    home = data["user_tenant_id"]
    names = delegated_names(sandbox, home, app, user, resource_key, names)
    return user_token_response(sandbox, tenant_id=home, home_tenant_id=home, app=app, user=user,
                               resource_key=resource_key, names=names, oidc=oidc,
                               mfa=bool(data["mfa"]), confidential=confidential, nonce=data.get("nonce"))


async def grant_refresh_token(sandbox: Sandbox, tenant: dict[str, Any], form: dict[str, str]) -> dict[str, Any]:
    app_home, app = require_app(sandbox, form.get("client_id", ""), tenant["id"])
    value = require_parameter(form, "refresh_token")
    require_parameter(form, "scope")
    malformed = Refusal(400, "invalid_grant", 70000, "Provided grant is invalid or malformed.")
    if not value.startswith(REFRESH_TOKEN_PREFIX):
        raise malformed
    row = sandbox.store.one("SELECT * FROM refresh_tokens WHERE hash=?", (hash_secret(value),))
    if row is None:
        raise malformed
    if row["client_id"] != app["appId"]:
        raise Refusal(400, "invalid_grant", 70000, "Provided grant is invalid or malformed: the refresh token was "
                      "issued to a different client.")
    if row["revoked"]:
        reason = "has been revoked" if row["revoked"] == 1 else "has expired"
        raise Refusal(400, "invalid_grant", 70008,
                      f"The provided authorization code or refresh token {reason}. Send a new interactive "
                      "authorization request for this user and resource.")
    # Each refresh token's own window runs from its issue: using it gives a new token (rotation)
    # and does not make the old one last longer.
    if sandbox.now() - row["issued"] > REFRESH_INACTIVE_SECONDS:
        raise Refusal(400, "invalid_grant", 700082,
                      "The refresh token has expired due to inactivity. The token was issued on "
                      f"{int(row['issued'])} and was inactive for 90.00:00:00.")
    public_allowed = not row["confidential"]
    confidential = authenticate_client(sandbox, app_home, app, form, public_allowed=public_allowed)
    target = row["home_tenant_id"] if tenant.get("alias") else tenant["id"]
    target_tenant = sandbox.store.tenant(target)
    sandbox.store.execute("INSERT INTO refresh_token_uses VALUES(?, ?, ?)", (row["id"], target, sandbox.now()))
    cross_cloud_check(target_tenant, confidential)
    user = sandbox.store.get_object(row["user_id"], "user")
    if user is None or not user.get("accountEnabled", True):
        raise Refusal(400, "invalid_grant", 50057, "The user account is disabled.")
    resource_key, names, oidc = parse_scopes(sandbox, form.get("scope", ""))
    wids = None
    if target != row["home_tenant_id"]:
        names, wids = customer_names(sandbox, target_tenant, row["home_tenant_id"], app, user, resource_key, names)
    else:
        names = delegated_names(sandbox, target, app, user, resource_key, names)
    sandbox.store.execute("UPDATE refresh_tokens SET last_used=? WHERE hash=?", (sandbox.now(), row["hash"]))
    # Entra rotates: each refresh returns a new token; the old one stays valid until it ages out.
    return user_token_response(sandbox, tenant_id=target, home_tenant_id=row["home_tenant_id"], app=app, user=user,
                               resource_key=resource_key, names=names, oidc=oidc,
                               mfa=bool(row["mfa"]), confidential=confidential, wids=wids)


async def grant_client_credentials(sandbox: Sandbox, tenant: dict[str, Any], form: dict[str, str]) -> dict[str, Any]:
    app_home, app = require_app(sandbox, form.get("client_id", ""), tenant["id"])
    if tenant.get("alias"):
        raise Refusal(400, "invalid_request", 90009,
                      "Application is requesting a token for itself. This scenario is supported only if resource "
                      "is specified using the GUID based App Identifier.")
    authenticate_client(sandbox, app_home, app, form, public_allowed=False)
    cross_cloud_check(tenant, True)
    sp = sandbox.store.service_principal(tenant["id"], app["appId"])
    if sp is None:
        raise Refusal(400, "unauthorized_client", 700016,
                      f"Application with identifier '{app['appId']}' was not found in the directory "
                      f"'{tenant['id']}'. This can happen if the application has not been installed by the "
                      "administrator of the tenant.")
    scope = require_parameter(form, "scope")
    if not scope.endswith("/.default") or len(scope.split()) != 1:
        raise Refusal(400, "invalid_scope", 1002012,
                      f"The provided value for scope {scope} is not valid. Client credential flows must have a scope "
                      "value with /.default suffixed to the resource identifier (application ID URI).")
    resource_key, _names, _oidc = parse_scopes(sandbox, scope)
    resource_app_id = catalog.RESOURCES[resource_key]["app_id"]
    roles = [r["role"] for r in sandbox.store.all(
        "SELECT role FROM app_roles WHERE tenant_id=? AND client_app_id=? AND resource_app_id=?",
        (tenant["id"], app["appId"], resource_app_id))]
    identifier = sandbox.resource_identifier(resource_key)
    access_token, lifetime, jti = sandbox.issuer.access_token(
        tenant_id=tenant["id"], audience=identifier, client_id=app["appId"], subject=sp, roles=roles)
    sandbox.store.execute("INSERT INTO issued_tokens VALUES(?, 'application', ?, ?, ?, ?, ?, ?)",
                          (jti, app["appId"], sp["id"], tenant["id"], identifier, " ".join(roles), sandbox.now()))
    sandbox.count("tokens_issued")
    # The identity platform returns no scope for client credentials (the roles are in the token).
    return {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": access_token}


async def grant_device_code(sandbox: Sandbox, tenant: dict[str, Any], form: dict[str, str]) -> dict[str, Any]:
    app_home, app = require_app(sandbox, form.get("client_id", ""), tenant["id"])
    row = sandbox.store.one("SELECT * FROM device_codes WHERE hash=?",
                            (hash_secret(require_parameter(form, "device_code")),))
    if row is None:
        raise Refusal(400, "bad_verification_code", 70019, "Verification code is invalid.")
    if row["expires"] < sandbox.now():
        raise Refusal(400, "expired_token", 70020, "The provided value for the input parameter 'device_code' is "
                      "not valid. This device code has expired.")
    if row["status"] == "declined":
        raise Refusal(400, "authorization_declined", 70000, "The user declined the authorization request.")
    if row["status"] == "redeemed":
        raise Refusal(400, "invalid_grant", 70000, "Provided grant is invalid or malformed: already redeemed.")
    if row["status"] != "approved":
        raise Refusal(400, "authorization_pending", 70016,
                      "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
    data = json.loads(row["data"])
    confidential = authenticate_client(sandbox, app_home, app, form, public_allowed=is_public_client(app))
    sandbox.store.execute("UPDATE device_codes SET status='redeemed' WHERE hash=?", (row["hash"],))
    user = sandbox.store.get_object(row["user_id"], "user")
    home = data["user_tenant_id"]
    resource_key, names, oidc = parse_scopes(sandbox, data["scope"])
    names = delegated_names(sandbox, home, app, user, resource_key, names)
    return user_token_response(sandbox, tenant_id=home, home_tenant_id=home, app=app, user=user,
                               resource_key=resource_key, names=names, oidc=oidc,
                               mfa=bool(row["mfa"]), confidential=confidential)


GRANTS = {
    "authorization_code": grant_authorization_code,
    "refresh_token": grant_refresh_token,
    "client_credentials": grant_client_credentials,
    "urn:ietf:params:oauth:grant-type:device_code": grant_device_code,
}


# interactive sign-in -------------------------------------------------------------------------
def html_response(body: str, status: int = 200) -> web.Response:
    return web.Response(text=body, status=status, content_type="text/html",
                        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"})


def redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location, "Cache-Control": "no-store"})


def save_flow(sandbox: Sandbox, flow: dict[str, Any]) -> str:
    flow_id = flow.get("id") or secrets.token_urlsafe(18)
    flow["id"] = flow_id
    sandbox.store.execute("INSERT OR REPLACE INTO logins VALUES(?, ?, ?)",
                          (flow_id, json.dumps(flow), sandbox.now() + 1800))
    return flow_id


def load_flow(sandbox: Sandbox, flow_id: str) -> dict[str, Any] | None:
    row = sandbox.store.one("SELECT data, expires FROM logins WHERE id=?", (flow_id,))
    if row is None or row["expires"] < sandbox.now():
        return None
    return json.loads(row["data"])


async def authorize(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    query = request.query
    try:
        tenant = require_tenant(sandbox, request.match_info["tenant"])
        cross_cloud_check(tenant, False)
        _home, app = require_app(sandbox, query.get("client_id", ""), tenant["id"])
    except Refusal as refusal:
        return html_response(pages.error_page(refusal.args_[2], refusal.args_[3]), 400)
    redirect_uri = query.get("redirect_uri", "")
    if not redirect_matches(registered_redirects(app), redirect_uri):
        return html_response(pages.error_page(
            50011, f"The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs "
                   f"configured for the application '{app['appId']}'. Make sure the redirect URI sent in the "
                   "request matches one added to your application in the Azure portal."), 400)
    if query.get("response_type") != "code":
        return redirect_error(query, "unsupported_response_type", 70005, "The response_type is not supported.")
    if query.get("code_challenge") and query.get("code_challenge_method", "plain") != "S256":
        return redirect_error(query, "invalid_request", 501491,
                              "Invalid code_challenge_method: only S256 is supported.")
    try:
        resource_key, names, oidc = parse_scopes(sandbox, query.get("scope", ""))
    except Refusal as refusal:
        return redirect_error(query, refusal.args_[1], refusal.args_[2], refusal.args_[3])
    flow = {
        "kind": "authorize", "tenant": tenant["id"], "client_id": app["appId"], "scope": query.get("scope", ""),
        "redirect_uri": redirect_uri, "response_mode": query.get("response_mode") or "query",
        "state": query.get("state"), "nonce": query.get("nonce"), "code_challenge": query.get("code_challenge"),
        "prompt": query.get("prompt", ""), "login_hint": query.get("login_hint", ""), "client_info": query.get("client_info"),
    }
    flow_id = save_flow(sandbox, flow)
    return html_response(pages.sign_in(login_action(request), flow_id, app.get("displayName") or app["appId"],
                                       flow["login_hint"]))


def login_action(request: web.Request) -> str:
    return f"{sandbox_of(request).urls['login']}/{request.match_info.get('tenant', 'common')}/login"


def redirect_error(query, error: str, code: int, message: str) -> web.Response:
    params = {"error": error, "error_description": f"AADSTS{code}: {message}", "state": query.get("state", "")}
    return redirect(f"{query.get('redirect_uri')}?{urlencode(params)}")


async def login_step(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    form = dict(await request.post())
    flow = load_flow(sandbox, form.get("flow", ""))
    if flow is None:
        return html_response(pages.error_page(50058, "The sign-in session has expired. Start the sign-in again."), 400)
    _home, app = sandbox.store.application_by_app_id(flow["client_id"])
    app_name = app.get("displayName") or app["appId"]
    action = login_action(request)
    step = form.get("step")
    if step == "credentials":
        user_tenant_id, user = find_user_by_upn(sandbox, form.get("username", ""))
        if user is None:
            return html_response(pages.sign_in(action, flow["id"], app_name, form.get("username", ""),
                                               "AADSTS50034: We couldn't find an account with that username."), 200)
        if flow["tenant"] not in TENANT_ALIASES and flow["tenant"] != user_tenant_id:
            return html_response(pages.sign_in(action, flow["id"], app_name, form.get("username", ""),
                                               "AADSTS50020: That account does not exist in this tenant."), 200)
        if hash_secret(form.get("password", "")) != user["x_password_hash"]:
            return html_response(pages.sign_in(action, flow["id"], app_name, form.get("username", ""),
                                               "AADSTS50126: Your account or password is incorrect."), 200)
        flow.update(user_id=user["id"], user_tenant_id=user_tenant_id, mfa=False)
        save_flow(sandbox, flow)
        if user["x_mfa"]:
            return html_response(pages.mfa(action, flow["id"], user["userPrincipalName"]))
        return after_authentication(sandbox, request, flow, app, user)
    user = sandbox.store.get_object(flow.get("user_id", ""), "user")
    if user is None:
        return html_response(pages.error_page(50058, "Sign in first."), 400)
    if step == "mfa":
        if form.get("otc", "").strip() != user["x_mfa_code"]:
            return html_response(pages.mfa(action, flow["id"], user["userPrincipalName"],
                                           "That code didn't work. Check the code and try again."))
        flow["mfa"] = True
        save_flow(sandbox, flow)
        return after_authentication(sandbox, request, flow, app, user)
    if step == "consent":
        if form.get("accept") != "yes":
            return finish_declined(sandbox, flow)
        wanted = flow.get("consent", {})
        for_org = bool(form.get("consent_org")) and "Global Administrator" in user.get("x_roles", [])
        record_consent(sandbox, flow["user_tenant_id"], app, user, wanted, for_org)
        return finish(sandbox, flow, user)
    return html_response(pages.error_page(900144, "The request body must contain the parameter 'step'."), 400)


def after_authentication(sandbox: Sandbox, request: web.Request, flow: dict[str, Any], app: dict[str, Any],
                         user: dict[str, Any]) -> web.Response:
    resource_key, names, _oidc = parse_scopes(sandbox, flow["scope"])
    missing = consent_needed(sandbox, flow["user_tenant_id"], app, user, resource_key, names, flow.get("prompt", ""))
    if missing:
        flow["consent"] = missing
        save_flow(sandbox, flow)
        permissions = [f"{catalog.RESOURCES[key]['name']}: {name}" for key, items in missing.items() for name in items]
        return html_response(pages.consent(login_action(request), flow["id"], app.get("displayName") or app["appId"],
                                           user["userPrincipalName"], permissions,
                                           "Global Administrator" in user.get("x_roles", [])))
    return finish(sandbox, flow, user)


def finish(sandbox: Sandbox, flow: dict[str, Any], user: dict[str, Any]) -> web.Response:
    sandbox.store.execute("DELETE FROM logins WHERE id=?", (flow["id"],))
    if flow["kind"] == "device":
        sandbox.store.execute("UPDATE device_codes SET status='approved', user_id=?, mfa=?, data=? WHERE hash=?",
                              (user["id"], int(flow["mfa"]), json.dumps({"scope": flow["scope"],
                               "user_tenant_id": flow["user_tenant_id"]}), flow["device_hash"]))
        return html_response(pages.done("You have signed in to the application on your device. You may now close "
                                        "this window."))
    code = secrets.token_urlsafe(48)
    sandbox.store.execute("INSERT INTO auth_codes VALUES(?, ?, ?, 0)", (hash_secret(code), json.dumps({
        "client_id": flow["client_id"], "redirect_uri": flow["redirect_uri"], "user_id": user["id"],
        "user_tenant_id": flow["user_tenant_id"], "scope": flow["scope"], "nonce": flow.get("nonce"),
        "code_challenge": flow.get("code_challenge"), "mfa": flow["mfa"]}), sandbox.now() + CODE_SECONDS))
    fields = {"code": code}
    if flow.get("state") is not None:
        fields["state"] = flow["state"]
    if flow.get("client_info"):
        fields["client_info"] = client_info(user["id"], flow["user_tenant_id"])
    fields["session_state"] = secrets.token_hex(8)
    if flow["redirect_uri"] == OOB:
        return html_response(pages.show_code(code))
    if flow["response_mode"] == "form_post":
        return html_response(pages.form_post(flow["redirect_uri"], fields))
    separator = "&" if "?" in flow["redirect_uri"] else "?"
    return redirect(f"{flow['redirect_uri']}{separator}{urlencode(fields)}")


def finish_declined(sandbox: Sandbox, flow: dict[str, Any]) -> web.Response:
    sandbox.store.execute("DELETE FROM logins WHERE id=?", (flow["id"],))
    if flow["kind"] == "device":
        sandbox.store.execute("UPDATE device_codes SET status='declined' WHERE hash=?", (flow["device_hash"],))
        return html_response(pages.done("You declined to sign in to the application."))
    fields = {"error": "access_denied", "error_description": "AADSTS65004: User declined to consent to access the app.",
              "state": flow.get("state") or ""}
    if flow["redirect_uri"] == OOB:
        return html_response(pages.error_page(65004, "User declined to consent to access the app."), 400)
    if flow["response_mode"] == "form_post":
        return html_response(pages.form_post(flow["redirect_uri"], fields))
    return redirect(f"{flow['redirect_uri']}?{urlencode(fields)}")


# device code -----------------------------------------------------------------------------------
def new_user_code() -> str:
    alphabet = "BCDFGHJKLMNPQRSTVWXZ23456789"
    return "".join(secrets.choice(alphabet) for _attempt in range(9))


async def devicecode(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    form = dict(await request.post())
    try:
        tenant = require_tenant(sandbox, request.match_info["tenant"])
        cross_cloud_check(tenant, False)
        _home, app = require_app(sandbox, require_parameter(form, "client_id"), tenant["id"])
        parse_scopes(sandbox, require_parameter(form, "scope"))
    except Refusal as refusal:
        return refusal.response(sandbox)
    device_code = secrets.token_urlsafe(48)
    user_code = new_user_code()
    now = sandbox.now()
    sandbox.store.execute("INSERT INTO device_codes VALUES(?, ?, ?, 'pending', NULL, 0, ?, ?)", (
        hash_secret(device_code), user_code, json.dumps({"scope": form.get("scope", ""), "tenant": tenant["id"],
                                                         "client_id": app["appId"]}),
        now + DEVICE_CODE_SECONDS, now))
    verification_uri = f"{sandbox.urls['login']}/common/oauth2/deviceauth"
    auto_approve_device_code(sandbox, user_code)
    return json_response({
        "user_code": user_code, "device_code": device_code, "verification_uri": verification_uri,
        "expires_in": DEVICE_CODE_SECONDS, "interval": 5,
        "message": f"To sign in, use a web browser to open the page {verification_uri} and enter the code "
                   f"{user_code} to authenticate."})


def auto_approve_device_code(sandbox: Sandbox, user_code: str) -> bool:
    """Unattended demos and tests: sign a pending device code in as the configured user, doing
    MFA when the user has it registered and consenting as the user would on the page."""
    row = sandbox.store.one("SELECT * FROM device_codes WHERE user_code=? AND status='pending'", (user_code,))
    if row is None:
        return False
    data = json.loads(row["data"])
    for rule in sandbox.auto_approve:
        if rule.get("client_id") not in (None, "", data["client_id"]):
            continue
        return approve_device_code(sandbox, user_code, rule["upn"], rule.get("mfa", True))
    return False


def approve_device_code(sandbox: Sandbox, user_code: str, upn: str, mfa: bool = True) -> bool:
    row = sandbox.store.one("SELECT * FROM device_codes WHERE user_code=? AND status='pending'", (user_code,))
    user_tenant_id, user = find_user_by_upn(sandbox, upn)
    if row is None or user is None:
        return False
    data = json.loads(row["data"])
    _home, app = sandbox.store.application_by_app_id(data["client_id"])
    resource_key, names, _oidc = parse_scopes(sandbox, data["scope"])
    missing = consent_needed(sandbox, user_tenant_id, app, user, resource_key, names, "")
    if missing:
        record_consent(sandbox, user_tenant_id, app, user, missing, False)
    sandbox.store.execute("UPDATE device_codes SET status='approved', user_id=?, mfa=?, data=? WHERE hash=?", (
        user["id"], int(bool(mfa and user["x_mfa"])), json.dumps({"scope": data["scope"], "user_tenant_id": user_tenant_id}),
        row["hash"]))
    return True


async def device_page(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    action = f"{sandbox.urls['login']}/common/oauth2/deviceauth"
    if request.method == "GET":
        return html_response(pages.device_code_entry(action))
    form = dict(await request.post())
    code = form.get("code", "").strip().upper().replace("-", "")
    row = sandbox.store.one("SELECT * FROM device_codes WHERE user_code=? AND status='pending'", (code,))
    if row is None or row["expires"] < sandbox.now():
        return html_response(pages.device_code_entry(action, "That code didn't work. Check the code and try again."))
    data = json.loads(row["data"])
    _home, app = sandbox.store.application_by_app_id(data["client_id"])
    flow_id = save_flow(sandbox, {"kind": "device", "tenant": data["tenant"], "client_id": data["client_id"],
                                  "scope": data["scope"], "device_hash": row["hash"], "prompt": ""})
    return html_response(pages.sign_in(f"{sandbox.urls['login']}/common/login", flow_id,
                                       app.get("displayName") or app["appId"]))


async def managed_identity_token(request: web.Request) -> web.Response:
    """App Service's managed identity endpoint (api-version 2019-08-01), which azure-identity's
    ManagedIdentityCredential calls when IDENTITY_ENDPOINT and IDENTITY_HEADER are set: the
    host's system-assigned identity, or the user-assigned one named by client_id."""
    sandbox = sandbox_of(request)
    if request.headers.get("X-IDENTITY-HEADER") != sandbox.store.get_meta("managed_identity_header"):
        return json_response({"statusCode": 401, "message": "The X-IDENTITY-HEADER is missing or invalid."}, 401)
    if request.query.get("api-version") != "2019-08-01":
        return json_response({"statusCode": 400, "message": "The api-version is missing or not supported."}, 400)
    federation = request.query.get("resource", "").rstrip("/") == credentials.TOKEN_EXCHANGE_AUDIENCE
    resource_key = sandbox.resource_key_for(request.query.get("resource", ""))
    if resource_key is None and not federation:
        return json_response({"statusCode": 400, "message": "The resource is missing or unknown."}, 400)
    identities = sandbox.seed_info.get("managed_identities") or {}
    wanted = request.query.get("client_id") or request.query.get("mi_res_id") or request.query.get("principal_id")
    chosen = identities.get("system_assigned")
    if wanted:
        chosen = next((identity for key, identity in identities.items() if key != "header"
                       and wanted in (identity["client_id"], identity["object_id"])), None)
    if not chosen:
        return json_response({"statusCode": 400, "message": "No managed identity found for the given id."}, 400)
    tenant_id = sandbox.seed_info["partner_tenant_id"]
    if federation:  # the token a federated identity credential of an app trusts
        lifetime = 3600
        sandbox.count("tokens_issued")
        return json_response({"access_token": credentials.exchange_token(sandbox.issuer, tenant_id, chosen, lifetime),
                              "expires_on": str(int(sandbox.now()) + lifetime),
                              "resource": credentials.TOKEN_EXCHANGE_AUDIENCE, "token_type": "Bearer",
                              "client_id": chosen["client_id"]})
    subject = {"id": chosen["object_id"]}
    identifier = sandbox.resource_identifier(resource_key)
    access_token, lifetime, _jti = sandbox.issuer.access_token(
        tenant_id=tenant_id, audience=identifier, client_id=chosen["client_id"], subject=subject, roles=[])
    sandbox.count("tokens_issued")
    return json_response({"access_token": access_token, "expires_on": str(int(sandbox.now()) + lifetime),
                          "resource": identifier, "token_type": "Bearer", "client_id": chosen["client_id"]})


def routes() -> list[web.RouteDef]:
    return [
        web.get("/msi/token", managed_identity_token),
        web.get("/{tenant}/oauth2/v2.0/authorize", authorize),
        web.post("/{tenant}/login", login_step),
        web.post("/{tenant}/oauth2/v2.0/token", token),
        web.post("/{tenant}/oauth2/v2.0/devicecode", devicecode),
        web.get("/common/oauth2/deviceauth", device_page),
        web.post("/common/oauth2/deviceauth", device_page),
    ]
