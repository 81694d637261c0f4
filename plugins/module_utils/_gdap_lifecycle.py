# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

GDAP relationships as desired state (Microsoft Graph, partner tenant, delegated
DelegatedAdminRelationship.ReadWrite.All): the rules Graph enforces, checked before any request;
one customer's relationship created and locked for approval (with the invitation link its
Global Administrator opens), its auto-extension changed, renewed or replaced by a successor, or
terminated; identity is the customer and the display name, a successor's is its roles."""

from __future__ import annotations

import datetime
from typing import Any

from ._clouds import Cloud, check_tenant
from ._errors import SecureAppError
from ._fanout import customer_entry, fan_out, raise_for_failed_customers
from ._gdap_relationships import Relationships
from ._gdap_roles import GLOBAL_ADMINISTRATOR, ROLE_NAMES, role_name
from ._gdap_status import ENDED
from ._http import StatusHint, StatusHints, checked_response
from ._times import parse_time

RELATIONSHIPS = "/tenantRelationships/delegatedAdminRelationships"
# Graph's rules for a relationship (its reference for create and update).
MAX_NAME_LENGTH = 50
MIN_DAYS, MAX_DAYS = 1, 730  # P1D to P2Y
AUTO_EXTEND_DURATIONS = ("PT0S", "P0D", "P180D")  # P0D and PT0S both mean no extension
NO_EXTENSION = frozenset({"PT0S", "P0D"})
# Where a customer approves: Microsoft 365 admin center; a custom cloud (the sandbox) serves the
# page on its login host.
ADMIN_CENTER = "https://admin.microsoft.com"
# A successor's name: Graph keeps the names of ended relationships, so the date keeps it unique (49
# characters with a tenant id).
DEFAULT_SUCCESSOR_NAME = "SAM {date} {tenant_id}"
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
    if GLOBAL_ADMINISTRATOR in roles and auto_extend_duration not in NO_EXTENSION:
        raise SecureAppError("A relationship with Global Administrator cannot auto-extend: drop Global Administrator "
                             "(least privilege) or set auto_extend_duration to PT0S.", code="global_admin_auto_extend")


def check_name(name: str, option: str = "display_name") -> None:
    if not name.strip():
        raise SecureAppError(f"The relationship's name is empty: give {option}.", code="invalid_display_name")
    if len(name) > MAX_NAME_LENGTH:
        raise SecureAppError(f"The display name {name!r} has {len(name)} characters; Graph allows at most "
                             f"{MAX_NAME_LENGTH}: give a shorter {option}.", code="invalid_display_name")


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
            "auto_extend_duration": extension(relationship)}


def extension(relationship: dict[str, Any]) -> str:
    """The relationship's autoExtendDuration, PT0S for no extension however Graph spells it."""
    value = str(relationship.get("autoExtendDuration") or "PT0S")
    return "PT0S" if value in NO_EXTENSION else value


def ends_within(relationship: dict[str, Any], days: int, now: datetime.datetime) -> bool:
    """An active relationship that will end (it does not auto-extend) within days of now."""
    end = parse_time(relationship.get("endDateTime"))
    return (relationship.get("status") == "active" and extension(relationship) in NO_EXTENSION
            and end is not None and end - now <= datetime.timedelta(days=days))


