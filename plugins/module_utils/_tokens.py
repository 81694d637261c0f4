# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

The SAM exchange: one refresh token for access tokens to several resources, in the partner
tenant and, concurrently over the run's one session, in customer tenants. The module and the
lookup of the same name both call exchange()."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ._context import Context
from ._errors import SecureAppError

RESOURCES = ("partner_center", "graph", "azure", "keyvault", "aad_graph")


def requested_scopes(context: Context, resources: list[str] | None, scopes: list[str] | None) -> list[tuple[str, str]]:
    """(name, scope) pairs: resource keys through the cloud table, explicit scopes as given."""
    pairs = [(resource, context.cloud.default_scope(resource)) for resource in resources or []]
    pairs += [(scope, scope) for scope in scopes or []]
    if not pairs:
        raise SecureAppError(f"Nothing to get a token for: give resources (any of {', '.join(RESOURCES)}) or scopes.")
    return pairs


def exchange(context: Context, *, client_id: str, client_secret: str | None, tenant: str, refresh_token: str,
             resources: list[str] | None = None, scopes: list[str] | None = None,
             customer_tenants: list[str] | None = None, concurrency: int = 8,
             fail_on_customer_error: bool = False) -> dict[str, Any]:
    if not client_id or not refresh_token:
        raise SecureAppError("client_id and refresh_token are required to get access tokens.")
    pairs = requested_scopes(context, resources, scopes)
    identity = context.identity
    tokens: dict[str, Any] = {}
    latest_refresh_token = refresh_token
    who: dict[str, Any] = {}
    # Partner tenant first, in order, each exchange with the newest (rotated) refresh token.
    for name, scope in pairs:
        result = identity.refresh(client_id, client_secret, tenant, latest_refresh_token, [scope])
        tokens[name] = result.public()
        latest_refresh_token = result.refresh_token or latest_refresh_token
        who = who or result.identity()

    def one_customer(customer: str) -> dict[str, Any]:
        entry: dict[str, Any] = {"tenant_id": customer, "tokens": {}, "error": None, "error_code": None}
        try:
            for name, scope in pairs:
                entry["tokens"][name] = identity.refresh(client_id, client_secret, customer, latest_refresh_token,
                                                         [scope]).public()
        except SecureAppError as error:
            entry.update(tokens={}, error=error.message, error_code=error.code)
        return entry

    customers: list[dict[str, Any]] = []
    if customer_tenants:
        with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(customer_tenants)))) as pool:
            customers = list(pool.map(one_customer, customer_tenants))
        failed = [c for c in customers if c["error"]]
        if failed and fail_on_customer_error:
            first = failed[0]
            raise SecureAppError(f"{len(failed)} of {len(customers)} customer tenants gave no token; first, "
                                 f"{first['tenant_id']}: {first['error']}", code=first["error_code"])
    cloud = context.cloud
    endpoints = {"name": cloud.name, "login": cloud.login, "graph": cloud.graph,
                 "resource_manager": cloud.resource_manager, "partner_center": cloud.partner_center}
    return {"tokens": tokens, "customers": customers, "refresh_token": latest_refresh_token, "identity": who,
            "endpoints": endpoints, "retries": context.http.retries_seen}
