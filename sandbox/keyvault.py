"""Key Vault secrets at the root of its own host:port, with the challenge authentication that
azure-keyvault-secrets performs, versions, soft delete, recover, purge and access per principal."""
from __future__ import annotations

import json
import re
import uuid
from typing import Any

from aiohttp import web

from .context import Sandbox, bearer_claims, json_response, sandbox_of
from .errors import ServiceError, render
from .tokens import TokenError

NAME = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
RETENTION_DAYS = 90
# The api-versions the Key Vault service knows (the SDK's ApiVersion values); any other is refused.
API_VERSIONS = frozenset({"2016-10-01", "7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "2025-07-01", "2026-04-01"})
# A secret's value is limited to 25 KB.
MAX_VALUE_BYTES = 25 * 1024


def kv_error(status: int, code: str, message: str, inner: str | None = None,
             headers: dict[str, str] | None = None) -> web.Response:
    return render(ServiceError(status, code, message, inner_code=inner, headers=headers), "vault")


def challenge(sandbox: Sandbox, message: str) -> web.Response:
    tenant = sandbox.seed_info["partner_tenant_id"]
    header = (f'Bearer authorization="{sandbox.urls["login"]}/{tenant}", '
              f'resource="{sandbox.vault_resource}"')
    return kv_error(401, "Unauthorized", message, headers={"WWW-Authenticate": header})


class Vault:
    def __init__(self, request: web.Request) -> None:
        self.sandbox = sandbox_of(request)
        self.store = self.sandbox.store
        self.base = self.sandbox.urls["vault"]

    def secret_id(self, name: str, version: str | None = None) -> str:
        return f"{self.base}/secrets/{name}" + (f"/{version}" if version else "")

    def attributes(self, row) -> dict[str, Any]:
        attributes = {"enabled": bool(row["enabled"]), "created": row["created"], "updated": row["updated"],
                      "recoverableDays": RETENTION_DAYS, "recoveryLevel": "Recoverable+Purgeable"}
        if row["nbf"] is not None:
            attributes["nbf"] = row["nbf"]
        if row["exp"] is not None:
            attributes["exp"] = row["exp"]
        return attributes

    def bundle(self, row, with_value: bool = True, with_version: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.secret_id(row["name"], row["version"] if with_version else None),
                                "attributes": self.attributes(row), "tags": json.loads(row["tags"] or "{}")}
        if row["content_type"] is not None:
            body["contentType"] = row["content_type"]
        if with_value:
            body["value"] = row["value"]
        return body

    def deleted_bundle(self, name: str, with_value: bool = False) -> dict[str, Any] | None:
        deleted = self.store.one("SELECT * FROM deleted_secrets WHERE name=?", (name,))
        latest = self.latest(name)
        if deleted is None or latest is None:
            return None
        body = self.bundle(latest, with_value=with_value)
        body.update(recoveryId=f"{self.base}/deletedsecrets/{name}", deletedDate=deleted["deleted"],
                    scheduledPurgeDate=deleted["purge"])
        return body

    def latest(self, name: str):
        return self.store.one("SELECT rowid, * FROM secrets WHERE lower(name)=lower(?) ORDER BY created DESC, rowid DESC"
                              " LIMIT 1", (name,))

    def is_deleted(self, name: str) -> bool:
        return self.store.one("SELECT 1 FROM deleted_secrets WHERE lower(name)=lower(?)", (name,)) is not None


def not_found(name: str) -> web.Response:
    return kv_error(404, "SecretNotFound", f"A secret with (name/id) {name} was not found in this key vault. If you "
                    "recently deleted this secret you may be able to recover it using the correct recovery command. "
                    "For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182")


def authorize(permission: str):
    """Check the bearer token (401 with the challenge when absent) and the caller's permission."""
    def decorate(handler):
        async def wrapper(request: web.Request) -> web.Response:
            sandbox = sandbox_of(request)
            if "api-version" not in request.query:
                return kv_error(400, "BadParameter", "The request URI contains an invalid or missing api-version.")
            if request.query["api-version"] not in API_VERSIONS:
                return kv_error(400, "BadParameter", f"The specified version ({request.query['api-version']}) is "
                                "not recognized. Consider using the latest supported version (2026-04-01).")
            if not request.headers.get("Authorization"):
                return challenge(sandbox, "AKV10000: Request is missing a Bearer or PoP token.")
            try:
                claims = bearer_claims(request, [sandbox.vault_resource, sandbox.vault_resource + "/"])
            except TokenError as exc:
                return challenge(sandbox, f"AKV10022: Invalid audience or token. {exc}")
            if claims["tid"] != sandbox.seed_info["partner_tenant_id"]:
                return challenge(sandbox, f"AKV10032: Invalid issuer. Expected one of https://sts.windows.net/"
                                          f"{sandbox.seed_info['partner_tenant_id']}/, found {claims['iss']}.")
            row = sandbox.store.one("SELECT permissions FROM vault_access WHERE object_id=?", (claims["oid"],))
            permissions = json.loads(row["permissions"]) if row else []
            if permission not in permissions:
                return kv_error(403, "Forbidden",
                                f"The user, group or application 'appid={claims.get('appid')};oid={claims['oid']};"
                                f"iss={claims['iss']}' does not have secrets {permission} permission on key vault "
                                f"'{sandbox.seed_info['vault_name']};location=sandbox'. For help resolving this "
                                "issue, please see https://go.microsoft.com/fwlink/?linkid=2125287",
                                "AccessDenied")
            return await handler(request, Vault(request))
        return wrapper
    return decorate


@authorize("set")
async def set_secret(request: web.Request, vault: Vault) -> web.Response:
    name = request.match_info["name"]
    if not NAME.match(name):
        return kv_error(400, "BadParameter", "The request URI contains an invalid name: " + name)
    if vault.is_deleted(name):
        return kv_error(409, "Conflict", f"Secret {name} is currently in a deleted but recoverable state, and its "
                        "name cannot be reused; in this state, the secret can only be recovered or purged.",
                        "ObjectIsDeletedButRecoverable")
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("value"), str):
        return kv_error(400, "BadParameter", "Property value is required and must be a string.")
    if len(body["value"].encode()) > MAX_VALUE_BYTES:
        return kv_error(400, "BadParameter", f"Secret value exceeds the maximum size of {MAX_VALUE_BYTES} bytes "
                        "(25 KB).")
    attributes = body.get("attributes") or {}
    now = int(vault.sandbox.now())
    version = uuid.uuid4().hex
    existing = vault.latest(name)
    stored_name = existing["name"] if existing else name
    vault.store.execute("INSERT INTO secrets VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (
        stored_name, version, body["value"], body.get("contentType"), json.dumps(body.get("tags") or {}),
        int(attributes.get("enabled", True)), attributes.get("nbf"), attributes.get("exp"), now, now))
    return json_response(vault.bundle(vault.store.one("SELECT * FROM secrets WHERE name=? AND version=?",
                                                      (stored_name, version))))