class RelationshipWriter(Relationships):
    """The partner's relationships, written with DelegatedAdminRelationship.ReadWrite.All."""

    def status_hints(self) -> StatusHints:
        return {**super().status_hints(), 403: StatusHint(
            "permission denied by Microsoft Graph ({code}): GDAP writes need the delegated permission "
            "DelegatedAdminRelationship.ReadWrite.All consented in the partner tenant (run the onboard playbook "
            "again with onboard_renew_consent=true) and a signed-in admin agent."), 412: StatusHint(
            "the object changed since its etag was read (Graph refused If-Match, {code}): read it again "
            "(or leave etag out to use the current one) and run the task again.", code="etag_conflict")}

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", RELATIONSHIPS, f"create GDAP relationship {body['displayName']!r}",
                          expected=(201,), create_once=True, json=body)

    def _with_etag(self, method: str, path: str, action: str, etag: str, **kwargs: Any) -> None:
        """A change sent with If-Match: Graph refuses it (412) when the object changed since etag was read."""
        response = self.http.request(method, self.base + path, headers=dict(self.headers, **{"If-Match": etag}),
                                     **kwargs)
        checked_response(response, action, expected=(200, 202, 204), hints=self.status_hints(),
                         missing_ok=method == "DELETE")

    def update(self, relationship_id: str, etag: str, body: dict[str, Any]) -> None:
        self._with_etag("PATCH", f"{RELATIONSHIPS}/{relationship_id}", f"update GDAP relationship {relationship_id}",
                        etag, json=body)

    def ask(self, relationship_id: str, action: str) -> None:
        """A request on the relationship: lockForApproval or terminate."""
        self._call("POST", f"{RELATIONSHIPS}/{relationship_id}/requests",
                   f"{action} GDAP relationship {relationship_id}", expected=(201,), json={"action": action})


def desired_view(name: str, roles: list[str], params: dict[str, Any]) -> dict[str, Any]:
    return {"id": None, "display_name": name, "status": "approvalPending", "roles": [role_name(r) for r in roles],
            "duration": f"P{params['duration_days']}D", "auto_extend_duration": extension(
                {"autoExtendDuration": params["auto_extend_duration"]})}


def request(writer: RelationshipWriter, entry: dict[str, Any], name: str, roles: list[str], params: dict[str, Any],
            check_mode: bool) -> dict[str, Any]:
    """Create a relationship and lock it for approval: its summary (as it will be, in check mode)."""
    if check_mode:
        return desired_view(name, roles, params)
    created = writer.create({
        "displayName": name, "duration": f"P{params['duration_days']}D",
        "customer": {"tenantId": entry["tenant_id"]},
        "accessDetails": {"unifiedRoles": [{"roleDefinitionId": role} for role in roles]},
        "autoExtendDuration": params["auto_extend_duration"]})
    writer.ask(created["id"], "lockForApproval")
    entry["invitation_link"] = invitation_link(writer.cloud, created["id"])
    return summary(dict(created, status="approvalPending"))


def extend(writer: RelationshipWriter, entry: dict[str, Any], current: dict[str, Any], wanted: str,
           check_mode: bool) -> dict[str, Any]:
    """Bring the auto-extension of the customer's relationship to wanted where Graph allows it (only
    while active, never with Global Administrator); the relationship as it is afterwards."""
    if extension(current) == wanted:
        return current
    if current.get("status") != "active":
        entry["message"] = (f"The relationship {current.get('displayName')!r} is {current.get('status')}; Graph changes "
                            "its auto_extend_duration only while it is active: run again once the customer approved "
                            "it.")
        return current
    if GLOBAL_ADMINISTRATOR in role_ids(current) and wanted not in NO_EXTENSION:
        entry["message"] = (f"The relationship {current.get('displayName')!r} holds Global Administrator, which Graph "
                            "does not auto-extend: request a successor without it (on_role_change=successor).")
        return current
    changed = dict(current, autoExtendDuration=wanted)
    entry.update(changed=True, action="update", after=summary(changed), relationship=summary(changed))
    if not check_mode:
        writer.update(current["id"], str(current.get("@odata.etag") or ""), {"autoExtendDuration": wanted})
    return changed


