# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

The partner's customers as inventory records: Partner Center's customer list (continuation
paging) joined with the partner's GDAP relationships (one paged Graph list), each customer's
GDAP situation named once here. Requests do not grow with the customers unless details are asked
for (access assignments per usable relationship, the SAM app's consent per customer). A record
holds ids, names, dates and roles: never a token."""

from __future__ import annotations

import datetime
import math
from typing import Any

from ._clouds import Cloud
from ._errors import SecureAppError
from ._fanout import fan_out
from ._gdap_consents import Consents
from ._gdap_relationships import Relationships, relationship_view
from ._gdap_verdict import ENDED_STATUSES, USABLE_STATUSES, covering_assignments, deciding_relationship
from ._http import HttpClient
from ._partnercenter import PartnerCenter
from ._times import parse_time

# Every situation a customer can be in, in the order the groups are listed.
SITUATIONS = ("gdap_active", "gdap_expiring", "gdap_pending", "gdap_ended", "dap", "no_relationship")


def gdap_situation(relationships: list[dict[str, Any]], delegated_access: bool, *, details: bool,
                   consented: bool | None, now: datetime.datetime, expiring_days: int) -> dict[str, Any]:
    """What the inventory says of one customer's GDAP: the deciding relationship, its status,
    end and roles, the situation (one of SITUATIONS) and, with details, whether an assignment
    covers the service account and the SAM app is consented."""
    chosen = deciding_relationship(relationships)
    situation: dict[str, Any] = {"situation": "dap" if delegated_access else "no_relationship",
                                 "relationship_id": None, "relationship_name": None, "status": None,
                                 "end_date": None, "days_left": None, "roles": [], "covered": None,
                                 "consented": consented if details else None}
    if chosen is None:
        return situation
    end = parse_time(chosen.get("end_date"))
    status = chosen.get("status") or "unknown"
    days_left = math.ceil((end - now).total_seconds() / 86400) if end else None
    if status in USABLE_STATUSES:
        name = "gdap_expiring" if days_left is not None and days_left < expiring_days else "gdap_active"
    elif status in ENDED_STATUSES:
        name = "gdap_ended"
    else:
        name = "gdap_pending"
    roles = chosen.get("roles") or []
    if details and status in USABLE_STATUSES:  # assignments are read for usable relationships only
        covering = covering_assignments(chosen)
        granted = {role["id"]: role["name"] for assignment in covering for role in assignment.get("roles") or []}
        situation["covered"] = bool(covering)
        roles = [{"id": role_id, "name": role_name} for role_id, role_name in sorted(granted.items(), key=lambda r: r[1])]
    situation.update(situation=name, relationship_id=chosen.get("id"), relationship_name=chosen.get("display_name"),
                     status=status, end_date=end.strftime("%Y-%m-%d") if end else None, days_left=days_left,
                     roles=sorted(role["name"] for role in roles))
    return situation


def customer_records(http: HttpClient, cloud: Cloud, *, partner_center_token: str, graph_token: str | None,
                     application_id: str | None = None, details: bool = False, concurrency: int = 8,
                     expiring_days: int = 30, page_size: int = 500,
                     now: datetime.datetime | None = None) -> list[dict[str, Any]]:
    """One record per customer Partner Center lists, with its GDAP situation. Without a Graph
    token the situation comes from Partner Center alone (DAP or nothing known)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    customers = PartnerCenter(http, cloud, partner_center_token).customers(page_size)
    by_customer: dict[str, list[dict[str, Any]]] = {}
    if graph_token:
        graph = Relationships(http, cloud, graph_token)
        relationships = graph.list()
        my_group_ids = {str(group.get("id")).lower() for group in graph.my_groups()} if details else set()

        def view(relationship: dict[str, Any]) -> dict[str, Any]:
            usable = relationship.get("status") in USABLE_STATUSES
            assignments = graph.access_assignments(relationship["id"]) if details and usable else []
            return relationship_view(relationship, assignments, my_group_ids)

        views = fan_out(http, relationships, view, concurrency) if details else \
            [relationship_view(relationship, [], set()) for relationship in relationships]
        for relationship in views:
            by_customer.setdefault(str(relationship.get("customer_tenant_id") or "").lower(), []).append(relationship)

    consents: dict[str, bool | None] = {}
    if details and application_id:
        reader = Consents(http, cloud, partner_center_token)
        reachable = [c["companyProfile"]["tenantId"] for c in customers
                     if c.get("allowDelegatedAccess") or any(r.get("status") in USABLE_STATUSES
                                                             for r in by_customer.get(_tenant(c), []))]

        def consented(tenant_id: str) -> bool | None:
            try:
                return reader.find(tenant_id, application_id) is not None
            except SecureAppError:  # not readable (no role there): unknown, not a failed inventory
                return None
        consents = dict(zip([t.lower() for t in reachable], fan_out(http, reachable, consented, concurrency)))

    records = []
    for customer in customers:
        profile = customer.get("companyProfile") or {}
        tenant_id = _tenant(customer)
        delegated = bool(customer.get("allowDelegatedAccess"))
        records.append({
            "tenant_id": profile.get("tenantId") or customer.get("id"),
            "name": profile.get("companyName"),
            "domain": profile.get("domain"),
            "domains": [profile["domain"]] if profile.get("domain") else [],
            "relationship_to_partner": customer.get("relationshipToPartner"),
            "gdap": gdap_situation(by_customer.get(tenant_id, []), delegated, details=details,
                                   consented=consents.get(tenant_id), now=now, expiring_days=expiring_days),
        })
    return records


def _tenant(customer: dict[str, Any]) -> str:
    return str((customer.get("companyProfile") or {}).get("tenantId") or customer.get("id") or "").lower()
