# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

The partner_token fact, as the partner_token role sets it, turned into a task's connection
arguments: the access token for one resource in the partner tenant or a customer tenant, and the
cloud, endpoints and CA bundle it was obtained with. The action plugins of api_info and
partner_center_info call it on the controller, so the fact (a thousand customers' tokens) never
travels to the module."""

from __future__ import annotations

import time
from typing import Any

from ._errors import SecureAppError

PARTNER_TOKEN_ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "partner_token": {"type": "dict", "no_log": True},
}
# The partner_token resource that holds each API's token.
RESOURCE_OF_API = {"graph": "graph", "resource_manager": "azure", "partner_center": "partner_center"}
# An access token must live at least this long to be handed to a task.
MIN_LIFETIME = 60


def arguments_from_fact(fact: Any, resource: str, customer_tenant_id: str | None = None,
                        now: float | None = None) -> dict[str, Any]:
    if not isinstance(fact, dict) or not isinstance(fact.get("resources"), dict):
        raise SecureAppError("partner_token is not the fact the partner_token role sets: pass it as it is "
                             "(partner_token: \"{{ partner_token }}\").", code="invalid_partner_token")
    if customer_tenant_id:
        customers = fact.get("customers") or {}
        wanted = str(customer_tenant_id).lower()
        tokens = next((value for key, value in customers.items() if str(key).lower() == wanted), None) or {}
        where = f"customer tenant {customer_tenant_id}"
        fix = (f"run the partner_token role with {resource} in partner_token_resources and {customer_tenant_id} in "
               "partner_token_customer_tenants")
        failure = next((e.get("error") for e in fact.get("customer_errors") or []
                        if str(e.get("tenant_id", "")).lower() == wanted), None)
        if failure:
            fix = f"that tenant gave no token ({str(failure).rstrip('.')})"
    else:
        tokens = fact["resources"]
        where = "the partner tenant"
        fix = f"run the partner_token role with {resource} in partner_token_resources"
    token = tokens.get(resource) if isinstance(tokens, dict) else None
    if not isinstance(token, dict) or not token.get("access_token"):
        raise SecureAppError(f"partner_token has no {resource} token for {where}: {fix}.", code="no_token")
    now = time.time() if now is None else now
    try:
        expires_on = int(token.get("expires_on") or 0)
    except (TypeError, ValueError):
        expires_on = 0
    if expires_on < now + MIN_LIFETIME:
        raise SecureAppError(f"The {resource} token in partner_token for {where} has expired: run the partner_token "
                             "role again.", code="token_expired")
    arguments: dict[str, Any] = {"access_token": token["access_token"], "cloud": fact.get("cloud") or "AzureCloud"}
    for name in ("cloud_endpoints", "ca_bundle"):
        if fact.get(name):
            arguments[name] = fact[name]
    return arguments
