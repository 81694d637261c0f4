"""What a partner's automation does inside a customer tenant: Graph's licence and MFA-registration
reads, user and group writes, and Resource Manager resource groups. The roles the token carries
(wids: the GDAP access assignment's, Global Administrator under DAP, or a partner user's own)
decide what is allowed, as Entra's role checks do for delegated calls."""
from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from aiohttp import web

from . import gdap
from .arm import arm_error
from .arm import authenticated as arm_authenticated
from .context import Sandbox, json_response, utc_iso
from .graph import (READ_DIRECTORY, authenticated, bad_request, body_json, denied, group_object, not_found,
                    object_body, odata_context, public_view)
from .ids import hash_secret
from .odata import apply_filter, page

# Entra role template ids this file checks (the same in every tenant), and their names for the
# roles a partner user holds in its own tenant (x_roles holds names).
GLOBAL_READER = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
GROUPS_ADMINISTRATOR = "fdd7a751-b60b-444a-984c-02652fe8fa1c"
LICENSE_ADMINISTRATOR = "4d6ac14f-3453-41d0-bef9-a3e0c569773a"
REPORTS_READER = "4a5d8f65-41da-4de4-8968-e035b65339cf"
SECURITY_READER = "5d6b6bb7-de71-4623-b4af-96380a352509"
ROLE_IDS_BY_NAME = {name: role_id for role_id, name in gdap.ROLE_NAMES.items()}
ROLE_IDS_BY_NAME.update({"Global Reader": GLOBAL_READER, "Groups Administrator": GROUPS_ADMINISTRATOR,
                         "License Administrator": LICENSE_ADMINISTRATOR, "Reports Reader": REPORTS_READER,
                         "Security Reader": SECURITY_READER})

# Least privileged roles per operation (Graph's reference pages), Global Administrator always.
READ_LICENCES = {gdap.DIRECTORY_READERS, GLOBAL_READER, LICENSE_ADMINISTRATOR, gdap.USER_ADMINISTRATOR}
READ_REGISTRATION = {REPORTS_READER, SECURITY_READER, GLOBAL_READER}
WRITE_USERS = {gdap.USER_ADMINISTRATOR}
WRITE_GROUPS = {gdap.USER_ADMINISTRATOR, GROUPS_ADMINISTRATOR}
# Delegated permissions (scp) per operation; Directory.AccessAsUser.All acts as the user does.
AS_USER = "Directory.AccessAsUser.All"
LICENCE_SCOPES = {"LicenseAssignment.Read.All", "Organization.Read.All", "Directory.Read.All",
                  "Directory.ReadWrite.All", AS_USER}
REGISTRATION_SCOPES = {"AuditLog.Read.All"}
USER_WRITE_SCOPES = {"User.ReadWrite.All", "Directory.ReadWrite.All", AS_USER}
GROUP_WRITE_SCOPES = {"Group.ReadWrite.All", "Directory.ReadWrite.All", AS_USER}

USER_FIELDS = {"accountEnabled", "displayName", "mailNickname", "userPrincipalName", "passwordProfile", "givenName",
               "surname", "jobTitle", "department", "usageLocation", "mail", "otherMails", "officeLocation"}
GROUP_FIELDS = {"displayName", "mailEnabled", "mailNickname", "securityEnabled", "description", "groupTypes",
                "visibility"}
NICKNAME = re.compile(r"^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]{1,64}$")
# Two products every seeded customer holds (skuId and part number as Microsoft publishes them).
SKUS = (("f245ecc8-75af-4f8e-b61f-27d8114de5f3", "O365_BUSINESS_PREMIUM",
         [("8c098270-9dd4-4350-9b30-ba4703f3b36b", "ADALLOM_S_O365"),
          ("9aaf7827-d63c-4b61-89c3-182f06f82e5c", "EXCHANGE_S_STANDARD")]),
        ("078d2b04-f1bd-4111-bbd4-b4b1b354cef4", "AAD_PREMIUM",
         [("41781fb2-bc02-4b7c-bd55-b576c07bb09d", "AAD_PREMIUM")]))


