"""GDAP: the partner's granular delegated admin relationships with its customers, their access
assignments to the partner's security groups, and what they let the partner's agents do in a
customer tenant (token issue, Graph, Partner Center application consents).

A relationship's status follows the sandbox clock: an active one whose end has passed reads
'expired' (or is extended by its autoExtendDuration, as Partner Center does)."""
from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from . import catalog
from .context import Sandbox, graph_error, json_response, utc_iso

DAY = 86400
# Role template ids (the same in every tenant) and their names.
GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"
PRIVILEGED_ROLE_ADMINISTRATOR = "e8611ab8-c189-46e8-94e1-60213ab1f814"
CLOUD_APPLICATION_ADMINISTRATOR = "158c047a-c907-4556-b7ef-446551a6b5f7"
DIRECTORY_READERS = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
HELPDESK_ADMINISTRATOR = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
USER_ADMINISTRATOR = "fe930be7-5e62-47db-91af-98c3a49a38b1"
ROLE_NAMES = {
    GLOBAL_ADMINISTRATOR: "Global Administrator",
    PRIVILEGED_ROLE_ADMINISTRATOR: "Privileged Role Administrator",
    CLOUD_APPLICATION_ADMINISTRATOR: "Cloud Application Administrator",
    DIRECTORY_READERS: "Directory Readers",
    HELPDESK_ADMINISTRATOR: "Helpdesk Administrator",
    USER_ADMINISTRATOR: "User Administrator",
}
# The roles with which an agent may grant an application consent in the customer tenant.
CONSENT_ROLES = {GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR, CLOUD_APPLICATION_ADMINISTRATOR}
READ_PERMISSIONS = {"DelegatedAdminRelationship.Read.All", "DelegatedAdminRelationship.ReadWrite.All"}
MAX_TOP = 300  # the documented upper bound of $top for these collections

# The seeded kinds of customer (cycled by --customers N): the groups they assign, the roles, the
# relationship's end relative to seeding, and whether the partner's SAM app is consented there.
KINDS: dict[str, dict[str, Any]] = {
    "dap": {"relationship": "DAP"},
    "gdap_ready": {"relationship": "GDAP", "group": "consent", "roles": [CLOUD_APPLICATION_ADMINISTRATOR,
                                                                         DIRECTORY_READERS]},
    "none": {"relationship": "none"},
    "gdap_consented": {"relationship": "GDAP", "group": "consent", "consented": True,
                       "roles": [CLOUD_APPLICATION_ADMINISTRATOR, DIRECTORY_READERS]},
    "gdap_no_consent_role": {"relationship": "GDAP", "group": "helpdesk",
                             "roles": [HELPDESK_ADMINISTRATOR, DIRECTORY_READERS]},
    "gdap_no_group": {"relationship": "GDAP", "group": "tier2",
                      "roles": [CLOUD_APPLICATION_ADMINISTRATOR, DIRECTORY_READERS]},
    "gdap_expired": {"relationship": "GDAP", "group": "consent", "consented": True, "ends_in_days": -20,
                     "roles": [CLOUD_APPLICATION_ADMINISTRATOR, DIRECTORY_READERS]},
    "gdap_expiring": {"relationship": "GDAP", "group": "consent", "consented": True, "ends_in_days": 10,
                      "roles": [CLOUD_APPLICATION_ADMINISTRATOR, DIRECTORY_READERS]},
}
# The partner's security groups the seed creates, and whether the service account is a member.
GROUPS = {
    "consent": ("GDAP Application Consent Agents", True),
    "helpdesk": ("GDAP Helpdesk Agents", True),
    "tier2": ("GDAP Tier 2 Admins", False),
}
DURATION_DAYS = 730


def relationship_end(sandbox: Sandbox, row) -> float:
    """The end of a relationship at the sandbox's now, auto-extension included."""
    end = row["activated"] + row["duration_days"] * DAY
    extend = row["auto_extend_days"] * DAY
    now = sandbox.now()
    while extend and row["status"] == "active" and end <= now:
        end += extend
    return end


