# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

GDAP relationships as desired state (Microsoft Graph, partner tenant, delegated
DelegatedAdminRelationship.ReadWrite.All): the rules Graph enforces, checked before any request;
one customer's relationship created and locked for approval (with the invitation link its
Global Administrator opens) or terminated; identity is the customer and the display name."""

from __future__ import annotations

from typing import Any

from ._clouds import Cloud, check_tenant
from ._errors import SecureAppError
from ._fanout import customer_entry, fan_out, raise_for_failed_customers
from ._gdap_relationships import Relationships
from ._gdap_roles import GLOBAL_ADMINISTRATOR, ROLE_NAMES, role_name
from ._gdap_status import ENDED
from ._http import StatusHint, StatusHints

RELATIONSHIPS = "/tenantRelationships/delegatedAdminRelationships"
# Graph's rules for a relationship (its reference for create and update).
MAX_NAME_LENGTH = 50
MIN_DAYS, MAX_DAYS = 1, 730  # P1D to P2Y
AUTO_EXTEND_DURATIONS = ("PT0S", "P180D")
# Where a customer approves: Microsoft 365 admin center; a custom cloud (the sandbox) serves the
# page on its login host.
ADMIN_CENTER = "https://admin.microsoft.com"
INVITATION_PATH = "/AdminPortal/Home#/partners/invitation/granularAdminRelationships/"


def invitation_link(cloud: Cloud, relationship_id: str) -> str:
    origin = ADMIN_CENTER if cloud.instance_discovery else cloud.login
    return f"{origin}{INVITATION_PATH}{relationship_id}"


def resolve_roles(values: list[Any] | None) -> list[str]:
    """Role template ids from names (as Entra lists them, any case) or ids, checked against the
    catalogue; sorted, without repeats."""
    by_name = {name.lower(): role_id for role_id, name in ROLE_NAMES.items()}
    resolved = set()
    for value in values or []:
        text = str(value).strip().lower()
        role_id = text if text in ROLE_NAMES else by_name.get(text)
        if role_id is None:
            shown = str(value) if str(value).isprintable() and len(str(value)) <= 80 else "the value given"
            raise SecureAppError(f"roles entry {shown!r} is not a built-in Entra role the collection knows: give its "
                                 "name as Entra lists it (such as Cloud Application Administrator) or its role "
                                 "template id.", code="unknown_role")
        resolved.add(role_id)
    if not resolved:
        raise SecureAppError("roles is empty: name at least one role (a least-privilege set such as Cloud "
                             "Application Administrator and Directory Readers).", code="no_roles")
    return sorted(resolved)


def check_settings(roles: list[str], duration_days: int, auto_extend_duration: str) -> None:
    """Refuse, with one sentence, what Graph would refuse for every customer."""
    if not MIN_DAYS <= duration_days <= MAX_DAYS:
        raise SecureAppError(f"duration_days {duration_days} is outside what Graph allows: give 1 to 730 days "
                             "(P1D to P2Y).", code="invalid_duration")
    if auto_extend_duration not in AUTO_EXTEND_DURATIONS:
        raise SecureAppError(f"auto_extend_duration {auto_extend_duration!r} is not one Graph accepts: use P180D "
                             "(extend by six months at each end) or PT0S (no extension).", code="invalid_auto_extend")
    if GLOBAL_ADMINISTRATOR in roles and auto_extend_duration != "PT0S":
        raise SecureAppError("A relationship with Global Administrator cannot auto-extend: drop Global Administrator "
                             "(least privilege) or set auto_extend_duration to PT0S.", code="global_admin_auto_extend")


def check_name(name: str) -> None:
    if not name.strip():
        raise SecureAppError("The relationship's display name is empty: give display_name.",
                             code="invalid_display_name")
    if len(name) > MAX_NAME_LENGTH:
        raise SecureAppError(f"The display name {name!r} has {len(name)} characters; Graph allows at most "
                             f"{MAX_NAME_LENGTH}: give a shorter display_name.", code="invalid_display_name")


def role_ids(relationship: dict[str, Any]) -> list[str]:
    return sorted({str(role.get("roleDefinitionId", "")).lower()
                   for role in (relationship.get("accessDetails") or {}).get("unifiedRoles") or []})


def summary(relationship: dict[str, Any] | None) -> dict[str, Any] | None:
    """A relationship as results and diffs show it."""
    if relationship is None:
        return None
    return {"id": relationship.get("id"), "display_name": relationship.get("displayName"),
            "status": relationship.get("status"), "roles": [role_name(r) for r in role_ids(relationship)],
            "duration": relationship.get("duration"),
            "auto_extend_duration": relationship.get("autoExtendDuration") or "PT0S"}


class RelationshipWriter(Relationships):
    """The partner's relationships, written with DelegatedAdminRelationship.ReadWrite.All."""

    def status_hints(self) -> StatusHints:
        return {**super().status_hints(), 403: StatusHint(
            "permission denied by Microsoft Graph ({code}): GDAP writes need the delegated permission "
            "DelegatedAdminRelationship.ReadWrite.All consented in the partner tenant (run the onboard playbook "
            "again with onboard_renew_consent=true) and a signed-in admin agent.")}

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", RELATIONSHIPS, f"create GDAP relationship {body['displayName']!r}",
                          expected=(201,), create_once=True, json=body)

    def ask(self, relationship_id: str, action: str) -> None:
        """A request on the relationship: lockForApproval or terminate."""
        self._call("POST", f"{RELATIONSHIPS}/{relationship_id}/requests",
                   f"{action} GDAP relationship {relationship_id}", expected=(201,), json={"action": action})