def role_ids(caller) -> set[str]:
    """The role template ids the caller acts with: the token's wids for a partner's agent in a
    customer, else the user's own roles."""
    if caller.guest_agent:
        return {str(role) for role in caller.claims.get("wids") or []}
    return {ROLE_IDS_BY_NAME.get(name, name) for name in caller.roles}


def allowed(caller, scopes: set[str], roles: set[str]) -> bool:
    """The permission is in the token and the user holds one of the roles (or Global Administrator).
    An app-only token needs the permission alone."""
    if not caller.permissions & scopes:
        return False
    if not caller.delegated:
        return True
    held = role_ids(caller)
    return gdap.GLOBAL_ADMINISTRATOR in held or bool(held & roles)


def _number(tenant_id: str, salt: str, low: int, high: int) -> int:
    digest = hashlib.sha256(f"{tenant_id}/{salt}".encode()).digest()
    return low + int.from_bytes(digest[:4], "big") % (high - low + 1)


def sku_views(sandbox: Sandbox, tenant: dict[str, Any]) -> list[dict[str, Any]]:
    views = []
    for sku_id, part_number, plans in SKUS:
        enabled = _number(tenant["id"], part_number, 5, 50)
        views.append({
            "accountId": tenant["id"], "accountName": tenant["domain"].split(".")[0], "appliesTo": "User",
            "capabilityStatus": "Enabled", "consumedUnits": _number(tenant["id"], part_number + "/used", 0, enabled),
            "id": f"{tenant['id']}_{sku_id}", "skuId": sku_id, "skuPartNumber": part_number,
            "subscriptionIds": [str(uuid.uuid5(uuid.UUID(tenant["id"]), part_number))],
            "prepaidUnits": {"enabled": enabled, "suspended": 0, "warning": 0, "lockedOut": 0},
            "servicePlans": [{"servicePlanId": plan_id, "servicePlanName": name, "provisioningStatus": "Success",
                              "appliesTo": "User"} for plan_id, name in plans],
        })
    return views


# licences and MFA registration ----------------------------------------------------------------------
async def subscribed_skus(request, sandbox: Sandbox, caller):
    if not allowed(caller, LICENCE_SCOPES, READ_LICENCES):
        return denied(sandbox)
    tenant = sandbox.store.tenant(caller.tenant_id)
    return json_response({"@odata.context": odata_context(sandbox, "subscribedSkus"), "value": sku_views(sandbox, tenant)})


async def registration_details(request, sandbox: Sandbox, caller):
    if not allowed(caller, REGISTRATION_SCOPES, READ_REGISTRATION):
        return denied(sandbox)
    items = []
    for user in sandbox.store.objects(caller.tenant_id, "user"):
        mfa = bool(user.get("x_mfa"))
        items.append({
            "id": user["id"], "userPrincipalName": user["userPrincipalName"], "userDisplayName": user["displayName"],
            "userType": "member", "isAdmin": bool(user.get("x_roles")), "isMfaRegistered": mfa, "isMfaCapable": mfa,
            "isSsprRegistered": False, "isSsprEnabled": False, "isSsprCapable": False,
            "isPasswordlessCapable": False, "isSystemPreferredAuthenticationMethodEnabled": False,
            "methodsRegistered": ["microsoftAuthenticatorPush"] if mfa else [],
            "systemPreferredAuthenticationMethods": [], "userPreferredMethodForSecondaryAuthentication": "none",
            "lastUpdatedDateTime": utc_iso(sandbox.now())})
    filtered = apply_filter(request, items)
    return filtered if isinstance(filtered, web.Response) else page(
        request, filtered, "reports/authenticationMethods/userRegistrationDetails")


# users and groups -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class DirectoryKind:
    """Users and groups are written alike: who may, which fields, the answers; what differs is here."""

    name: str  # the store's kind; Graph's type is microsoft.graph.<name>, its resource <Name>
    collection: str  # users, groups
    fields: frozenset[str]
    required: tuple[str, ...]  # the fields a create must give
    read_scopes: frozenset[str]
    write_scopes: frozenset[str]
    write_roles: frozenset[str]
    find: Callable[[Sandbox, Any, str], dict[str, Any] | None]


