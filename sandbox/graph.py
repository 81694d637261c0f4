"""Microsoft Graph v1.0, the subset the collection uses: applications and their passwords,
service principals, groups and members, organization, users and domains."""
from __future__ import annotations

import json
import secrets
import uuid
from datetime import datetime
from typing import Any, Callable

from aiohttp import web

from . import credentials, gdap, gdap_lifecycle
from .context import Sandbox, bearer_claims, graph_error, json_response, sandbox_of, token_scopes, utc_iso
from .ids import hash_secret
from .odata import apply_filter, page  # noqa: F401 (also imported from here)
from .tokens import TokenError

READ_DIRECTORY = {"Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All",
                  "Application.Read.All", "Application.ReadWrite.All", "Group.ReadWrite.All", "Group.Read.All"}
WRITE_APPLICATIONS = {"Application.ReadWrite.All", "Directory.AccessAsUser.All", "Directory.ReadWrite.All"}
WRITE_GROUPS = {"Group.ReadWrite.All", "GroupMember.ReadWrite.All", "Directory.AccessAsUser.All",
                "Directory.ReadWrite.All"}
ADMIN_ROLES = {"Global Administrator", "Application Administrator", "Cloud Application Administrator"}
APPLICATION_FIELDS = {"displayName", "signInAudience", "requiredResourceAccess", "web", "publicClient",
                      "isFallbackPublicClient", "tags", "notes", "identifierUris", "spa", "description", "info",
                      "keyCredentials"}
SIGN_IN_AUDIENCES = {"AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount",
                     "PersonalMicrosoftAccount"}


def public_view(obj: dict[str, Any]) -> dict[str, Any]:
    """A stored directory object as Graph shows it: without the sandbox's own x_ fields."""
    return {k: v for k, v in obj.items() if not k.startswith("x_")}


def odata_context(sandbox: Sandbox, entity: str) -> str:
    """The @odata.context of an answer about entity (users/$entity, microsoft.graph.keyCredential, ...)."""
    return f"{sandbox.urls['graph']}/v1.0/$metadata#{entity}"


