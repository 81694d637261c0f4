# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

The SAM exchange: one refresh token for access tokens to several resources, in the partner
tenant and, concurrently over the run's one session, in customer tenants. The module and the
lookup of the same name both call exchange()."""

from __future__ import annotations

from typing import Any, Callable

from ._clouds import check_tenant, is_guid
from ._context import Context
from ._errors import SecureAppError
from ._fanout import Progress, customer_entry, fan_out, raise_for_failed_customers

RESOURCES = ("partner_center", "graph", "azure", "keyvault", "aad_graph")

# The access_token options besides the common ones (its module documents them; its action runs it).
ACCESS_TOKEN_ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "resources": {"type": "list", "elements": "str", "choices": list(RESOURCES)},
    "scopes": {"type": "list", "elements": "str"},
    "customer_tenants": {"type": "list", "elements": "str"},
    # 32 from measurements at 1,000 tenants (8: 1.7x slower, 16: 1.3x, 64: no faster, more 429s);
    # a 429 pauses the whole pool (see _http.ThrottleGate).
    "concurrency": {"type": "int", "default": 32},
    "fail_on_customer_error": {"type": "bool", "default": False},
}
ACCESS_TOKEN_CHECKS: dict[str, Any] = {"required_together": [("client_id", "refresh_token")],
                                       "required_one_of": [("resources", "scopes")]}


def requested_scopes(context: Context, resources: list[str] | None, scopes: list[str] | None) -> list[tuple[str, str]]:
    """(name, scope) pairs: resource keys through the cloud table, explicit scopes as given."""
    pairs = [(resource, context.cloud.default_scope(resource)) for resource in resources or []]
    pairs += [(scope, scope) for scope in scopes or []]
    if not pairs:
        raise SecureAppError(f"Nothing to get a token for: give resources (any of {', '.join(RESOURCES)}) or scopes.")
    return pairs


def exchange(context: Context, *, client_id: str, client_secret: str | None, tenant: str, refresh_token: str,
             resources: list[str] | None = None, scopes: list[str] | None = None,
             customer_tenants: list[str] | None = None, concurrency: int = 32,
             fail_on_customer_error: bool = False,
             progress: Progress | None = None,
             customer_resources: list[str] | None = None,
             before_customers: Callable[[dict[str, Any]], list[str] | None] | None = None) -> dict[str, Any]:
    """Partner tenant first, then the customers concurrently. progress(done, failed, total) is
    called after each customer (from the worker threads). customer_resources, when given, are the
    resources asked for in customers instead of the partner's. before_customers(partner), when
    given, is called once the partner's tokens are in and before any customer, with the rotated
    refresh_token, tokens and identity: it stores the refresh token (so no later failure can lose
    it) and may return the customer tenants to use instead of customer_tenants."""
    if not client_id or not refresh_token:
        raise SecureAppError("client_id and refresh_token are required to get access tokens.")
    pairs = requested_scopes(context, resources, scopes)
    tenant = check_tenant(tenant)
    customer_tenants = [check_tenant(customer, "customer_tenants entry") for customer in customer_tenants or []]
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

    partner_tenant_id = who.get("tenant_id")
    if before_customers is not None:
        found = before_customers({"refresh_token": latest_refresh_token, "tokens": tokens, "identity": who})
        if found is not None:
            customer_tenants = [check_tenant(customer, "customer tenant") for customer in found]
    customer_pairs = pairs if customer_resources is None else requested_scopes(context, customer_resources, None)

    def fill(entry: dict[str, Any]) -> None:
        customer, issued = entry["tenant_id"], {}
        for name, scope in customer_pairs:
            entry["error_resource"] = name
            result = identity.refresh_in_customer(client_id, client_secret, tenant, customer,
                                                  latest_refresh_token, [scope])
            check_issued_in(result.tenant_id, customer, partner_tenant_id)
            issued[name] = result.public()
        entry.update(tokens=issued, error_resource=None)

    customers = fan_out(context.http, customer_tenants,
                        lambda customer: customer_entry(customer, fill, tokens={}, error_resource=None),
                        concurrency, progress=progress)
    cloud = context.cloud
    endpoints = {"name": cloud.name, "login": cloud.login, "graph": cloud.graph,
                 "resource_manager": cloud.resource_manager, "partner_center": cloud.partner_center}
    result = {"tokens": tokens, "customers": customers, "refresh_token": latest_refresh_token, "identity": who,
              "endpoints": endpoints, "retries": context.http.retries_seen,
              # The same customers shaped as the partner_token fact holds them, so the role's
              # set_fact copies them instead of reshaping a thousand entries in Jinja.
              "customer_tokens": {c["tenant_id"]: c["tokens"] for c in customers if not c["error"]},
              "customer_errors": [{"tenant_id": c["tenant_id"], "error": c["error"], "error_code": c["error_code"],
                                   "resource": c["error_resource"]} for c in customers if c["error"]]}
    if fail_on_customer_error:
        # The partner exchange has rotated the refresh token: the failure carries the result, so
        # the newest refresh token still reaches the caller, who must store it.
        raise_for_failed_customers(customers, "customer tenants gave no token", secret_result=result)
    return result


def check_issued_in(issued_tenant: str | None, customer: str, partner_tenant_id: str | None) -> None:
    """A token asked for in a customer tenant must come from that tenant. A GUID is compared as is;
    for a domain, the token must at least not be the partner tenant's."""
    wrong = (issued_tenant or "").lower() != customer.lower() if is_guid(customer) else \
        bool(partner_tenant_id) and (issued_tenant or "").lower() == partner_tenant_id.lower()
    if wrong:
        raise SecureAppError(f"The token asked for in customer tenant {customer} was issued in tenant "
                             f"{issued_tenant}: it is not that customer's, so it was dropped; check the customer's "
                             "tenant id.", code="wrong_tenant")
