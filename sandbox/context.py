"""What every emulated service shares: state, clock, token issuer, URLs, faults, and the error
helpers of the services (rendered by sandbox/errors.py)."""
from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from . import catalog
from .errors import ServiceError, render
from .store import Store
from .tokens import TokenError, TokenIssuer

SERVICES = ("login", "graph", "management", "partner_center", "vault", "test")


@dataclass
class Sandbox:
    store: Store
    issuer: TokenIssuer
    urls: dict[str, str]
    vault_resource: str
    seed_info: dict[str, Any]
    latency_ms: int = 0
    faults: list[dict[str, Any]] = field(default_factory=list)
    auto_approve: list[dict[str, Any]] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)

    def now(self) -> float:
        return self.store.now()

    # resources -------------------------------------------------------------------------------
    def resource_identifier(self, resource_key: str) -> str:
        return {
            "graph": self.urls["graph"],
            "partner_center": self.urls["partner_center"],
            "azure": self.urls["management"],
            "keyvault": self.vault_resource,
            "aad_graph": "https://graph.windows.net",
        }[resource_key]

    def resource_key_for(self, identifier: str) -> str | None:
        wanted = identifier.rstrip("/").lower()
        for key in catalog.RESOURCES:
            if self.resource_identifier(key).rstrip("/").lower() == wanted:
                return key
            if catalog.RESOURCES[key]["app_id"] == wanted:
                return key
        return None

    def count(self, name: str) -> None:
        self.counters[name] = self.counters.get(name, 0) + 1


def sandbox_of(request: web.Request) -> Sandbox:
    return request.app["sandbox"]


def utc_iso(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=json.dumps(body), content_type="application/json",
                        headers=headers)


# The services' error helpers: each builds a ServiceError and renders it in its service's shape
# (sandbox/errors.py), with the ids of the request being answered.
def aad_error(sandbox: Sandbox, status: int, error: str, code: int, message: str,
              suberror: str | None = None) -> web.Response:
    return render(ServiceError(status, error, message, aadsts=code, suberror=suberror), "login")


def graph_error(sandbox: Sandbox, status: int, code: str, message: str,
                headers: dict[str, str] | None = None) -> web.Response:
    return render(ServiceError(status, code, message, headers=headers), "graph")


def bearer_claims(request: web.Request, audiences: list[str]) -> dict[str, Any]:
    """Verify the request's bearer token for this API; raise TokenError when it must be refused."""
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        raise TokenError("Authentication failed: no bearer token.")
    sandbox = sandbox_of(request)
    claims = sandbox.issuer.verify(header[7:].strip(), audiences)
    return claims


def token_scopes(claims: dict[str, Any]) -> set[str]:
    return set((claims.get("scp") or "").split()) | set(claims.get("roles") or [])
