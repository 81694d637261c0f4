# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

The per-customer verdict the customer_access role reports: from the customer's GDAP
relationships, the SAM app's consent and the tokens tried, whether the SAM app reaches the
customer, and otherwise one sentence with the cause and the fix."""

from __future__ import annotations

import datetime
import math
from typing import Any

from ._gdap_roles import CONSENT_ROLE_IDS
from ._gdap_status import ASSIGNMENT_ACTIVE, AWAITING_APPROVAL, ENDED as ENDED_STATUSES, USABLE as USABLE_STATUSES
from ._times import parse_time


def deciding_relationship(relationships: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The relationship that decides: a usable one with a covering assignment first, then any
    usable one, then one awaiting the customer's approval (a successor of one that ended), then
    the one that ends (or ended) last."""
    def rank(relationship: dict[str, Any]) -> tuple:
        usable = relationship.get("status") in USABLE_STATUSES
        return (usable and bool(covering_assignments(relationship)), usable,
                relationship.get("status") == AWAITING_APPROVAL, str(relationship.get("end_date") or ""))
    return max(relationships, key=rank) if relationships else None


def covering_assignments(relationship: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in relationship.get("access_assignments") or []
            if a.get("status") == ASSIGNMENT_ACTIVE and a.get("includes_me")]


