# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

A GDAP access assignment as desired state: a security group of the partner tenant given roles of
an active relationship (Graph, delegated DelegatedAdminRelationship.ReadWrite.All), created,
changed or deleted with If-Match and the assignment's etag; its identity is the relationship and
the group. Many at once (concurrently, a result each), optionally waiting, bounded, until Graph
has applied them."""

from __future__ import annotations

import re
import time
from typing import Any

from ._clouds import check_guid
from ._errors import SecureAppError
from ._fanout import customer_error, fan_out
from ._gdap_lifecycle import RELATIONSHIPS, RelationshipWriter, resolve_roles, role_ids
from ._gdap_roles import role_name
from ._gdap_status import ASSIGNMENT_ACTIVE, ASSIGNMENT_PENDING
from ._http import StatusHint, StatusHints

RELATIONSHIP_ID = re.compile(r"^[0-9A-Za-z-]{1,100}$")  # it goes into the URL path
GONE = frozenset({"deleting", "deleted"})
# Seconds between two looks at assignments Graph is applying: soon at first, then every 2 s.
WAIT_INTERVALS = (0.25, 0.5, 1.0, 2.0)


class Assignments(RelationshipWriter):
    def status_hints(self) -> StatusHints:
        return {**super().status_hints(), 412: StatusHint(
            "the access assignment changed since its etag was read (Graph refused If-Match, {code}): read it again "
            "(or leave etag out to use the current one) and run the task again.", code="etag_conflict")}

    def assignment(self, relationship_id: str, assignment_id: str) -> dict[str, Any] | None:
        return self._call("GET", f"{RELATIONSHIPS}/{relationship_id}/accessAssignments/{assignment_id}",
                          f"read access assignment {assignment_id}", missing_ok=True)

    def relationship(self, relationship_id: str) -> dict[str, Any]:
        return self._call("GET", f"{RELATIONSHIPS}/{relationship_id}", f"read GDAP relationship {relationship_id}")

    def add(self, relationship_id: str, group_id: str, roles: list[str]) -> dict[str, Any]:
        return self._call("POST", f"{RELATIONSHIPS}/{relationship_id}/accessAssignments",
                          f"assign group {group_id} in GDAP relationship {relationship_id}", expected=(201,),
                          create_once=True, json={
                              "accessContainer": {"accessContainerId": group_id, "accessContainerType": "securityGroup"},
                              "accessDetails": {"unifiedRoles": [{"roleDefinitionId": r} for r in roles]}})

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


def apply_one(graph: Assignments, entry: dict[str, Any], wanted: dict[str, Any], check_mode: bool) -> None:
    """One group's assignment in one relationship to its desired state (entry: its result)."""
    relationship_id = str(wanted.get("relationship_id") or "").strip()
    if not RELATIONSHIP_ID.match(relationship_id):
        raise SecureAppError("relationship_id is not a GDAP relationship id: give the GDAP relationship's id "
                             "(gdap_relationship returns it).", code="invalid_relationship_id")
    group_id = check_guid(wanted.get("group_id"), "group_id", "the security group's object id").lower()
    entry.update(relationship_id=relationship_id, group_id=group_id)
    present = (wanted.get("state") or "present") == "present"
    relationship = graph.relationship(relationship_id)
    entry["tenant_id"] = (relationship.get("customer") or {}).get("tenantId")
    held = role_ids(relationship)
    if present and relationship.get("status") != "active":
        raise SecureAppError(f"The relationship {relationship.get('displayName')!r} is {relationship.get('status')}: "
                             "access assignments need an active relationship (the customer approves it, then Graph "
                             "activates it); run again once it is active.", code="relationship_not_active")
    roles = resolve_roles(wanted["roles"]) if wanted.get("roles") else held
    outside = [role_name(r) for r in roles if r not in held]
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
        after = {"id": None, "status": ASSIGNMENT_PENDING, "group_id": group_id,
                 "roles": [role_name(r) for r in roles], "etag": None}
    elif present and role_ids(existing) != roles:
        action, after = "update", dict(before, roles=[role_name(r) for r in roles])
    elif not present and existing is not None:
        action, after = "delete", None
    entry.update(changed=action != "none", action=action, assignment=after, before=before)
    if action == "none" or check_mode:
        return
    if action == "create":
        entry["assignment"] = summary(graph.add(relationship_id, group_id, roles))
        return
    etag = wanted.get("etag") or existing.get("@odata.etag") or ""
    if action == "update":
        graph.change(relationship_id, existing["id"], roles, etag)
        entry["assignment"] = dict(before, roles=[role_name(r) for r in roles], status=ASSIGNMENT_PENDING, etag=None)
    else:
        graph.remove(relationship_id, existing["id"], etag)


