# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

A GDAP access assignment as desired state: a security group of the partner tenant given roles of
an active relationship (Graph, delegated DelegatedAdminRelationship.ReadWrite.All), created,
changed or deleted with If-Match and the assignment's etag; its identity is the relationship and
the group."""

from __future__ import annotations

import re
from typing import Any

from ._clouds import check_guid
from ._errors import SecureAppError
from ._gdap_lifecycle import RELATIONSHIPS, RelationshipWriter, resolve_roles, role_ids
from ._gdap_roles import role_name
from ._http import StatusHint, StatusHints, checked_response

RELATIONSHIP_ID = re.compile(r"^[0-9A-Za-z-]{1,100}$")  # it goes into the URL path
GONE = frozenset({"deleting", "deleted"})


class Assignments(RelationshipWriter):
    def status_hints(self) -> StatusHints:
        return {**super().status_hints(), 412: StatusHint(
            "the access assignment changed since its etag was read (Graph refused If-Match, {code}): read it again "
            "(or leave etag out to use the current one) and run the task again.", code="etag_conflict")}

    def relationship(self, relationship_id: str) -> dict[str, Any]:
        return self._call("GET", f"{RELATIONSHIPS}/{relationship_id}", f"read GDAP relationship {relationship_id}")

    def add(self, relationship_id: str, group_id: str, roles: list[str]) -> dict[str, Any]:
        return self._call("POST", f"{RELATIONSHIPS}/{relationship_id}/accessAssignments",
                          f"assign group {group_id} in GDAP relationship {relationship_id}", expected=(201,),
                          create_once=True, json={
                              "accessContainer": {"accessContainerId": group_id, "accessContainerType": "securityGroup"},
                              "accessDetails": {"unifiedRoles": [{"roleDefinitionId": r} for r in roles]}})

    def _with_etag(self, method: str, path: str, action: str, etag: str, **kwargs: Any) -> None:
        response = self.http.request(method, self.base + path, headers=dict(self.headers, **{"If-Match": etag}),
                                     **kwargs)
        checked_response(response, action, expected=(200, 202, 204), hints=self.status_hints(),
                         missing_ok=method == "DELETE")

    def change(self, relationship_id: str, assignment_id: str, roles: list[str], etag: str) -> None:
        self._with_etag("PATCH", f"{RELATIONSHIPS}/{relationship_id}/accessAssignments/{assignment_id}",
                        f"update access assignment {assignment_id}", etag,
                        json={"accessDetails": {"unifiedRoles": [{"roleDefinitionId": r} for r in roles]}})

    def remove(self, relationship_id: str, assignment_id: str, etag: str) -> None:
        self._with_etag("DELETE", f"{RELATIONSHIPS}/{relationship_id}/accessAssignments/{assignment_id}",
                        f"delete access assignment {assignment_id}", etag)


def summary(assignment: dict[str, Any] | None) -> dict[str, Any] | None:
    if assignment is None:
        return None
    return {"id": assignment.get("id"), "status": assignment.get("status"),
            "group_id": (assignment.get("accessContainer") or {}).get("accessContainerId"),
            "roles": [role_name(r) for r in role_ids(assignment)], "etag": assignment.get("@odata.etag")}


def run_assignment(context: Any, params: dict[str, Any], *, check_mode: bool) -> dict[str, Any]:
    """The gdap_access_assignment module's work: one group's assignment in one relationship."""
    relationship_id = str(params["relationship_id"]).strip()
    if not RELATIONSHIP_ID.match(relationship_id):
        raise SecureAppError("relationship_id is not a GDAP relationship id: give the GDAP relationship's id (gdap_relationship returns "
                             "it).", code="invalid_relationship_id")
    group_id = check_guid(params["group_id"], "group_id", "the security group's object id").lower()
    present = params["state"] == "present"
    graph = Assignments(context.http, context.cloud, context.token("graph", "manage GDAP access assignments"))
    relationship = graph.relationship(relationship_id)
    held = role_ids(relationship)
    if present and relationship.get("status") != "active":
        raise SecureAppError(f"The relationship {relationship.get('displayName')!r} is {relationship.get('status')}: "
                             "access assignments need an active relationship (the customer approves it, then Graph "
                             "activates it); run again once it is active.", code="relationship_not_active")
    wanted = resolve_roles(params["roles"]) if params["roles"] else held
    outside = [role_name(r) for r in wanted if r not in held]
    if present and outside:
        raise SecureAppError(f"The relationship {relationship.get('displayName')!r} does not hold {', '.join(outside)}: "
                             "an assignment gives only roles of its relationship; drop them from roles.",
                             code="role_not_in_relationship")
    existing = next((a for a in graph.access_assignments(relationship_id)
                     if str((a.get("accessContainer") or {}).get("accessContainerId", "")).lower() == group_id
                     and a.get("status") not in GONE), None)
    before = summary(existing)
    action, after = "none", before
    if present and existing is None:
        action = "create"
        after = {"id": None, "status": "pending", "group_id": group_id, "roles": [role_name(r) for r in wanted],
                 "etag": None}
    elif present and role_ids(existing) != wanted:
        action, after = "update", dict(before, roles=[role_name(r) for r in wanted])
    elif not present and existing is not None:
        action, after = "delete", None
    if action != "none" and not check_mode:
        if action == "create":
            after = summary(graph.add(relationship_id, group_id, wanted))
        else:
            etag = params["etag"] or existing.get("@odata.etag") or ""
            if action == "update":
                graph.change(relationship_id, existing["id"], wanted, etag)
                after = dict(before, roles=[role_name(r) for r in wanted], etag=None)
            else:
                graph.remove(relationship_id, existing["id"], etag)
    return {"changed": action != "none", "action": action, "assignment": after,
            "diff": {"before": before or {}, "after": after or {}}}