def awaiting_link(relationships: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    """(name, invitation link) of a relationship awaiting the customer's approval, if any."""
    for relationship in relationships:
        if relationship.get("status") == AWAITING_APPROVAL:
            return relationship.get("display_name"), relationship.get("invitation_link")
    return None, None


def approval_sentence(name: str, link: str | None) -> str:
    where = f"the invitation link {link}" if link else "the invitation link (Partner Center shows it)"
    return (f"{name} awaits the customer's approval: its Global Administrator opens {where}; once it is active, "
            "run again with customer_access_fix=true to assign the group and consent.")


def relationship_label(status: str) -> str:
    """The report's relationship column for a relationship that gives no access; Graph's 'expiring'
    (past its end date) is told apart from the report's 'GDAP expiring' (active, ending soon)."""
    return "GDAP expiring (past its end)" if status == "expiring" else f"GDAP {status}"


def _names(roles: list[str]) -> str:
    return ", ".join(roles) or "no role"


def assess(customer: dict[str, Any], relationships: list[dict[str, Any]], *, consent: dict[str, Any] | None,
           tokens: dict[str, str], token_error: str | None, now: datetime.datetime,
           warning_days: int) -> dict[str, Any]:
    """The row of _assess; a customer the decided relationship leaves unreachable while another
    one awaits the customer's approval (a successor, or one with roles that can consent) awaits it."""
    row = _assess(customer, relationships, consent=consent, tokens=tokens, token_error=token_error, now=now,
                  warning_days=warning_days)
    pending_name, pending_link = awaiting_link(relationships)
    if row["status"] == "unreachable" and pending_name is not None:
        row.update(status="awaiting_approval", invitation_link=pending_link,
                   sentence=approval_sentence(f"GDAP relationship '{pending_name}'", pending_link))
    return row


def _assess(customer: dict[str, Any], relationships: list[dict[str, Any]], *, consent: dict[str, Any] | None,
            tokens: dict[str, str], token_error: str | None, now: datetime.datetime,
            warning_days: int) -> dict[str, Any]:
    """One customer's row of the report: what decides whether the SAM app reaches it, its status
    (reachable, expiring, awaiting_approval, needs_consent, unreachable) and, unless plainly
    reachable, one sentence with the cause and the fix.

    customer: tenant_id, name and, when Partner Center said, delegated_access (DAP).
    relationships: this customer's, as read_relationships returns them.
    consent: None when not looked at, else consented (bool), granted (in this run), error.
    tokens: resource -> ok, error or not tried; token_error: the sentence of the failing one."""
    row: dict[str, Any] = {
        "tenant_id": customer.get("tenant_id"), "name": customer.get("name") or customer.get("tenant_id"),
        "relationship": "none", "relationship_name": None, "relationship_id": None, "end_date": None,
        "days_left": None, "covered": False, "roles": [], "can_consent": False,
        "consented": (consent or {}).get("consented"), "consent_granted": bool((consent or {}).get("granted")),
        "tokens": dict(tokens), "status": "unreachable", "sentence": "", "invitation_link": None,
    }
    chosen = deciding_relationship(relationships)
    if chosen is None:
        return _without_gdap(row, customer.get("delegated_access"), token_error)

    status = chosen.get("status") or "unknown"
    end = parse_time(chosen.get("end_date"))
    name = f"GDAP relationship '{chosen.get('display_name')}'"
    row.update(relationship_name=chosen.get("display_name"), relationship_id=chosen.get("id"),
               end_date=end.strftime("%Y-%m-%d") if end else None,
               days_left=math.ceil((end - now).total_seconds() / 86400) if end else None)
    pending_name, pending_link = awaiting_link(relationships)
    row["invitation_link"] = pending_link
    if status not in USABLE_STATUSES:
        row["relationship"] = relationship_label(status)
        if status == AWAITING_APPROVAL:
            row["status"] = "awaiting_approval"
            row["sentence"] = approval_sentence(name, pending_link)
        elif status in ENDED_STATUSES:
            row["sentence"] = (f"{name} ended {row['end_date'] or 'already'} ({status}): renew it in Partner Center "
                               "(a new relationship request the customer approves).")
        else:
            row["sentence"] = (f"{name} is {status}, not active: it gives access once the customer approves it "
                               "and it is active.")
        return row
    expiring = row["days_left"] is not None and row["days_left"] < warning_days
    row["relationship"] = "GDAP expiring" if expiring else "GDAP active"
    covering = covering_assignments(chosen)
    granted = {role["id"]: role["name"] for assignment in covering for role in assignment.get("roles") or []}
    row.update(covered=bool(covering), roles=sorted(granted.values()),
               can_consent=any(role_id in granted for role_id in CONSENT_ROLE_IDS))
    if not covering:
        row["sentence"] = (f"The service account is in no group that an active access assignment of {name} covers: "
                           "add it to an assigned security group, or assign one of its groups in Partner Center.")
        return row
    if token_error is None:
        row["status"] = "expiring" if expiring else "reachable"
        if row["consent_granted"]:
            row["sentence"] = "The SAM app's consent was granted in this run; every token asked for works."
        if expiring:
            row["sentence"] = (f"{name} ends {row['end_date']} (in {row['days_left']} days): extend it in Partner "
                               "Center before then (auto-extend, or a new relationship).")
            if pending_name is not None:
                row["sentence"] = (f"{name} ends {row['end_date']} (in {row['days_left']} days); its successor "
                                   + approval_sentence(f"'{pending_name}'", pending_link))
        return row
    if consent and consent.get("error"):
        row["sentence"] = consent["error"]
    elif row["consented"] is False or (row["consented"] is None and "AADSTS65001" in token_error):
        if row["can_consent"]:
            row["status"] = "needs_consent"
            row["sentence"] = ("The SAM app is not consented in this customer; the service account's roles "
                               f"({_names(row['roles'])}) can grant it: run playbooks/customers.yml with "
                               "customer_access_consent=true.")
        else:
            row["sentence"] = ("The SAM app is not consented in this customer and the service account's roles "
                               f"({_names(row['roles'])}) cannot grant it: add Cloud Application Administrator to "
                               f"the access assignment of {name}, then run customers.yml with "
                               "customer_access_consent=true.")
    else:
        row["sentence"] = f"No token although {name} is active and covers the service account: {token_error}"
    return row


def _without_gdap(row: dict[str, Any], delegated_access: bool | None, token_error: str | None) -> dict[str, Any]:
    """No GDAP relationship: DAP (when Partner Center says so, or a token works) or nothing."""
    if delegated_access or (delegated_access is None and token_error is None):
        row["relationship"] = "DAP"
        if token_error is None:
            row["status"] = "reachable"
            row["sentence"] = ("Reached through DAP, which Microsoft has retired: set up a GDAP relationship before "
                               "DAP access is removed.")
        else:
            row["sentence"] = f"DAP gave no token: {token_error}"
        return row
    row["sentence"] = ("No GDAP relationship with this customer: request one in Partner Center (with Cloud "
                       "Application Administrator among its roles) and have the customer approve it.")
    return row