def _user(sandbox: Sandbox, caller, key: str) -> dict[str, Any] | None:
    user = sandbox.store.get_object(key, "user", caller.tenant_id)
    if user is None:  # a user is addressed by id or by userPrincipalName
        wanted = key.lower()
        user = next((u for u in sandbox.store.objects(caller.tenant_id, "user")
                     if u["userPrincipalName"].lower() == wanted), None)
    return user


USERS = DirectoryKind("user", "users", frozenset(USER_FIELDS),
                      ("accountEnabled", "displayName", "mailNickname", "userPrincipalName", "passwordProfile"),
                      frozenset(READ_DIRECTORY | {"User.Read.All", "User.ReadBasic.All"}),
                      frozenset(USER_WRITE_SCOPES), frozenset(WRITE_USERS), _user)
GROUPS = DirectoryKind("group", "groups", frozenset(GROUP_FIELDS),
                       ("displayName", "mailEnabled", "mailNickname", "securityEnabled"),
                       frozenset(READ_DIRECTORY), frozenset(GROUP_WRITE_SCOPES), frozenset(WRITE_GROUPS), group_object)


def _may_write(sandbox: Sandbox, caller, kind: DirectoryKind) -> web.Response | None:
    return None if allowed(caller, set(kind.write_scopes), set(kind.write_roles)) else denied(sandbox)


def _target(request, sandbox: Sandbox, caller, kind: DirectoryKind, *, write: bool):
    """The object the path names, or the answer refusing the request (403, then 404)."""
    refused = _may_write(sandbox, caller, kind) if write else (
        None if caller.may(set(kind.read_scopes)) else denied(sandbox))
    if refused is not None:
        return refused
    found = kind.find(sandbox, caller, request.match_info["id"])
    return found if found is not None else not_found(sandbox, request.match_info["id"])


async def _write_body(request, sandbox: Sandbox, kind: DirectoryKind, *, creating: bool):
    """The JSON body of a create or update, or Graph's 400 for one it refuses."""
    body = await object_body(request, sandbox)
    if isinstance(body, web.Response):
        return body
    unknown = sorted(set(body) - kind.fields)
    if unknown:
        return bad_request(sandbox, f"Property '{unknown[0]}' does not exist on type 'microsoft.graph.{kind.name}'.")
    for field in kind.required if creating else ():
        if body.get(field) in (None, ""):
            return bad_request(sandbox, f"Invalid value specified for property '{field}' of resource "
                                        f"'{kind.name.capitalize()}'.")
    return body


async def _update(request, sandbox: Sandbox, caller, kind: DirectoryKind):
    """(the object, the body) of an update, or the answer refusing it."""
    target = _target(request, sandbox, caller, kind, write=True)
    if isinstance(target, web.Response):
        return target
    body = await _write_body(request, sandbox, kind, creating=False)
    return body if isinstance(body, web.Response) else (target, body)


def _created(sandbox: Sandbox, caller, kind: DirectoryKind, obj: dict[str, Any]) -> web.Response:
    sandbox.store.put_object(kind.name, caller.tenant_id, obj)
    view = dict(public_view(obj), **{"@odata.context": odata_context(sandbox, f"{kind.collection}/$entity")})
    return json_response(view, 201, {"Location": f"{sandbox.urls['graph']}/v1.0/{kind.collection}/{obj['id']}"})


def _reader(kind: DirectoryKind) -> Callable:
    async def read(request, sandbox: Sandbox, caller):
        target = _target(request, sandbox, caller, kind, write=False)
        return target if isinstance(target, web.Response) else json_response(public_view(target))
    return read


def _deleter(kind: DirectoryKind) -> Callable:
    async def delete(request, sandbox: Sandbox, caller):
        target = _target(request, sandbox, caller, kind, write=True)
        if isinstance(target, web.Response):
            return target
        sandbox.store.delete_object(target["id"])
        return web.Response(status=204)
    return delete