def renewal_reason(current: dict[str, Any] | None, latest: dict[str, Any], roles: list[str], params: dict[str, Any],
                   now: datetime.datetime) -> str | None:
    """Why the customer needs a successor to the relationship of this name, or None."""
    renew_days = params.get("renew_within_days")
    if current is None:
        if renew_days is None:
            raise SecureAppError(f"The relationship {latest.get('displayName')!r} is {latest.get('status')} and Graph "
                                 "keeps the names of ended relationships: set renew_within_days to request a successor "
                                 "(named successor_name).", code="relationship_ended")
        return f"The relationship {latest.get('displayName')!r} is {latest.get('status')}"
    if renew_days is not None and ends_within(current, renew_days, now):
        return f"The relationship {current.get('displayName')!r} ends on {str(current.get('endDateTime'))[:10]}"
    if role_ids(current) != roles and params.get("on_role_change") == "successor":
        return (f"The relationship {current.get('displayName')!r} holds other roles "
                f"({', '.join(summary(current)['roles'])})")
    return None


def apply_one(writer: RelationshipWriter, entry: dict[str, Any], mine: list[dict[str, Any]],
              others: list[dict[str, Any]], roles: list[str], params: dict[str, Any], check_mode: bool,
              now: datetime.datetime, names_taken: set[str] = frozenset()) -> None:
    """Bring one customer's relationship to the desired state. mine: its relationships of this
    name, oldest first; others: its other relationships (where a successor is looked for);
    names_taken: every relationship name of the partner, lower case."""
    live = [r for r in mine if r.get("status") not in ENDED]
    current = live[-1] if live else None
    latest = current or (mine[-1] if mine else None)
    entry.update(relationship=summary(latest), before=summary(current), status=(latest or {}).get("status"))
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
    if latest is None:
        made = request(writer, entry, entry["display_name"], roles, params, check_mode)
        entry.update(changed=True, action="create", after=made, relationship=made, status="approvalPending")
        return
    if current is not None:
        if current.get("status") == "created":  # an earlier run stopped between create and lock
            entry.update(changed=True, action="lock", after=dict(summary(current), status="approvalPending"))
            if not check_mode:
                writer.ask(current["id"], "lockForApproval")
                entry.update(status="approvalPending", relationship=entry["after"])
            current = dict(current, status="approvalPending")
        if current.get("status") == "approvalPending":
            entry["invitation_link"] = invitation_link(writer.cloud, current["id"])
        if role_ids(current) == roles:
            current = extend(writer, entry, current, extension({"autoExtendDuration": params["auto_extend_duration"]}),
                             check_mode)
    reason = renewal_reason(current, latest, roles, params, now)
    if reason is None:
        if current is not None and role_ids(current) != roles:
            entry["message"] = (f"The relationship {current.get('displayName')!r} holds other roles "
                                f"({', '.join(summary(current)['roles'])}) than desired; Graph does not change the "
                                "roles of a locked relationship: set on_role_change=successor to request one with the "
                                "desired roles, then terminate this one.")
        return
    successor = next((r for r in reversed(others) if r.get("status") not in ENDED and role_ids(r) == roles
                      and not ends_within(r, params.get("renew_within_days") or 0, now)), None)
    if successor is not None:
        if successor.get("status") == "created":  # an earlier run stopped between create and lock
            entry.update(changed=True, action="lock", after=dict(summary(successor), status="approvalPending"))
            if not check_mode:
                writer.ask(successor["id"], "lockForApproval")
            successor = dict(successor, status="approvalPending")
        entry.update(successor=summary(successor), message=f"{reason}; its successor is {successor.get('displayName')!r} "
                                                           f"({successor.get('status')}).")
        if successor.get("status") == "approvalPending":
            entry["invitation_link"] = invitation_link(writer.cloud, successor["id"])
        return
    if entry["successor_name"].lower() in names_taken:
        raise SecureAppError(f"{reason} and needs a successor, but its name {entry['successor_name']!r} is taken by "
                             "another relationship (Graph wants each name unique): give another successor_name.",
                             code="display_name_in_use")
    made = request(writer, entry, entry["successor_name"], roles, params, check_mode)
    entry.update(changed=True, action="renew" if current is None or role_ids(current) == roles else "replace",
                 successor=made, after=made, message=f"{reason}: requested its successor {entry['successor_name']!r}.")