def denied(sandbox: Sandbox) -> web.Response:
    return graph_error(sandbox, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")


def not_found(sandbox: Sandbox, object_id: str) -> web.Response:
    return graph_error(sandbox, 404, "Request_ResourceNotFound",
                       f"Resource '{object_id}' does not exist or one of its queried reference-property objects "
                       "are not present.")


def bad_request(sandbox: Sandbox, message: str) -> web.Response:
    return graph_error(sandbox, 400, "Request_BadRequest", message)


class Caller:
    def __init__(self, sandbox: Sandbox, claims: dict[str, Any]) -> None:
        self.claims = claims
        self.tenant_id = claims["tid"]
        self.permissions = token_scopes(claims)
        self.delegated = claims.get("idtyp") == "user"
        user = sandbox.store.get_object(claims["oid"], "user") if self.delegated else None
        self.user = user
        self.roles = set(user.get("x_roles", [])) if user else set()
        # A partner's agent in a customer tenant (DAP or GDAP) acts with the roles its token names.
        self.guest_agent = "wids" in claims
        if self.guest_agent:
            self.roles = {gdap.ROLE_NAMES.get(role, role) for role in claims["wids"]}

    def may(self, needed: set[str], admin: bool = False) -> bool:
        if not self.permissions & needed:
            return False
        if self.guest_agent and not self.roles:
            return False
        if self.delegated and admin and not (self.roles & ADMIN_ROLES):
            return False
        return True


def authenticated(handler: Callable) -> Callable:
    async def wrapper(request: web.Request) -> web.Response:
        sandbox = sandbox_of(request)
        try:
            claims = bearer_claims(request, [sandbox.resource_identifier("graph")])
        except TokenError as exc:
            return graph_error(sandbox, 401, "InvalidAuthenticationToken", f"Access token validation failure. {exc}")
        return await handler(request, sandbox, Caller(sandbox, claims))
    return wrapper


def invalid_application_value(body: dict[str, Any]) -> str | None:
    """The first value Graph would refuse in an application body (enumerated string values)."""
    audience = body.get("signInAudience")
    if audience is not None and audience not in SIGN_IN_AUDIENCES:
        return "Invalid value specified for property 'signInAudience' of resource 'Application'."
    for entry in body.get("requiredResourceAccess") or []:
        for access in (entry or {}).get("resourceAccess") or []:
            if (access or {}).get("type") not in ("Scope", "Role"):
                return "Invalid value specified for property 'type' of resource 'ResourceAccess'."
    return None


async def body_json(request: web.Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


async def object_body(request: web.Request, sandbox: Sandbox) -> dict[str, Any] | web.Response:
    """The JSON object a write sends, or Graph's 400 for a body that is none."""
    body = await body_json(request)
    return body if body is not None else bad_request(sandbox, "The request body is not valid JSON.")


def password_view(row) -> dict[str, Any]:
    return {"customKeyIdentifier": None, "displayName": row["display_name"], "endDateTime": utc_iso(row["end"]),
            "hint": row["hint"], "keyId": row["key_id"], "secretText": None, "startDateTime": utc_iso(row["start"])}


def application_view(sandbox: Sandbox, app: dict[str, Any], with_keys: bool = False) -> dict[str, Any]:
    view = public_view(app)
    view["passwordCredentials"] = [password_view(r) for r in sandbox.store.all(
        "SELECT * FROM passwords WHERE app_object_id=? ORDER BY start", (app["id"],))]
    view["keyCredentials"] = credentials.key_credentials_view(app, with_key=with_keys)
    return view


def set_key_credentials(sandbox: Sandbox, app: dict[str, Any], body: dict[str, Any]) -> web.Response | None:
    """keyCredentials in a create or update replace the app's certificates (validated as Graph does)."""
    if "keyCredentials" not in body:
        return None
    try:
        body["keyCredentials"] = credentials.replace_key_credentials(app, body["keyCredentials"])
    except credentials.CredentialError as error:
        return graph_error(sandbox, error.status, error.error, error.message)
    return None


# applications ----------------------------------------------------------------------------------
@authenticated
async def list_applications(request, sandbox: Sandbox, caller: Caller):
    if not caller.may(READ_DIRECTORY):
        return denied(sandbox)
    items = [application_view(sandbox, a) for a in sandbox.store.objects(caller.tenant_id, "application")]
    filtered = apply_filter(request, items)
    return filtered if isinstance(filtered, web.Response) else page(request, filtered, "applications")


@authenticated
async def create_application(request, sandbox: Sandbox, caller: Caller):
    if not caller.may(WRITE_APPLICATIONS, admin=True):
        return denied(sandbox)
    body = await body_json(request)
    if body is None or not body.get("displayName"):
        return bad_request(sandbox, "Property 'displayName' is required.")
    unknown = set(body) - APPLICATION_FIELDS
    if unknown:
        return bad_request(sandbox, f"Property '{sorted(unknown)[0]}' does not exist on type "
                                    "'microsoft.graph.application'.")
    if invalid_application_value(body):
        return bad_request(sandbox, invalid_application_value(body))
    refused = set_key_credentials(sandbox, {}, body)
    if refused:
        return refused
    tenant = sandbox.store.tenant(caller.tenant_id)
    app = {
        "id": str(uuid.uuid4()), "appId": str(uuid.uuid4()), "createdDateTime": utc_iso(sandbox.now()),
        "displayName": body["displayName"], "signInAudience": body.get("signInAudience", "AzureADMyOrg"),
        "publisherDomain": tenant["domain"] if tenant else None, "identifierUris": body.get("identifierUris", []),
        "isFallbackPublicClient": body.get("isFallbackPublicClient"), "tags": body.get("tags", []),
        "notes": body.get("notes"), "requiredResourceAccess": body.get("requiredResourceAccess", []),
        "web": {"redirectUris": [],
                "implicitGrantSettings": {"enableAccessTokenIssuance": False, "enableIdTokenIssuance": False}},
        "publicClient": {"redirectUris": []}, "spa": {"redirectUris": []},
        "keyCredentials": body.get("keyCredentials", []),
    }
    for section in ("web", "publicClient", "spa"):
        app[section].update(body.get(section) or {})
    sandbox.store.put_object("application", caller.tenant_id, app)
    gdap.consent_earlier(sandbox, caller.tenant_id, app)
    view = application_view(sandbox, app)
    view["@odata.context"] = f"{sandbox.urls['graph']}/v1.0/$metadata#applications/$entity"
    return json_response(view, 201, {"Location": f"{sandbox.urls['graph']}/v1.0/applications/{app['id']}"})


def _own_application(sandbox: Sandbox, caller: Caller, object_id: str) -> dict[str, Any] | None:
    return sandbox.store.get_object(object_id, "application", caller.tenant_id)


@authenticated
async def get_application(request, sandbox: Sandbox, caller: Caller):
    if not caller.may(READ_DIRECTORY):
        return denied(sandbox)
    app = _own_application(sandbox, caller, request.match_info["id"])
    with_keys = "keycredentials" in request.query.get("$select", "").lower().split(",")
    return json_response(application_view(sandbox, app, with_keys)) if app else not_found(sandbox, request.match_info["id"])


@authenticated
async def update_application(request, sandbox: Sandbox, caller: Caller):
    if not caller.may(WRITE_APPLICATIONS, admin=True):
        return denied(sandbox)
    app = _own_application(sandbox, caller, request.match_info["id"])
    if app is None:
        return not_found(sandbox, request.match_info["id"])
    body = await object_body(request, sandbox)
    if isinstance(body, web.Response):
        return body
    unknown = set(body) - APPLICATION_FIELDS
    if unknown:
        return bad_request(sandbox, f"Property '{sorted(unknown)[0]}' does not exist on type "
                                    "'microsoft.graph.application'.")
    if invalid_application_value(body):
        return bad_request(sandbox, invalid_application_value(body))
    refused = set_key_credentials(sandbox, app, body)
    if refused:
        return refused
    for key, value in body.items():
        if key in ("web", "publicClient", "spa") and isinstance(value, dict):
            app.setdefault(key, {}).update(value)
        else:
            app[key] = value
    sandbox.store.put_object("application", caller.tenant_id, app)
    return web.Response(status=204)


@authenticated
async def delete_application(request, sandbox: Sandbox, caller: Caller):
    if not caller.may(WRITE_APPLICATIONS, admin=True):
        return denied(sandbox)
    app = _own_application(sandbox, caller, request.match_info["id"])
    if app is None:
        return not_found(sandbox, request.match_info["id"])
    sandbox.store.delete_object(app["id"])
    sandbox.store.execute("DELETE FROM passwords WHERE app_object_id=?", (app["id"],))
    sp = sandbox.store.service_principal(caller.tenant_id, app["appId"])
    if sp:
        sandbox.store.delete_object(sp["id"])
    return web.Response(status=204)


@authenticated
async def add_password(request, sandbox: Sandbox, caller: Caller):
    if not caller.may(WRITE_APPLICATIONS, admin=True):
        return denied(sandbox)
    app = _own_application(sandbox, caller, request.match_info["id"])
    if app is None:
        return not_found(sandbox, request.match_info["id"])
    body = await body_json(request) or {}
    spec = body.get("passwordCredential") or {}
    now = sandbox.now()
    end = now + 730 * 86400
    if spec.get("endDateTime"):
        try:
            end = datetime.fromisoformat(spec["endDateTime"].replace("Z", "+00:00")).timestamp()
        except ValueError:
            return bad_request(sandbox, "Invalid value specified for property 'endDateTime'.")
    secret_text = secrets.token_urlsafe(6)[:3] + "8Q~" + secrets.token_urlsafe(30)[:34]
    key_id = str(uuid.uuid4())
    sandbox.store.execute("INSERT INTO passwords VALUES(?, ?, ?, ?, ?, ?, ?)", (
        key_id, app["id"], hash_secret(secret_text), secret_text[:3], spec.get("displayName"), now, end))
    return json_response({
        "@odata.context": f"{sandbox.urls['graph']}/v1.0/$metadata#microsoft.graph.passwordCredential",
        "customKeyIdentifier": None, "displayName": spec.get("displayName"), "endDateTime": utc_iso(end),
        "hint": secret_text[:3], "keyId": key_id, "secretText": secret_text, "startDateTime": utc_iso(now)})


@authenticated
async def remove_password(request, sandbox: Sandbox, caller: Caller):
    if not caller.may(WRITE_APPLICATIONS, admin=True):
        return denied(sandbox)
    app = _own_application(sandbox, caller, request.match_info["id"])
    if app is None:
        return not_found(sandbox, request.match_info["id"])
    body = await body_json(request) or {}
    deleted = sandbox.store.execute("DELETE FROM passwords WHERE app_object_id=? AND key_id=?",
                                    (app["id"], body.get("keyId", ""))).rowcount
    if not deleted:
        return bad_request(sandbox, f"No password credential found with keyId '{body.get('keyId')}'.")
    return web.Response(status=204)


# service principals ------------------------------------------------------------------------------
def _tenant_principals(sandbox: Sandbox, tenant_id: str) -> list[dict[str, Any]]:
    return sandbox.store.objects("*", "servicePrincipal") + sandbox.store.objects(tenant_id, "servicePrincipal")


@authenticated
async def list_service_principals(request, sandbox: Sandbox, caller: Caller):
    if not caller.may(READ_DIRECTORY):
        return denied(sandbox)
    items = [public_view(sp) for sp in _tenant_principals(sandbox, caller.tenant_id)]
    filtered = apply_filter(request, items)
    return filtered if isinstance(filtered, web.Response) else page(request, filtered, "servicePrincipals")


@authenticated
async def create_service_principal(request, sandbox: Sandbox, caller: Caller):
    if not caller.may(WRITE_APPLICATIONS, admin=True):
        return denied(sandbox)
    body = await body_json(request) or {}
    app_id = body.get("appId", "")
    _home, app = sandbox.store.application_by_app_id(app_id)
    if app is None:
        return bad_request(sandbox, f"The appId '{app_id}' of the service principal does not reference a valid "
                                    "application object.")
    if sandbox.store.service_principal(caller.tenant_id, app_id):
        return graph_error(sandbox, 409, "Request_MultipleObjectsWithSameKeyValue",
                           "Another object with the same value for property servicePrincipalNames already exists.")
    sp = {"id": str(uuid.uuid4()), "appId": app_id, "displayName": app.get("displayName"),
          "servicePrincipalType": "Application", "accountEnabled": True,
          "appOwnerOrganizationId": sandbox.store.application_by_app_id(app_id)[0],
          "servicePrincipalNames": [app_id], "signInAudience": app.get("signInAudience")}
    sandbox.store.put_object("servicePrincipal", caller.tenant_id, sp)
    return json_response(dict(sp, **{"@odata.context": f"{sandbox.urls['graph']}/v1.0/$metadata#servicePrincipals/$entity"}), 201)


@authenticated
async def get_service_principal(request, sandbox: Sandbox, caller: Caller):
    if not caller.may(READ_DIRECTORY):
        return denied(sandbox)
    object_id = request.match_info["id"]
    for sp in _tenant_principals(sandbox, caller.tenant_id):
        if sp["id"] == object_id:
            return json_response(public_view(sp))
    return not_found(sandbox, object_id)


@authenticated
async def delete_service_principal(request, sandbox: Sandbox, caller: Caller):
    if not caller.may(WRITE_APPLICATIONS, admin=True):
        return denied(sandbox)
    sp = sandbox.store.get_object(request.match_info["id"], "servicePrincipal", caller.tenant_id)
    if sp is None:
        return not_found(sandbox, request.match_info["id"])
    sandbox.store.delete_object(sp["id"])
    return web.Response(status=204)


# groups --------------------------------------------------------------------------------------------
@authenticated
async def list_groups(request, sandbox: Sandbox, caller: Caller):
    if not caller.may(READ_DIRECTORY):
        return denied(sandbox)
    items = [public_view(g) for g in sandbox.store.objects(caller.tenant_id, "group")]
    filtered = apply_filter(request, items)
    return filtered if isinstance(filtered, web.Response) else page(request, filtered, "groups")


def group_object(sandbox: Sandbox, caller: Caller, group_id: str):
    return sandbox.store.get_object(group_id, "group", caller.tenant_id)


@authenticated
async def list_members(request, sandbox: Sandbox, caller: Caller):
    if not caller.may(READ_DIRECTORY):
        return denied(sandbox)
    group = group_object(sandbox, caller, request.match_info["id"])
    if group is None:
        return not_found(sandbox, request.match_info["id"])
    members = []
    for row in sandbox.store.all("SELECT d.kind, d.data FROM members m JOIN directory d ON d.id=m.member_id"
                                 " WHERE m.group_id=? ORDER BY m.rowid", (group["id"],)):
        member = public_view(json.loads(row["data"]))
        member["@odata.type"] = f"#microsoft.graph.{row['kind']}"
        members.append(member)
    return page(request, members, "directoryObjects")


@authenticated
async def add_member(request, sandbox: Sandbox, caller: Caller):
    if not caller.may(WRITE_GROUPS, admin=True):
        return denied(sandbox)
    group = group_object(sandbox, caller, request.match_info["id"])
    if group is None:
        return not_found(sandbox, request.match_info["id"])
    body = await body_json(request) or {}
    reference = str(body.get("@odata.id", ""))
    member_id = reference.rstrip("/").rsplit("/", 1)[-1]
    member = sandbox.store.get_object(member_id, tenant_id=caller.tenant_id)
    if not reference or member is None:
        return not_found(sandbox, member_id or "@odata.id")
    if sandbox.store.one("SELECT 1 FROM members WHERE group_id=? AND member_id=?", (group["id"], member_id)):
        return bad_request(sandbox, "One or more added object references already exist for the following modified "
                                    "properties: 'members'.")
    sandbox.store.execute("INSERT INTO members VALUES(?, ?)", (group["id"], member_id))
    return web.Response(status=204)


@authenticated
async def remove_member(request, sandbox: Sandbox, caller: Caller):
    if not caller.may(WRITE_GROUPS, admin=True):
        return denied(sandbox)
    group = group_object(sandbox, caller, request.match_info["id"])
    if group is None:
        return not_found(sandbox, request.match_info["id"])
    removed = sandbox.store.execute("DELETE FROM members WHERE group_id=? AND member_id=?",
                                    (group["id"], request.match_info["member"])).rowcount
    return web.Response(status=204) if removed else not_found(sandbox, request.match_info["member"])


# organization, users, domains ----------------------------------------------------------------------
def _domains(sandbox: Sandbox, tenant_id: str) -> list[dict[str, Any]]:
    tenant = sandbox.store.tenant(tenant_id)
    return [{"id": tenant["domain"], "authenticationType": "Managed", "isDefault": True, "isInitial": True,
             "isVerified": True, "supportedServices": ["Email", "OfficeCommunicationsOnline"]}]


@authenticated
async def organization(request, sandbox: Sandbox, caller: Caller):
    tenant = sandbox.store.tenant(caller.tenant_id)
    return json_response({"@odata.context": f"{sandbox.urls['graph']}/v1.0/$metadata#organization", "value": [{
        "id": tenant["id"], "displayName": tenant["display_name"], "tenantType": "AAD", "countryLetterCode": "US",
        "verifiedDomains": [{"name": d["id"], "isDefault": d["isDefault"], "isInitial": d["isInitial"],
                             "type": "Managed", "capabilities": "Email, OfficeCommunicationsOnline"}
                            for d in _domains(sandbox, tenant["id"])]}]})


@authenticated
async def domains(request, sandbox: Sandbox, caller: Caller):
    return page(request, _domains(sandbox, caller.tenant_id), "domains")


@authenticated
async def list_users(request, sandbox: Sandbox, caller: Caller):
    if not caller.may(READ_DIRECTORY | {"User.Read.All", "User.ReadBasic.All"}):
        return denied(sandbox)
    items = [public_view(u) for u in sandbox.store.objects(caller.tenant_id, "user")]
    filtered = apply_filter(request, items)
    return filtered if isinstance(filtered, web.Response) else page(request, filtered, "users")


@authenticated
async def my_groups(request, sandbox: Sandbox, caller: Caller):
    """The groups the signed-in user is a direct member of (memberOf does not follow nesting)."""
    if caller.user is None:
        return bad_request(sandbox, "/me request is only valid with delegated authentication flow.")
    if not caller.may(READ_DIRECTORY | {"User.Read", "GroupMember.Read.All"}):
        return denied(sandbox)
    rows = sandbox.store.all(
        "SELECT d.data FROM members m JOIN directory d ON d.id=m.group_id WHERE m.member_id=? AND d.kind='group'"
        " AND d.tenant_id=? ORDER BY d.rowid", (caller.user["id"], caller.tenant_id))
    items = [dict(public_view(json.loads(r[0])), **{"@odata.type": "#microsoft.graph.group"}) for r in rows]
    return page(request, items, "directoryObjects")


@authenticated
async def me(request, sandbox: Sandbox, caller: Caller):
    if caller.user is None:
        return bad_request(sandbox, "/me request is only valid with delegated authentication flow.")
    return json_response(public_view(caller.user))


def routes() -> list[web.RouteDef]:
    """Graph's own routes; server.ROUTES adds those of the modules that build on this one
    (graph_credentials, customer_tenant), so that no module imports the other back."""
    return [
        web.get("/v1.0/applications", list_applications),
        web.post("/v1.0/applications", create_application),
        web.get("/v1.0/applications/{id}", get_application),
        web.patch("/v1.0/applications/{id}", update_application),
        web.delete("/v1.0/applications/{id}", delete_application),
        web.post("/v1.0/applications/{id}/addPassword", add_password),
        web.post("/v1.0/applications/{id}/removePassword", remove_password),
        web.get("/v1.0/servicePrincipals", list_service_principals),
        web.post("/v1.0/servicePrincipals", create_service_principal),
        web.get("/v1.0/servicePrincipals/{id}", get_service_principal),
        web.delete("/v1.0/servicePrincipals/{id}", delete_service_principal),
        web.get("/v1.0/groups", list_groups),
        web.get("/v1.0/groups/{id}/members", list_members),
        web.post("/v1.0/groups/{id}/members/$ref", add_member),
        web.delete("/v1.0/groups/{id}/members/{member}/$ref", remove_member),
        web.get("/v1.0/organization", organization),
        web.get("/v1.0/domains", domains),
        web.get("/v1.0/users", list_users),
        web.get("/v1.0/me", me),
        web.get("/v1.0/me/memberOf", my_groups),
        web.get("/v1.0/tenantRelationships/delegatedAdminRelationships", authenticated(gdap.list_relationships)),
        web.get("/v1.0/tenantRelationships/delegatedAdminRelationships/{id}", authenticated(gdap.get_relationship)),
        web.get("/v1.0/tenantRelationships/delegatedAdminRelationships/{id}/accessAssignments",
                authenticated(gdap.list_assignments)),
        *gdap_lifecycle.routes(authenticated),
    ]