def _upn_problem(sandbox: Sandbox, caller, upn: Any, ignore_id: str | None = None) -> str | None:
    tenant = sandbox.store.tenant(caller.tenant_id)
    if not isinstance(upn, str) or "@" not in upn or upn.split("@", 1)[1].lower() != tenant["domain"].lower():
        return ("The domain portion of the userPrincipalName property is invalid. You must use one of the verified "
                "domain names in your organization.")
    clash = _user(sandbox, caller, upn)
    if clash is not None and clash["id"] != ignore_id:
        return "Another object with the same value for property userPrincipalName already exists."
    return None


async def create_user(request, sandbox: Sandbox, caller):
    refused = _may_write(sandbox, caller, USERS)  # (an aiohttp answer is falsy: never 'or' it)
    body = refused if refused is not None else await _write_body(request, sandbox, USERS, creating=True)
    if isinstance(body, web.Response):
        return body
    password = (body.get("passwordProfile") or {}).get("password") if isinstance(body["passwordProfile"], dict) else None
    if not password:
        return bad_request(sandbox, "Invalid value specified for property 'passwordProfile' of resource 'User'.")
    if not NICKNAME.match(str(body["mailNickname"])):
        return bad_request(sandbox, "Invalid value specified for property 'mailNickname' of resource 'User'.")
    problem = _upn_problem(sandbox, caller, body["userPrincipalName"])
    if problem:
        return bad_request(sandbox, problem)
    user = {key: value for key, value in body.items() if key != "passwordProfile"}
    user.update(id=str(uuid.uuid4()), createdDateTime=utc_iso(sandbox.now()), x_password_hash=hash_secret(password),
                x_mfa=False, x_mfa_code="", x_roles=[])
    user.setdefault("mail", None)
    return _created(sandbox, caller, USERS, user)


async def update_user(request, sandbox: Sandbox, caller):
    update = await _update(request, sandbox, caller, USERS)
    if isinstance(update, web.Response):
        return update
    user, body = update
    if "userPrincipalName" in body:
        problem = _upn_problem(sandbox, caller, body["userPrincipalName"], ignore_id=user["id"])
        if problem:
            return bad_request(sandbox, problem)
    profile = body.pop("passwordProfile", None)
    if isinstance(profile, dict) and profile.get("password"):
        user["x_password_hash"] = hash_secret(profile["password"])
    user.update(body)
    sandbox.store.put_object("user", caller.tenant_id, user)
    return web.Response(status=204)


async def create_group(request, sandbox: Sandbox, caller):
    refused = _may_write(sandbox, caller, GROUPS)
    body = refused if refused is not None else await _write_body(request, sandbox, GROUPS, creating=True)
    if isinstance(body, web.Response):
        return body
    group = dict(body, id=str(uuid.uuid4()), createdDateTime=utc_iso(sandbox.now()))
    group.setdefault("groupTypes", [])
    return _created(sandbox, caller, GROUPS, group)


async def update_group(request, sandbox: Sandbox, caller):
    update = await _update(request, sandbox, caller, GROUPS)
    if isinstance(update, web.Response):
        return update
    group, body = update
    group.update(body)
    sandbox.store.put_object("group", caller.tenant_id, group)
    return web.Response(status=204)


def graph_routes() -> list[web.RouteDef]:
    return [
        web.get("/v1.0/subscribedSkus", authenticated(subscribed_skus)),
        web.get("/v1.0/reports/authenticationMethods/userRegistrationDetails", authenticated(registration_details)),
        web.post("/v1.0/users", authenticated(create_user)),
        web.get("/v1.0/users/{id}", authenticated(_reader(USERS))),
        web.patch("/v1.0/users/{id}", authenticated(update_user)),
        web.delete("/v1.0/users/{id}", authenticated(_deleter(USERS))),
        web.post("/v1.0/groups", authenticated(create_group)),
        web.get("/v1.0/groups/{id}", authenticated(_reader(GROUPS))),
        web.patch("/v1.0/groups/{id}", authenticated(update_group)),
        web.delete("/v1.0/groups/{id}", authenticated(_deleter(GROUPS))),
    ]


