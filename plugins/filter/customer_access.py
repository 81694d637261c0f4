# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The customer_access filter: the per-customer verdict of the customer_access role, computed in
Python (a thousand customers in Jinja would be slow and hard to read). Its documentation is in
customer_access.yml next to this file."""

from __future__ import annotations

import datetime
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.partnercenter.secure_app.plugins.module_utils._gdap_verdict import assess

STATUS_ORDER = ("unreachable", "needs_consent", "expiring", "reachable")


def _customer(item: Any) -> dict[str, Any]:
    if isinstance(item, str):
        return {"tenant_id": item, "name": None, "delegated_access": None}
    if not isinstance(item, dict) or not (item.get("tenant_id") or item.get("id")):
        raise AnsibleFilterError("customer_access: each customer must be a tenant id or a dict with tenant_id.")
    return {"tenant_id": item.get("tenant_id") or item.get("id"),
            "name": item.get("company_name") or item.get("name"),
            "delegated_access": item.get("delegated_access")}


def _consent(found: dict[str, Any] | None, applied: dict[str, Any] | None) -> dict[str, Any] | None:
    """What application_consent said of one customer: looked up (check mode) and maybe granted."""
    if applied is not None:
        if applied.get("error"):
            return {"consented": False, "granted": False, "error": applied["error"]}
        return {"consented": applied.get("after") is not None, "granted": bool(applied.get("changed"))}
    if found is None or found.get("error"):
        return None
    return {"consented": found.get("before") is not None, "granted": False}


def customer_access(customers: list[Any], relationships: list[dict[str, Any]] | None = None,
                    consents_found: list[dict[str, Any]] | None = None,
                    consents_applied: list[dict[str, Any]] | None = None,
                    token_errors: list[dict[str, Any]] | None = None, resources: list[str] | None = None,
                    warning_days: int = 30, reached: Any = None) -> dict[str, Any]:
    now = datetime.datetime.now(datetime.timezone.utc)
    by_customer: dict[str, list[dict[str, Any]]] = {}
    for relationship in relationships or []:
        by_customer.setdefault(str(relationship.get("customer_tenant_id", "")).lower(), []).append(relationship)
    found = {str(e.get("tenant_id")).lower(): e for e in consents_found or []}
    applied = {str(e.get("tenant_id")).lower(): e for e in consents_applied or []}
    errors = {str(e.get("tenant_id")).lower(): e for e in token_errors or []}
    resources = list(resources or [])
    # None: no token was asked for; else the tenants that gave every token.
    reached_ids = None if reached is None else {str(tenant).lower() for tenant in reached}
    rows = []
    for item in customers or []:
        customer = _customer(item)
        key = str(customer["tenant_id"]).lower()
        error = errors.get(key)
        asked = reached_ids is not None and (key in reached_ids or error is not None)
        tokens = {resource: "ok" if asked else "not tried" for resource in resources}
        token_error = error.get("error") if error else None
        if reached_ids is not None and not asked:
            token_error = "no token was asked for in this customer (it was not in the token check)."
        if error:
            failing = error.get("resource")
            after = False
            for resource in resources:
                after = after or resource == failing
                tokens[resource] = "error" if resource == failing else ("not tried" if after else "ok")
        rows.append(assess(customer, by_customer.get(key, []), consent=_consent(found.get(key), applied.get(key)),
                           tokens=tokens, token_error=token_error if reached_ids is not None else None, now=now,
                           warning_days=int(warning_days)))
    rows.sort(key=lambda row: (STATUS_ORDER.index(row["status"]), str(row["name"]).lower()))
    counts = {status: sum(1 for row in rows if row["status"] == status) for status in STATUS_ORDER}
    return {"generated": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "total": len(rows), "counts": counts,
            "resources": resources, "customers": rows}


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"customer_access": customer_access}
