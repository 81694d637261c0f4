# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The customer_access filter: the per-customer verdict of the customer_access role, computed in
Python (a thousand customers in Jinja would be slow and hard to read)."""

from __future__ import annotations

DOCUMENTATION = r"""
name: customer_access
version_added: 1.0.0
short_description: Decide, per customer, whether the SAM app reaches it under GDAP, and why not
description:
  - Combines what M(partnercenter.secure_app.partner_center_info), M(partnercenter.secure_app.gdap_relationship_info),
    M(partnercenter.secure_app.application_consent) and M(partnercenter.secure_app.access_token) returned into one row
    per customer with a status (C(unreachable), C(needs_consent), C(awaiting_approval) with the invitation link the
    customer's Global Administrator opens, C(expiring), C(reachable)) and, unless plainly reachable, one sentence
    with the cause and the fix.
  - With O(fixes), each row also says what this run changed (or, in check mode, would change) for the customer, and
    the report counts those changes.
  - The customer_access role uses it to write its report.
author:
  - partnercenter.secure_app developers (@partnercenter)
positional: relationships, consents_found, consents_applied, token_errors, resources, warning_days, reached, fixes,
  check_mode, fix_roles
options:
  _input:
    description: The customers, as partner_center_info returns them, or tenant ids.
    type: list
    elements: raw
    required: true
  relationships:
    description: The RV(partnercenter.secure_app.gdap_relationship_info#module:relationships).
    type: list
    elements: dict
  consents_found:
    description: The C(customers) of an application_consent run in check mode (what exists).
    type: list
    elements: dict
  consents_applied:
    description: The C(customers) of an application_consent run that granted consents, if any.
    type: list
    elements: dict
  token_errors:
    description: The RV(partnercenter.secure_app.access_token#module:customer_errors) of a token check.
    type: list
    elements: dict
  resources:
    description: The resources the token check asked for.
    type: list
    elements: str
  warning_days:
    description: A relationship ending within this many days is flagged C(expiring).
    type: int
    default: 30
  reached:
    description:
      - The tenant ids that gave every token (the keys of the partner_token fact's C(customers)). Left out, no token
        check is assumed and each resource reads C(not tried).
    type: list
    elements: str
  fixes:
    description:
      - What the role's fix path did, by kind of change, each the per-customer results of a module run (C(tenant_id),
        C(changed), C(error), maybe C(invitation_link); an access assignment may name its C(relationship_id)
        instead of the customer).
      - C(requested) (gdap_relationship, new relationships), C(renewed) (gdap_relationship, successors) and
        C(assigned) (gdap_access_assignment); the consents granted come from O(consents_applied).
    type: dict
  check_mode:
    description: The changes were only planned (check mode); the report says so.
    type: bool
    default: false
  fix_roles:
    description:
      - The roles (names or template ids) the fix path gives the service account's group; an access assignment is
        planned only in a usable relationship holding some of them, with those only (least privilege).
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: The partner's customers
  partnercenter.secure_app.partner_center_info:
    partner_token: "{{ partner_token }}"
  register: pc

- name: The GDAP relationships
  partnercenter.secure_app.gdap_relationship_info:
    access_token: "{{ partner_token.resources.graph.access_token }}"
  register: gdap

- name: The SAM app's application consents that exist (check mode writes nothing)
  partnercenter.secure_app.application_consent:
    access_token: "{{ partner_token.resources.partner_center.access_token }}"
    application_id: "{{ partner_token.app_id }}"
    customer_tenants: "{{ pc.customers | map(attribute='tenant_id') }}"
    fail_on_customer_error: false
  check_mode: true
  register: found

- name: The verdict per customer (the token check is the partner_token fact's)
  ansible.builtin.debug:
    msg: >-
      {{ pc.customers | partnercenter.secure_app.customer_access(
           relationships=gdap.relationships, consents_found=found.customers,
           token_errors=partner_token.customer_errors, resources=partner_token.resources.keys() | list,
           reached=partner_token.customers.keys() | list) }}
"""

RETURN = r"""
_value:
  description:
    - C(generated), C(total), C(counts) per status, C(resources), C(check_mode), C(changes) (how many customers had a
      relationship requested, renewed, a group assigned, a consent granted), C(fix) (the customers the fix path
      requests and renews a relationship for, and the assignments it makes, each a C(relationship_id) with the
      C(roles) of O(fix_roles) that relationship holds) and C(customers), one
      row each, sorted by status.
    - Each row's C(changes) lists what this run changed for that customer (C(relationship_requested),
      C(relationship_renewed), C(group_assigned), C(consent_granted)); C(invitation_link) is set while a relationship
      awaits the customer's approval; C(fix) lists what the role's fix path does for it (C(request), C(renew),
      C(assign), C(consent)), empty for a reachable customer.
  type: dict
"""

import datetime
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.partnercenter.secure_app.plugins.module_utils._gdap_verdict import (
    ENDED_STATUSES, USABLE_STATUSES, approval_sentence, assess, awaiting_link, relationship_label)
from ansible_collections.partnercenter.secure_app.plugins.module_utils._gdap_status import (
    ASSIGNMENT_ACTIVE, ASSIGNMENT_PENDING, LIVE as LIVE_STATUSES)
from ansible_collections.partnercenter.secure_app.plugins.module_utils._gdap_roles import CONSENT_ROLE_IDS
from ansible_collections.partnercenter.secure_app.plugins.module_utils._times import parse_time

STATUS_ORDER = ("unreachable", "needs_consent", "awaiting_approval", "expiring", "reachable")
# What a run can change for a customer, as the report names it, and the fix it comes from.
CHANGES = ("relationship_requested", "relationship_renewed", "group_assigned", "consent_granted")
FIX_CHANGES = {"requested": "relationship_requested", "renewed": "relationship_renewed", "assigned": "group_assigned"}
# What the role's fix path can do for a customer that is not reachable, in the order it does it.
FIXES = ("request", "renew", "assign", "consent")
ENDED_LABELS = frozenset(relationship_label(status) for status in ENDED_STATUSES)
# LIVE_STATUSES: active, or on its way there; a relationship only created (not locked for approval)
# is not, since no customer has been asked yet (the request locks it).


def _covers_me(relationship: dict[str, Any]) -> bool:
    """An assignment of a group the service account is in, active or on its way (pending)."""
    return any(a.get("includes_me") and a.get("status") in (ASSIGNMENT_ACTIVE, ASSIGNMENT_PENDING)
               for a in relationship.get("access_assignments") or [])


def _days_left(relationship: dict[str, Any], now: datetime.datetime) -> float | None:
    end = parse_time(relationship.get("end_date"))
    return None if end is None else (end - now).total_seconds() / 86400


def _plan(row: dict[str, Any], relationships: list[dict[str, Any]], wanted_roles: set[str],
          warning_days: int, now: datetime.datetime) -> tuple[list[str], list[dict[str, Any]]]:
    """What the fix path does for this row, and the assignments it makes (relationship id and the
    roles of customer_access_roles it holds).

    request: no live relationship (usable or on its way to the customer's approval) holds a role
      that can consent, and there is nothing to renew;
    renew: the relationship that decides ended or ends within the warning days, and no other one
      is live beyond them (a successor);
    assign: a usable relationship holding some of the wanted roles has no assignment of a group
      the service account is in;
    consent: the service account's roles can grant the missing consent."""
    if row["status"] == "reachable":
        return [], []
    # Each relationship's status and roles read once: Ansible hands a filter its variables in
    # containers that do work on every read (thousands of customers).
    views = []
    for relationship in relationships:
        roles = list(relationship.get("roles") or [])
        views.append((relationship, relationship.get("status"), roles, [role.get("id", "") for role in roles]))

    def successor(relationship: dict[str, Any], status: Any) -> bool:
        if relationship.get("id") == row["relationship_id"] or status not in LIVE_STATUSES:
            return False
        left = _days_left(relationship, now)
        return status not in USABLE_STATUSES or left is None or left >= warning_days
    ending = row["relationship"] in ENDED_LABELS or row["relationship"] == "GDAP expiring"
    renew = ending and not any(successor(relationship, status) for relationship, status, _roles, _ids in views)
    consenting = any(status in LIVE_STATUSES and any(role_id in CONSENT_ROLE_IDS for role_id in ids)
                     for _relationship, status, _roles, ids in views)
    assignments = []
    for relationship, status, roles, ids in views:
        held = [role["id"] for role, role_id in zip(roles, ids)
                if str(role_id).lower() in wanted_roles or str(role.get("name", "")).lower() in wanted_roles]
        if status in USABLE_STATUSES and not _covers_me(relationship) and held:
            assignments.append({"relationship_id": relationship.get("id"), "roles": held})
    wanted = {"request": not consenting and not renew, "renew": renew, "assign": bool(assignments),
              "consent": row["status"] == "needs_consent"}
    return [fix for fix in FIXES if wanted[fix]], assignments


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
        # after is what Partner Center holds once the task ran, also when it failed.
        consented = applied.get("after") is not None
        if applied.get("error"):
            return {"consented": consented, "granted": False, "error": applied["error"]}
        return {"consented": consented, "granted": bool(applied.get("changed")) and consented}
    if found is None or found.get("error"):
        return None
    return {"consented": found.get("before") is not None, "granted": False}


def _fixes_by_customer(fixes: dict[str, Any] | None, tenant_of: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Per customer: the changes made (in CHANGES' names), the first fix error, a new invitation link."""
    result: dict[str, dict[str, Any]] = {}
    for kind, entries in (fixes or {}).items():
        if kind not in FIX_CHANGES:
            raise AnsibleFilterError(f"customer_access: fixes has an unknown kind {kind!r}; use "
                                     f"{', '.join(FIX_CHANGES)}.")
        for entry in entries or []:
            if not isinstance(entry, dict):
                continue
            if isinstance(entry.get("item"), dict):  # one result of a looped task: its item says what it was for
                # (failed_when: false keeps the play going; a module's success has no msg)
                failed = entry.get("failed") or (entry.get("failed_when_result") is False and entry.get("msg"))
                entry = dict(entry["item"], changed=entry.get("changed"), error=entry.get("msg") if failed else None)
            tenant = entry.get("tenant_id") or tenant_of.get(str(entry.get("relationship_id", "")).lower())
            if not tenant:
                continue
            mine = result.setdefault(str(tenant).lower(), {"changes": [], "error": None, "invitation_link": None})
            if entry.get("error"):
                mine["error"] = mine["error"] or entry["error"]
            elif entry.get("changed") and FIX_CHANGES[kind] not in mine["changes"]:
                mine["changes"].append(FIX_CHANGES[kind])
            mine["invitation_link"] = entry.get("invitation_link") or mine["invitation_link"]
    return result


def customer_access(customers: list[Any], relationships: list[dict[str, Any]] | None = None,
                    consents_found: list[dict[str, Any]] | None = None,
                    consents_applied: list[dict[str, Any]] | None = None,
                    token_errors: list[dict[str, Any]] | None = None, resources: list[str] | None = None,
                    warning_days: int = 30, reached: Any = None, fixes: dict[str, Any] | None = None,
                    check_mode: bool = False, fix_roles: list[str] | None = None) -> dict[str, Any]:
    now = datetime.datetime.now(datetime.timezone.utc)
    by_customer: dict[str, list[dict[str, Any]]] = {}
    tenant_of: dict[str, str] = {}
    for relationship in relationships or []:
        by_customer.setdefault(str(relationship.get("customer_tenant_id", "")).lower(), []).append(relationship)
        tenant_of[str(relationship.get("id", "")).lower()] = str(relationship.get("customer_tenant_id", ""))
    fixed = _fixes_by_customer(fixes, tenant_of)
    wanted_roles = {str(role).strip().lower() for role in fix_roles or []}
    plan_assignments: list[dict[str, Any]] = []
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
        consent = _consent(found.get(key), applied.get(key))
        if consent is None and reached_ids is not None and key in reached_ids and error is None:
            consent = {"consented": True, "granted": False}  # Entra gives no token without it
        row = assess(customer, by_customer.get(key, []), consent=consent,
                     tokens=tokens, token_error=token_error if reached_ids is not None else None, now=now,
                     warning_days=int(warning_days))
        mine = fixed.get(key) or {"changes": [], "error": None, "invitation_link": None}
        row["changes"] = [change for change in CHANGES
                          if change in mine["changes"] or (change == "consent_granted" and row["consent_granted"])]
        if row["status"] == "awaiting_approval" and not row["invitation_link"] and mine["invitation_link"]:
            row["invitation_link"] = mine["invitation_link"]
            row["sentence"] = approval_sentence(f"GDAP relationship '{awaiting_link(by_customer.get(key, []))[0]}'",
                                                mine["invitation_link"])
        if mine["error"] and row["status"] != "reachable":
            row["sentence"] = mine["error"]  # what the fix could not do, and why, beats the general advice
        row["fix"], assignments = _plan(row, by_customer.get(key, []), wanted_roles, int(warning_days), now)
        plan_assignments.extend(assignments)
        rows.append(row)
    rows.sort(key=lambda row: (STATUS_ORDER.index(row["status"]), str(row["name"]).lower()))
    counts = {status: sum(1 for row in rows if row["status"] == status) for status in STATUS_ORDER}
    changes = {change: sum(1 for row in rows if change in row["changes"]) for change in CHANGES}
    plan = {fix: [row["tenant_id"] for row in rows if fix in row["fix"]] for fix in ("request", "renew")}
    plan["assign"] = plan_assignments
    return {"generated": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "total": len(rows), "counts": counts,
            "resources": resources, "check_mode": bool(check_mode), "changes": changes, "fix": plan, "customers": rows}


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"customer_access": customer_access}