# Resource Manager: resource groups ------------------------------------------------------------------
RESOURCE_GROUP_NAME = re.compile(r"^[-\w._()]{1,90}$")


def _subscription(sandbox: Sandbox, claims: dict[str, Any], subscription_id: str):
    return sandbox.store.one("SELECT * FROM subscriptions WHERE id=? AND tenant_id=?",
                             (subscription_id.lower(), claims["tid"]))


def _resource_group_id(subscription_id: str, name: str) -> str:
    return f"/subscriptions/{subscription_id}/resourceGroups/{name}"


def _named(request, sandbox: Sandbox, claims: dict[str, Any]):
    """(subscription id, resource group name) of the path, or the 404 of a subscription the tenant has not."""
    subscription_id, name = request.match_info["subscription"], request.match_info["name"]
    if _subscription(sandbox, claims, subscription_id) is None:
        return arm_error(404, "SubscriptionNotFound", f"The subscription '{subscription_id}' could not be found.")
    return subscription_id, name


def _stored_group(sandbox: Sandbox, claims: dict[str, Any], subscription_id: str, name: str):
    # Resource group names are case-insensitive; the stored object keeps the first spelling.
    key = _resource_group_id(subscription_id, name).lower()
    return sandbox.store.get_object(key, "resourceGroup", claims["tid"])


@arm_authenticated
async def put_resource_group(request, sandbox: Sandbox, claims):
    named = _named(request, sandbox, claims)
    if isinstance(named, web.Response):
        return named
    subscription_id, name = named
    if not RESOURCE_GROUP_NAME.match(name) or name.endswith("."):
        return arm_error(400, "InvalidResourceGroup", f"The provided resource group name '{name}' has these invalid "
                                                      "characters: the name may hold letters, digits, '-', '_', '.', "
                                                      "'(' and ')' and must not end with a period.")
    body = await body_json(request)
    if body is None or not isinstance(body.get("location"), str) or not body["location"]:
        return arm_error(400, "LocationRequired", "The location property is required for this definition.")
    existing = _stored_group(sandbox, claims, subscription_id, name)
    view = {"id": _resource_group_id(subscription_id, existing["name"] if existing else name),
            "name": existing["name"] if existing else name, "type": "Microsoft.Resources/resourceGroups",
            "location": body["location"], "tags": body.get("tags") or {},
            "properties": {"provisioningState": "Succeeded"}}
    if existing and existing["location"].lower() != body["location"].lower():
        return arm_error(409, "InvalidResourceGroupLocation",
                         f"Invalid resource group location '{body['location']}'. The Resource group already exists in "
                         f"location '{existing['location']}'.")
    sandbox.store.put_object("resourceGroup", claims["tid"], dict(view, id=view["id"].lower(), x_id=view["id"]))
    return json_response(view, 200 if existing else 201)


@arm_authenticated
async def get_resource_group(request, sandbox: Sandbox, claims):
    named = _named(request, sandbox, claims)
    if isinstance(named, web.Response):
        return named
    subscription_id, name = named
    stored = _stored_group(sandbox, claims, subscription_id, name)
    if stored is None:
        return arm_error(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")
    return json_response(dict(public_view(stored), id=stored["x_id"]))


@arm_authenticated
async def delete_resource_group(request, sandbox: Sandbox, claims):
    named = _named(request, sandbox, claims)
    if isinstance(named, web.Response):
        return named
    subscription_id, name = named
    stored = _stored_group(sandbox, claims, subscription_id, name)
    if stored is None:
        return web.Response(status=204)  # deleting what is not there: 204 No Content
    sandbox.store.delete_object(stored["id"])
    # Resource Manager deletes asynchronously: 202 with a Location to poll (done at once here).
    return web.Response(status=202, headers={"Retry-After": "0"})


def arm_routes() -> list[web.RouteDef]:
    routes = []
    for segment in ("resourcegroups", "resourceGroups"):  # Resource Manager paths ignore case
        path = f"/subscriptions/{{subscription}}/{segment}/{{name}}"
        routes += [web.put(path, put_resource_group), web.get(path, get_resource_group),
                   web.delete(path, delete_resource_group)]
    return routes