def relationship_status(sandbox: Sandbox, row) -> str:
    if row["status"] == "active" and relationship_end(sandbox, row) <= sandbox.now():
        return "expired"
    return row["status"]


def _roles(ids: list[str]) -> dict[str, Any]:
    return {"unifiedRoles": [{"roleDefinitionId": role} for role in ids]}


def relationship_view(sandbox: Sandbox, row) -> dict[str, Any]:
    customer = sandbox.store.tenant(row["customer_id"]) or {}
    return {
        "@odata.type": "#microsoft.graph.delegatedAdminRelationship",
        "id": row["id"], "displayName": row["display_name"], "status": relationship_status(sandbox, row),
        "duration": f"P{row['duration_days']}D",
        "autoExtendDuration": f"P{row['auto_extend_days']}D" if row["auto_extend_days"] else "PT0S",
        "customer": {"tenantId": row["customer_id"], "displayName": customer.get("display_name")},
        "accessDetails": _roles(json.loads(row["roles"])),
        "createdDateTime": utc_iso(row["created"]), "activatedDateTime": utc_iso(row["activated"]),
        "lastModifiedDateTime": utc_iso(row["modified"]),
        "endDateTime": utc_iso(relationship_end(sandbox, row)),
    }


def assignment_view(row) -> dict[str, Any]:
    return {
        "@odata.type": "#microsoft.graph.delegatedAdminAccessAssignment",
        "id": row["id"], "status": row["status"],
        "accessContainer": {"accessContainerId": row["group_id"], "accessContainerType": "securityGroup"},
        "accessDetails": _roles(json.loads(row["roles"])),
        "createdDateTime": utc_iso(row["created"]), "lastModifiedDateTime": utc_iso(row["modified"]),
    }


def agent_roles(sandbox: Sandbox, partner_id: str, customer_id: str, user_id: str) -> set[str]:
    """The role ids an agent of the partner holds in a customer tenant under GDAP: those of active
    access assignments, in active relationships, to security groups the agent is a direct member
    of (GDAP does not follow nested groups)."""
    roles: set[str] = set()
    for relationship in sandbox.store.all(
            "SELECT * FROM gdap_relationships WHERE partner_id=? AND customer_id=?", (partner_id, customer_id)):
        if relationship_status(sandbox, relationship) != "active":
            continue
        for assignment in sandbox.store.all(
                "SELECT a.roles FROM gdap_assignments a JOIN members m ON m.group_id=a.group_id"
                " WHERE a.relationship_id=? AND a.status='active' AND m.member_id=?", (relationship["id"], user_id)):
            # An assignment gives only roles the relationship itself holds.
            roles |= set(json.loads(assignment["roles"])) & set(json.loads(relationship["roles"]))
    return roles


def default_grants(app: dict[str, Any]) -> list[dict[str, str]]:
    """What a consent given earlier holds: the app's delegated permissions per resource."""
    grants = []
    for entry in app.get("requiredResourceAccess") or []:
        resource_key = catalog.resource_by_app_id(entry.get("resourceAppId", ""))
        if resource_key is None:
            continue
        names = [catalog.scope_name(resource_key, access["id"]) for access in entry.get("resourceAccess", [])
                 if access.get("type") == "Scope"]
        names = [name for name in names if name]
        if names:
            grants.append({"enterpriseApplicationId": entry["resourceAppId"], "scope": ",".join(names)})
    return grants


def consent_earlier(sandbox: Sandbox, tenant_id: str, app: dict[str, Any]) -> None:
    """Seeded 'already consented' customers: a SAM app the partner registers (multi-tenant, with
    Partner Center access) counts as consented there before this run, as if a previous run or the
    customer's administrator had done it."""
    if app.get("signInAudience") != "AzureADMultipleOrgs":
        return
    if not any(entry.get("resourceAppId") == catalog.PARTNER_CENTER_APP_ID
               for entry in app.get("requiredResourceAccess") or []):
        return
    for customer_id in json.loads(sandbox.store.get_meta("consented_earlier") or "[]"):
        sandbox.store.execute("INSERT OR IGNORE INTO app_consents VALUES(?, ?, ?, ?, ?)", (
            customer_id, app["appId"], app.get("displayName"), json.dumps(default_grants(app)), sandbox.now()))