def desired_view(name: str, roles: list[str], params: dict[str, Any]) -> dict[str, Any]:
    return {"id": None, "display_name": name, "status": "approvalPending", "roles": [role_name(r) for r in roles],
            "duration": f"P{params['duration_days']}D", "auto_extend_duration": params["auto_extend_duration"]}


def apply_one(writer: RelationshipWriter, entry: dict[str, Any], mine: list[dict[str, Any]], roles: list[str],
              params: dict[str, Any], check_mode: bool) -> None:
    """Bring one customer's relationship (mine: those with its name) to the desired state."""
    live = [r for r in mine if r.get("status") not in ENDED]
    current = live[-1] if live else None
    entry.update(relationship=summary(current), before=summary(current), status=(current or {}).get("status"))
    if params["state"] == "terminated":
        if current is None:
            return
        if current.get("status") != "active":
            raise SecureAppError(f"The relationship {current.get('displayName')!r} is {current.get('status')}: Graph "
                                 "terminates only an active relationship; run again once the customer approved it.",
                                 code="not_terminable")
        entry.update(changed=True, action="terminate", after=dict(summary(current), status="terminationRequested"))
        if not check_mode:
            writer.ask(current["id"], "terminate")
            entry.update(status="terminationRequested", relationship=entry["after"])
        return
    if current is not None:
        if current.get("status") == "created":  # an earlier run stopped between create and lock
            entry.update(changed=True, action="lock", after=dict(summary(current), status="approvalPending"))
            if not check_mode:
                writer.ask(current["id"], "lockForApproval")
                entry.update(status="approvalPending", relationship=entry["after"])
        if entry["status"] == "approvalPending":
            entry["invitation_link"] = invitation_link(writer.cloud, current["id"])
        if role_ids(current) != roles:
            entry["message"] = (f"The relationship {current.get('displayName')!r} holds other roles "
                                f"({', '.join(summary(current)['roles'])}) than desired; Graph does not change the "
                                "roles of a locked relationship: terminate it and request a new one under another "
                                "display_name.")
        return
    entry.update(changed=True, action="create", after=desired_view(entry["display_name"], roles, params),
                 status="approvalPending")
    if check_mode:
        return
    created = writer.create({
        "displayName": entry["display_name"], "duration": f"P{params['duration_days']}D",
        "customer": {"tenantId": entry["tenant_id"]},
        "accessDetails": {"unifiedRoles": [{"roleDefinitionId": role} for role in roles]},
        "autoExtendDuration": params["auto_extend_duration"]})
    writer.ask(created["id"], "lockForApproval")
    made = summary(dict(created, status="approvalPending"))
    entry.update(relationship=made, after=made, invitation_link=invitation_link(writer.cloud, created["id"]))


def run_relationships(context: Any, params: dict[str, Any], *, check_mode: bool) -> dict[str, Any]:
    """The gdap_relationship module's work: every customer's relationship, concurrently."""
    present = params["state"] == "present"
    roles = resolve_roles(params["roles"]) if present else []
    if present:
        check_settings(roles, params["duration_days"], params["auto_extend_duration"])
    tenants = list(dict.fromkeys(check_tenant(t, "customer_tenants entry").lower() for t in params["customer_tenants"]))
    names = {tenant: params["display_name"].replace("{tenant_id}", tenant) for tenant in tenants}
    for name in names.values():
        check_name(name)
    if len({name.lower() for name in names.values()}) < len(names):
        raise SecureAppError("Several customers would get the same relationship name, and Graph wants each name "
                             "unique: put {tenant_id} in display_name.", code="display_name_in_use")
    writer = RelationshipWriter(context.http, context.cloud, context.token("graph", "manage GDAP relationships"))
    holders: dict[str, str] = {}
    by_name: dict[str, list[dict[str, Any]]] = {}
    for relationship in sorted(writer.list(), key=lambda r: str(r.get("createdDateTime") or "")):
        name = str(relationship.get("displayName") or "").lower()
        holders[name] = str((relationship.get("customer") or {}).get("tenantId") or "").lower()
        by_name.setdefault(name, []).append(relationship)

    def one(tenant: str) -> dict[str, Any]:
        name = names[tenant]

        def fill(entry: dict[str, Any]) -> None:
            holder = holders.get(name.lower())
            if holder is not None and holder != tenant:
                raise SecureAppError(f"The display name {name!r} is already used by the partner's relationship with "
                                     f"customer {holder}; Graph wants each name unique: give another display_name.",
                                     code="display_name_in_use")
            apply_one(writer, entry, by_name.get(name.lower(), []), roles, params, check_mode)

        return customer_entry(tenant, fill, display_name=name, changed=False, action="none", status=None,
                              relationship=None, invitation_link=None, message=None, before=None, after=None)

    entries = fan_out(context.http, tenants, one, max(1, params["concurrency"]))
    changed = [e for e in entries if e["changed"]]
    result = {
        "changed": bool(changed), "customers": entries,
        "awaiting_approval": [{"tenant_id": e["tenant_id"], "display_name": e["display_name"],
                               "invitation_link": e["invitation_link"]} for e in entries if e["invitation_link"]],
        "diff": {"before": {e["tenant_id"]: e["before"] for e in changed},
                 "after": {e["tenant_id"]: e["after"] for e in changed}},
    }
    if params["fail_on_customer_error"]:
        raise_for_failed_customers(entries, "customers gave an error", details=result)
    return result