def wait_until_applied(graph: Assignments, entries: list[dict[str, Any]], timeout: float, concurrency: int) -> None:
    """Poll the assignments this task wrote until Graph reports them active (or gone, once
    deleted), at most timeout seconds; one still pending then is its entry's error."""
    deadline = time.monotonic() + timeout
    waiting = [e for e in entries if e["changed"] and not e["error"]]
    looks = 0
    while waiting:
        def look(entry: dict[str, Any]) -> bool:
            """Whether the entry's assignment is still on its way."""
            if entry["action"] == "delete":
                found = next((a for a in graph.access_assignments(entry["relationship_id"])
                              if a.get("id") == (entry["before"] or {}).get("id")), None)
                return found is not None and found.get("status") != "deleted"
            assignment_id = entry["assignment"]["id"]
            found = graph.assignment(entry["relationship_id"], assignment_id)
            entry["assignment"] = summary(found)
            status = (found or {}).get("status")
            if status not in (ASSIGNMENT_ACTIVE, ASSIGNMENT_PENDING):  # the id it was written with, even if missing
                raise SecureAppError(f"Graph reports the access assignment {assignment_id} as {status or 'missing'}: "
                                     "look at it in Partner Center, then run again.", code="assignment_failed")
            return status == ASSIGNMENT_PENDING

        def checked(entry: dict[str, Any]) -> bool:
            try:
                return look(entry)
            except SecureAppError as error:
                entry.update(customer_error(error))
                return False

        waiting = [e for e, pending in zip(waiting, fan_out(graph.http, waiting, checked, concurrency)) if pending]
        if waiting and time.monotonic() >= deadline:
            for entry in waiting:
                entry.update(customer_error(SecureAppError(
                    f"The access assignment in relationship {entry['relationship_id']} is still being applied after "
                    f"{timeout:g} seconds (wait_timeout): Graph takes a while; run again later, or wait longer.",
                    code="assignment_timeout")))
            return
        if waiting:
            time.sleep(min(WAIT_INTERVALS[min(looks, len(WAIT_INTERVALS) - 1)], max(0.0, deadline - time.monotonic())))
            looks += 1


def run_assignments(context: Any, params: dict[str, Any], *, check_mode: bool) -> dict[str, Any]:
    """The gdap_access_assignment module's work: the assignments given (or the one of
    relationship_id and group_id), concurrently, each with its own result."""
    single = params.get("assignments") is None
    wanted = ([{key: params.get(key) for key in ("relationship_id", "group_id", "roles", "etag", "state")}] if single
              else [dict(item, state=item.get("state") or params["state"]) for item in params["assignments"]])
    graph = Assignments(context.http, context.cloud, context.token("graph", "manage GDAP access assignments"))

    def one(item: dict[str, Any]) -> dict[str, Any]:
        entry = {"relationship_id": item.get("relationship_id"), "group_id": item.get("group_id"), "tenant_id": None,
                 "changed": False, "action": "none", "assignment": None, "before": None, "error": None,
                 "error_code": None}
        try:
            apply_one(graph, entry, item, check_mode)
        except SecureAppError as error:
            if single:
                raise
            entry.update(customer_error(error))
        return entry

    entries = fan_out(context.http, wanted, one, max(1, params["concurrency"]))
    if params["wait"] and not check_mode:
        wait_until_applied(graph, entries, float(params["wait_timeout"]), max(1, params["concurrency"]))
    changed = [e for e in entries if e["changed"]]
    failed = [e for e in entries if e["error"]]
    result: dict[str, Any] = {"changed": bool(changed), "assignments": [
        {key: value for key, value in e.items() if key != "before"} for e in entries]}
    if single:
        entry = entries[0]
        result.update(action=entry["action"], assignment=entry["assignment"],
                      diff={"before": entry["before"] or {}, "after": entry["assignment"] or {}})
        if failed:
            raise SecureAppError(entry["error"], code=entry["error_code"], details=result)
    else:
        result["diff"] = {"before": {f"{e['relationship_id']}/{e['group_id']}": e["before"] for e in changed},
                          "after": {f"{e['relationship_id']}/{e['group_id']}": e["assignment"] for e in changed}}
        if failed and params["fail_on_customer_error"]:
            first = failed[0]
            raise SecureAppError(f"{len(failed)} of {len(entries)} access assignments gave an error; first, "
                                 f"relationship {first['relationship_id']}: {first['error']}", code=first["error_code"],
                                 details=result)
    return result