@authorize("get")
async def get_secret(request: web.Request, vault: Vault) -> web.Response:
    name, version = request.match_info["name"], request.match_info.get("version", "")
    if vault.is_deleted(name):
        return not_found(name)
    if version:
        row = vault.store.one("SELECT * FROM secrets WHERE lower(name)=lower(?) AND version=?", (name, version))
    else:
        row = vault.latest(name)
    if row is None:
        return not_found(name)
    if not row["enabled"]:
        return kv_error(403, "Forbidden", "Operation get is not allowed on a disabled secret.", "SecretDisabled")
    return json_response(vault.bundle(row))


@authorize("set")
async def update_secret(request: web.Request, vault: Vault) -> web.Response:
    name, version = request.match_info["name"], request.match_info.get("version", "")
    row = (vault.store.one("SELECT * FROM secrets WHERE lower(name)=lower(?) AND version=?", (name, version))
           if version else vault.latest(name))
    if row is None or vault.is_deleted(name):
        return not_found(name)
    body = await request.json()
    attributes = body.get("attributes") or {}
    updates = {"content_type": body.get("contentType", row["content_type"]),
               "tags": json.dumps(body["tags"]) if "tags" in body else row["tags"],
               "enabled": int(attributes.get("enabled", bool(row["enabled"]))),
               "nbf": attributes.get("nbf", row["nbf"]), "exp": attributes.get("exp", row["exp"]),
               "updated": int(vault.sandbox.now())}
    vault.store.execute("UPDATE secrets SET content_type=?, tags=?, enabled=?, nbf=?, exp=?, updated=? "
                        "WHERE name=? AND version=?", (*updates.values(), row["name"], row["version"]))
    fresh = vault.store.one("SELECT * FROM secrets WHERE name=? AND version=?", (row["name"], row["version"]))
    return json_response(vault.bundle(fresh, with_value=False))