def run_relationships(context: Any, params: dict[str, Any], *, check_mode: bool) -> dict[str, Any]:
    """The gdap_relationship module's work: every customer's relationship, concurrently."""
    present = params["state"] == "present"
    roles = resolve_roles(params["roles"]) if present else []
    if present:
        check_settings(roles, params["duration_days"], params["auto_extend_duration"])
    if (params.get("renew_within_days") or 0) < 0:
        raise SecureAppError("renew_within_days is negative: give 0 (renew what ended) or more days.",
                             code="invalid_renew_within_days")
    tenants = list(dict.fromkeys(check_tenant(t, "customer_tenants entry").lower() for t in params["customer_tenants"]))
    now = datetime.datetime.now(datetime.timezone.utc)
    names = {tenant: params["display_name"].replace("{tenant_id}", tenant) for tenant in tenants}
    successor_names = {tenant: str(params.get("successor_name") or DEFAULT_SUCCESSOR_NAME).replace(
        "{tenant_id}", tenant).replace("{date}", now.strftime("%Y%m%d")) for tenant in tenants}
    may_succeed = present and (params.get("renew_within_days") is not None or params.get("on_role_change") == "successor")
    for tenant in tenants:
        check_name(names[tenant])
        if may_succeed:
            check_name(successor_names[tenant], "successor_name")
        if may_succeed and names[tenant].lower() == successor_names[tenant].lower():
            raise SecureAppError("successor_name gives the same name as display_name, and Graph wants each name unique: "
                                 "put {date} in successor_name.", code="display_name_in_use")
    if len({name.lower() for name in names.values()}) < len(names):
        raise SecureAppError("Several customers would get the same relationship name, and Graph wants each name "
                             "unique: put {tenant_id} in display_name.", code="display_name_in_use")
    writer = RelationshipWriter(context.http, context.cloud, context.token("graph", "manage GDAP relationships"))
    holders: dict[str, str] = {}
    of_customer: dict[str, list[dict[str, Any]]] = {}
    for relationship in sorted(writer.list(), key=lambda r: str(r.get("createdDateTime") or "")):
        customer = str((relationship.get("customer") or {}).get("tenantId") or "").lower()
        holders[str(relationship.get("displayName") or "").lower()] = customer
        of_customer.setdefault(customer, []).append(relationship)

    def one(tenant: str) -> dict[str, Any]:
        name = names[tenant]

        def fill(entry: dict[str, Any]) -> None:
            for wanted, option in ((name, "display_name"), (successor_names[tenant], "successor_name"))[:1 + may_succeed]:
                holder = holders.get(wanted.lower())
                if holder is not None and holder != tenant:
                    raise SecureAppError(f"The display name {wanted!r} is already used by the partner's relationship "
                                         f"with customer {holder}; Graph wants each name unique: give another {option}.",
                                         code="display_name_in_use")
            theirs = of_customer.get(tenant, [])
            mine = [r for r in theirs if str(r.get("displayName") or "").lower() == name.lower()]
            apply_one(writer, entry, mine, [r for r in theirs if r not in mine], roles, params, check_mode, now,
                      set(holders))

        return customer_entry(tenant, fill, display_name=name, successor_name=successor_names[tenant], changed=False,
                              action="none", status=None, relationship=None, successor=None, invitation_link=None,
                              message=None, before=None, after=None)

    entries = fan_out(context.http, tenants, one, max(1, params["concurrency"]))
    changed = [e for e in entries if e["changed"]]
    result = {
        "changed": bool(changed), "customers": entries,
        "awaiting_approval": [{"tenant_id": e["tenant_id"],
                               "display_name": (e["successor"] or e["relationship"] or {}).get("display_name"),
                               "invitation_link": e["invitation_link"]} for e in entries if e["invitation_link"]],
        "diff": {"before": {e["tenant_id"]: e["before"] for e in changed},
                 "after": {e["tenant_id"]: e["after"] for e in changed}},
    }
    if params["fail_on_customer_error"]:
        raise_for_failed_customers(entries, "customers gave an error", details=result)
    return result