def seed_relationship(store, *, stable_id, partner_id: str, customer: dict[str, Any], kind: str,
                      group_ids: dict[str, str], now: float) -> None:
    spec = KINDS[kind]
    if spec["relationship"] != "GDAP":
        return
    relationship_id = f"{stable_id('gdap', customer['tenant_id'])}-{stable_id('gdap-2', customer['tenant_id'])}"
    ends_in = spec.get("ends_in_days", DURATION_DAYS - 30)
    activated = now - (DURATION_DAYS - ends_in) * DAY
    store.execute("INSERT INTO gdap_relationships VALUES(?, ?, ?, ?, 'active', ?, ?, ?, ?, 0, ?)", (
        relationship_id, partner_id, customer["tenant_id"], f"SAM access {customer['name']}",
        json.dumps(spec["roles"]), activated - DAY, activated, DURATION_DAYS, activated))
    store.execute("INSERT INTO gdap_assignments VALUES(?, ?, ?, ?, 'active', ?, ?)", (
        stable_id("gdap-assignment", relationship_id), relationship_id, group_ids[spec["group"]],
        json.dumps(spec["roles"]), activated, activated))


# Graph: tenantRelationships -------------------------------------------------------------------------
def _may_read(caller) -> bool:
    return bool(caller.permissions & READ_PERMISSIONS)


def _partner_relationships(sandbox: Sandbox, partner_id: str) -> list:
    return sandbox.store.all("SELECT * FROM gdap_relationships WHERE partner_id=? ORDER BY created, id",
                             (partner_id,))


async def list_relationships(request: web.Request, sandbox: Sandbox, caller) -> web.Response:
    from .graph import apply_filter, page  # graph imports this module for its routes

    if not _may_read(caller):
        return _denied(sandbox)
    items = [relationship_view(sandbox, row) for row in _partner_relationships(sandbox, caller.tenant_id)]
    filtered = apply_filter(request, items)
    if isinstance(filtered, web.Response):
        return filtered
    return page(request, filtered, "tenantRelationships/delegatedAdminRelationships", max_top=MAX_TOP)


def _denied(sandbox: Sandbox) -> web.Response:
    return graph_error(sandbox, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")


def _readable_relationship(request: web.Request, sandbox: Sandbox, caller):
    """The partner's relationship named in the path, or the error response Graph gives."""
    if not _may_read(caller):
        return _denied(sandbox)
    relationship_id = request.match_info["id"]
    row = sandbox.store.one("SELECT * FROM gdap_relationships WHERE id=? AND partner_id=?",
                            (relationship_id, caller.tenant_id))
    if row is None:
        return graph_error(sandbox, 404, "NotFound", f"The delegated admin relationship '{relationship_id}' was not "
                                                     "found.")
    return row


async def get_relationship(request: web.Request, sandbox: Sandbox, caller) -> web.Response:
    row = _readable_relationship(request, sandbox, caller)
    return row if isinstance(row, web.Response) else json_response(relationship_view(sandbox, row))


async def list_assignments(request: web.Request, sandbox: Sandbox, caller) -> web.Response:
    from .graph import page  # graph imports this module for its routes

    relationship = _readable_relationship(request, sandbox, caller)
    if isinstance(relationship, web.Response):
        return relationship
    rows = sandbox.store.all("SELECT * FROM gdap_assignments WHERE relationship_id=? ORDER BY created, id",
                             (relationship["id"],))
    return page(request, [assignment_view(row) for row in rows],
                f"tenantRelationships/delegatedAdminRelationships('{relationship['id']}')/accessAssignments",
                max_top=MAX_TOP)