def paged(request: web.Request, items: list[dict[str, Any]]) -> web.Response:
    size = int(request.query.get("maxresults", 25))
    skip = int(request.query.get("$skiptoken", "0") or 0)
    body: dict[str, Any] = {"value": items[skip:skip + size], "nextLink": None}
    if skip + size < len(items):
        query = dict(request.query)
        query["$skiptoken"] = str(skip + size)
        body["nextLink"] = str(request.url.with_query(query))
    return json_response(body)


@authorize("list")
async def list_secrets(request: web.Request, vault: Vault) -> web.Response:
    names = [r["name"] for r in vault.store.all("SELECT DISTINCT name FROM secrets WHERE name NOT IN "
                                                "(SELECT name FROM deleted_secrets) ORDER BY name")]
    return paged(request, [vault.bundle(vault.latest(n), with_value=False, with_version=False) for n in names])


@authorize("list")
async def list_versions(request: web.Request, vault: Vault) -> web.Response:
    name = request.match_info["name"]
    if vault.is_deleted(name):
        return not_found(name)
    rows = vault.store.all("SELECT * FROM secrets WHERE lower(name)=lower(?) ORDER BY created, rowid", (name,))
    if not rows:
        return not_found(name)
    return paged(request, [vault.bundle(r, with_value=False) for r in rows])


@authorize("delete")
async def delete_secret(request: web.Request, vault: Vault) -> web.Response:
    name = request.match_info["name"]
    latest = vault.latest(name)
    if latest is None or vault.is_deleted(name):
        return not_found(name)
    now = int(vault.sandbox.now())
    vault.store.execute("INSERT INTO deleted_secrets VALUES(?, ?, ?)", (latest["name"], now, now + RETENTION_DAYS * 86400))
    return json_response(vault.deleted_bundle(latest["name"]))


@authorize("list")
async def get_deleted(request: web.Request, vault: Vault) -> web.Response:
    body = vault.deleted_bundle(request.match_info["name"])
    if body is None:
        return kv_error(404, "SecretNotFound", f"Deleted Secret not found: {request.match_info['name']}")
    return json_response(body)


@authorize("list")
async def list_deleted(request: web.Request, vault: Vault) -> web.Response:
    names = [r["name"] for r in vault.store.all("SELECT name FROM deleted_secrets ORDER BY name")]
    return paged(request, [vault.deleted_bundle(n) for n in names])


@authorize("purge")
async def purge_deleted(request: web.Request, vault: Vault) -> web.Response:
    name = request.match_info["name"]
    if not vault.is_deleted(name):
        return kv_error(404, "SecretNotFound", f"Deleted Secret not found: {name}")
    vault.store.execute("DELETE FROM secrets WHERE lower(name)=lower(?)", (name,))
    vault.store.execute("DELETE FROM deleted_secrets WHERE lower(name)=lower(?)", (name,))
    return web.Response(status=204)


@authorize("recover")
async def recover_deleted(request: web.Request, vault: Vault) -> web.Response:
    name = request.match_info["name"]
    if not vault.is_deleted(name):
        return kv_error(404, "SecretNotFound", f"Deleted Secret not found: {name}")
    vault.store.execute("DELETE FROM deleted_secrets WHERE lower(name)=lower(?)", (name,))
    return json_response(vault.bundle(vault.latest(name), with_value=False))


def routes() -> list[web.RouteDef]:
    return [
        web.get("/secrets", list_secrets),
        web.put("/secrets/{name}", set_secret),
        web.delete("/secrets/{name}", delete_secret),
        web.get("/secrets/{name}/versions", list_versions),
        web.get("/secrets/{name}", get_secret),  # the version segment is optional
        web.get("/secrets/{name}/{version:[^/]*}", get_secret),
        web.patch("/secrets/{name}/{version:[^/]*}", update_secret),
        web.get("/deletedsecrets", list_deleted),
        web.get("/deletedsecrets/{name}", get_deleted),
        web.delete("/deletedsecrets/{name}", purge_deleted),
        web.post("/deletedsecrets/{name}/recover", recover_deleted),
    ]
