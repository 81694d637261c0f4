# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

The partner's GDAP relationships and their access assignments, read from Microsoft Graph with a
delegated token of the partner tenant, as gdap_relationship_info returns them."""

from __future__ import annotations

from typing import Any

from ._clouds import Cloud
from ._fanout import fan_out
from ._gdap_roles import roles_of
from ._graph import Graph, odata_quote
from ._http import HttpClient, StatusHint, StatusHints

RELATIONSHIP_PAGE_SIZE = 300  # the largest $top Graph accepts for these collections


class Relationships(Graph):
    """The partner's GDAP relationships, read with a delegated Graph token of the partner tenant."""

    def status_hints(self) -> StatusHints:
        return {**super().status_hints(), 403: StatusHint(
            "permission denied by Microsoft Graph ({code}): the SAM app needs the delegated permission "
            "DelegatedAdminRelationship.Read.All, consented in the partner tenant: run the onboard playbook again "
            "with onboard_renew_consent=true (app_registration adds the permission).")}

    def list(self, customer_tenant_id: str | None = None) -> list[dict[str, Any]]:
        params = {"$top": str(RELATIONSHIP_PAGE_SIZE)}
        if customer_tenant_id:
            params["$filter"] = f"customer/tenantId eq {odata_quote(customer_tenant_id)}"
        return self._all("/tenantRelationships/delegatedAdminRelationships",
                         "list the partner's GDAP relationships", params)

    def access_assignments(self, relationship_id: str) -> list[dict[str, Any]]:
        return self._all(f"/tenantRelationships/delegatedAdminRelationships/{relationship_id}/accessAssignments",
                         f"list the access assignments of GDAP relationship {relationship_id}")

    def my_groups(self) -> list[dict[str, Any]]:
        """The signed-in account's groups: GDAP covers direct members only (no nested groups)."""
        return [item for item in self._all("/me/memberOf", "list the signed-in account's groups")
                if item.get("@odata.type", "#microsoft.graph.group") == "#microsoft.graph.group"]


def relationship_view(relationship: dict[str, Any], assignments: list[dict[str, Any]],
                      my_group_ids: set[str], invitation_link: str | None = None) -> dict[str, Any]:
    """A relationship as the module returns it: snake_case, roles named, assignments included, and
    the invitation link while it awaits the customer's approval."""
    customer = relationship.get("customer") or {}
    views = []
    for assignment in assignments:
        container = assignment.get("accessContainer") or {}
        group_id = container.get("accessContainerId")
        views.append({"id": assignment.get("id"), "status": assignment.get("status"), "group_id": group_id,
                      "roles": roles_of(assignment.get("accessDetails")),
                      "includes_me": str(group_id or "").lower() in my_group_ids})
    return {
        "id": relationship.get("id"), "display_name": relationship.get("displayName"),
        "status": relationship.get("status"),
        "customer_tenant_id": customer.get("tenantId"), "customer_name": customer.get("displayName"),
        "start_date": relationship.get("activatedDateTime"), "end_date": relationship.get("endDateTime"),
        "duration": relationship.get("duration"), "auto_extend_duration": relationship.get("autoExtendDuration"),
        "roles": roles_of(relationship.get("accessDetails")), "access_assignments": views,
        "invitation_link": invitation_link if relationship.get("status") == "approvalPending" else None,
    }


def read_relationships(http: HttpClient, cloud: Cloud, graph_token: str, *, customer_tenant_id: str | None = None,
                       customer_tenants: list[str] | None = None, include_access_assignments: bool = True,
                       concurrency: int = 8, assignment_statuses: list[str] | None = None) -> dict[str, Any]:
    """customer_tenants, when given, keeps those customers' relationships only, before any access
    assignment is read (one listing, then one read per relationship asked about); assignment_statuses,
    when given, reads the access assignments only of the relationships in those statuses."""
    from ._gdap_lifecycle import invitation_link  # it builds on this module

    graph = Relationships(http, cloud, graph_token)
    relationships = graph.list(customer_tenant_id)
    if customer_tenants is not None:
        wanted = {str(tenant).lower() for tenant in customer_tenants}
        relationships = [r for r in relationships if str((r.get("customer") or {}).get("tenantId", "")).lower() in wanted]
    my_groups = graph.my_groups() if include_access_assignments else []
    my_group_ids = {str(group.get("id")).lower() for group in my_groups}

    read_statuses = None if assignment_statuses is None else set(assignment_statuses)

    def with_assignments(relationship: dict[str, Any]) -> dict[str, Any]:
        wanted = include_access_assignments and (read_statuses is None or relationship.get("status") in read_statuses)
        assignments = graph.access_assignments(relationship["id"]) if wanted else []
        return relationship_view(relationship, assignments, my_group_ids,
                                 invitation_link(cloud, str(relationship.get("id"))))

    return {"relationships": fan_out(http, relationships, with_assignments, concurrency),
            "my_groups": [{"id": g.get("id"), "display_name": g.get("displayName")} for g in my_groups]}
