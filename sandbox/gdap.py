"""GDAP: the partner's granular delegated admin relationships with its customers, their access
assignments to the partner's security groups, and what they let the partner's agents do in a
customer tenant (token issue, Graph, Partner Center application consents).

A relationship's status follows the sandbox clock (see lifecycle()): after the customer's approval it
is 'approved', then 'activating', then 'active'; an active one whose end has passed reads 'expiring'
while it is deprovisioned, then 'expired' (unless its autoExtendDuration extends it); a termination
goes 'terminationRequested', 'terminating', 'terminated'. Access assignments are 'pending' for a
moment before 'active', and 'deleting' before 'deleted'. The writes are in gdap_lifecycle.py."""
from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any, Callable

from aiohttp import web

from . import catalog
from .context import Sandbox, graph_error, json_response, utc_iso
from .gdap_query import collection

DAY = 86400
# Role template ids (the same in every tenant) and their names.
GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"
PRIVILEGED_ROLE_ADMINISTRATOR = "e8611ab8-c189-46e8-94e1-60213ab1f814"
CLOUD_APPLICATION_ADMINISTRATOR = "158c047a-c907-4556-b7ef-446551a6b5f7"
DIRECTORY_READERS = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
HELPDESK_ADMINISTRATOR = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
USER_ADMINISTRATOR = "fe930be7-5e62-47db-91af-98c3a49a38b1"
# Entra's built-in role templates a GDAP relationship may name (Entra documents their template ids).
ROLE_NAMES = {
    GLOBAL_ADMINISTRATOR: "Global Administrator",
    PRIVILEGED_ROLE_ADMINISTRATOR: "Privileged Role Administrator",
    CLOUD_APPLICATION_ADMINISTRATOR: "Cloud Application Administrator",
    DIRECTORY_READERS: "Directory Readers",
    HELPDESK_ADMINISTRATOR: "Helpdesk Administrator",
    USER_ADMINISTRATOR: "User Administrator",
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
    "f2ef992c-3afb-46b9-b7cf-a126ee74c451": "Global Reader",
    "9360feb5-f418-4baa-8175-e2a00bac4301": "Directory Writers",
    "f023fd81-a637-4b56-95fd-791ac0226033": "Service Support Administrator",
    "b0f54661-2d74-4c50-afa3-1ec803f12efe": "Billing Administrator",
    "4d6ac14f-3453-41d0-bef9-a3e0c569773a": "License Administrator",
    "29232cdf-9323-42fd-ade2-1d097af3e4de": "Exchange Administrator",
    "f28a1f50-f6e7-4571-818b-6a12f2af6b6c": "SharePoint Administrator",
    "69091246-20e8-4a56-aa4d-066075b2a7a8": "Teams Administrator",
    "194ae4cb-b126-40b2-bd5b-6091b380977d": "Security Administrator",
    "5d6b6bb7-de71-4623-b4af-96380a352509": "Security Reader",
    "3a2c62db-5318-420d-8d74-23affee5d9d5": "Intune Administrator",
    "c4e39bd9-1100-46d3-8c65-fb160da0071f": "Authentication Administrator",
    "7be44c8a-adaf-4e2a-84d6-ab2649e08a13": "Privileged Authentication Administrator",
    "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9": "Conditional Access Administrator",
    "17315797-102d-40b4-93e0-432062caca18": "Compliance Administrator",
    "4a5d8f65-41da-4de4-8968-e035b65339cf": "Reports Reader",
    "fdd7a751-b60b-444a-984c-02652fe8fa1c": "Groups Administrator",
    "7698a772-787b-4ac8-901f-60d6b08affd2": "Cloud Device Administrator",
    "11648597-926c-4cf3-9c36-bcebb0ba8dcc": "Power Platform Administrator",
    "44367163-eba1-44c3-98af-f5787879f96a": "Dynamics 365 Administrator",
    "baf37b3a-610e-45da-9e62-d9d1e5e8914b": "Teams Communications Administrator",
    "31392ffb-586c-42d1-9346-e59415a2cc4e": "Exchange Recipient Administrator",
    "5f2222b1-57c3-48ba-8ad5-d4759f1fde6f": "Security Operator",
    "790c1fb9-7f7d-4f88-86a1-ef1f95c05c1b": "Message Center Reader",
}
# The roles with which an agent may grant an application consent in the customer tenant.
CONSENT_ROLES = {GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR, CLOUD_APPLICATION_ADMINISTRATOR}
READ_PERMISSIONS = {"DelegatedAdminRelationship.Read.All", "DelegatedAdminRelationship.ReadWrite.All"}
WRITE_PERMISSIONS = {"DelegatedAdminRelationship.ReadWrite.All"}

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


# How long each documented intermediate status lasts in the sandbox (seconds of its clock); the test
# API's PUT /sandbox/gdap-timing changes them for a run.
TIMING = {"activation": 2.0, "assignment": 2.0, "termination": 2.0, "deprovisioning": 3600.0}


def timing(sandbox: Sandbox) -> dict[str, float]:
    return getattr(sandbox, "gdap_timing", TIMING)


def relationship_end(sandbox: Sandbox, row, activated: float | None = None) -> float:
    """The end of an active relationship at the sandbox's now, auto-extension included."""
    activated = row["activated"] if activated is None else activated
    end = activated + row["duration_days"] * DAY
    extend = row["auto_extend_days"] * DAY
    now = sandbox.now()
    while extend and end <= now:
        end += extend
    return end


def lifecycle(sandbox: Sandbox, row) -> tuple[str, float | None, float | None]:
    """(status, activated, end) of a relationship now: the stored status moved on by the clock."""
    now, times = sandbox.now(), timing(sandbox)
    status, activated = row["status"], row["activated"]
    if status == "approved" and row["approved"] is not None:
        done = row["approved"] + times["activation"]
        if now < row["approved"] + times["activation"] / 2:
            return "approved", None, None
        if now < done:
            return "activating", None, None
        status, activated = "active", done if activated is None else activated  # the test API may move it
    if row["termination_requested"] is not None:
        asked = row["termination_requested"]
        if now < asked + times["termination"] / 2:
            return "terminationRequested", activated, None
        if now < asked + times["termination"]:
            return "terminating", activated, None
        return "terminated", activated, asked + times["termination"]
    if status == "active" and activated is not None:
        end = relationship_end(sandbox, row, activated)
        if end <= now:
            return ("expiring" if now < end + times["deprovisioning"] else "expired"), activated, end
        return "active", activated, end
    if status in ("expired", "terminated") and activated is not None:
        return status, activated, activated + row["duration_days"] * DAY
    return status, activated, None


def relationship_status(sandbox: Sandbox, row) -> str:
    return lifecycle(sandbox, row)[0]


def etag(key: str, version: int) -> str:
    """A weak entity tag as Graph gives these objects (opaque; it changes with every write)."""
    return 'W/"' + base64.b64encode(f"{key}:{version}".encode()).decode() + '"'


def _roles(ids: list[str]) -> dict[str, Any]:
    return {"unifiedRoles": [{"roleDefinitionId": role} for role in ids]}


def relationship_view(sandbox: Sandbox, row) -> dict[str, Any]:
    # A listing joins the customer's name in (no lookup per row); a single row looks it up.
    if "customer_name" in row.keys():
        customer = {"display_name": row["customer_name"]}
    else:
        customer = sandbox.store.tenant(row["customer_id"]) or {}
    status, activated, end = lifecycle(sandbox, row)
    return {
        "@odata.type": "#microsoft.graph.delegatedAdminRelationship",
        "@odata.etag": etag(row["id"], row["version"] or 1),
        "id": row["id"], "displayName": row["display_name"], "status": status,
        "duration": f"P{row['duration_days']}D",
        "autoExtendDuration": f"P{row['auto_extend_days']}D" if row["auto_extend_days"] else "PT0S",
        "customer": {"tenantId": row["customer_id"], "displayName": customer.get("display_name")},
        "accessDetails": _roles(json.loads(row["roles"])),
        "createdDateTime": utc_iso(row["created"]),
        "activatedDateTime": utc_iso(activated) if activated is not None else None,
        "lastModifiedDateTime": utc_iso(row["modified"]),
        "endDateTime": utc_iso(end) if end is not None else None,
    }


def assignment_state(sandbox: Sandbox, row) -> tuple[str, list[str]]:
    """(status, roles) of an access assignment now: 'pending' until it takes effect, a role change
    applied once its operation is done, 'deleting' then 'deleted' after a delete."""
    now, delay = sandbox.now(), timing(sandbox)["assignment"]
    roles = json.loads(row["roles"])
    if row["pending_roles"] and row["ready"] is not None and now >= row["ready"]:
        roles = json.loads(row["pending_roles"])
    if row["deleted"] is not None:
        return ("deleting" if now < row["deleted"] + delay else "deleted"), roles
    if row["status"] == "pending" and row["ready"] is not None and now < row["ready"]:
        return "pending", roles
    if row["status"] == "pending":
        return "active", roles
    return row["status"], roles


def assignment_view(sandbox: Sandbox, row) -> dict[str, Any]:
    status, roles = assignment_state(sandbox, row)
    return {
        "@odata.type": "#microsoft.graph.delegatedAdminAccessAssignment",
        "@odata.etag": etag(row["id"], row["version"] or 1),
        "id": row["id"], "status": status,
        "accessContainer": {"accessContainerId": row["group_id"], "accessContainerType": "securityGroup"},
        "accessDetails": _roles(roles),
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
                "SELECT a.* FROM gdap_assignments a JOIN members m ON m.group_id=a.group_id"
                " WHERE a.relationship_id=? AND m.member_id=?", (relationship["id"], user_id)):
            status, assigned = assignment_state(sandbox, assignment)
            if status == "active":  # an assignment gives only roles the relationship itself holds
                roles |= set(assigned) & set(json.loads(relationship["roles"]))
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
    store.execute(
        "INSERT INTO gdap_relationships(id, partner_id, customer_id, display_name, status, roles, created, activated,"
        " duration_days, auto_extend_days, modified) VALUES(?, ?, ?, ?, 'active', ?, ?, ?, ?, 0, ?)", (
            relationship_id, partner_id, customer["tenant_id"], f"SAM access {customer['name']}",
            json.dumps(spec["roles"]), activated - DAY, activated, DURATION_DAYS, activated))
    store.execute("INSERT INTO gdap_assignments(id, relationship_id, group_id, roles, status, created, modified)"
                  " VALUES(?, ?, ?, ?, 'active', ?, ?)",
                  (stable_id("gdap-assignment", relationship_id), relationship_id, group_ids[spec["group"]],
                   json.dumps(spec["roles"]), activated, activated))


# Graph: tenantRelationships -------------------------------------------------------------------------
def _may_read(caller) -> bool:
    return bool(caller.permissions & READ_PERMISSIONS)


class LazyViews(Sequence):
    """Rows turned into views only when read: a page of 300 of a 5,000-row listing builds 300 views,
    so the whole listing (every page) stays linear. A filter or an ordering reads them all."""

    def __init__(self, rows: list, view: Callable[[Any], dict[str, Any]]) -> None:
        self.rows, self.view = rows, view

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self.view(row) for row in self.rows[index]]
        return self.view(self.rows[index])


def _partner_relationships(sandbox: Sandbox, partner_id: str) -> list:
    return sandbox.store.all("SELECT r.*, t.display_name AS customer_name FROM gdap_relationships r"
                             " LEFT JOIN tenants t ON t.id=r.customer_id WHERE r.partner_id=? ORDER BY r.created, r.id",
                             (partner_id,))


async def list_relationships(request: web.Request, sandbox: Sandbox, caller) -> web.Response:
    if not _may_read(caller):
        return _denied(sandbox)
    items = LazyViews(_partner_relationships(sandbox, caller.tenant_id), lambda row: relationship_view(sandbox, row))
    return collection(request, sandbox, items, "tenantRelationships/delegatedAdminRelationships",
                      "delegatedAdminRelationship")


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
    relationship = _readable_relationship(request, sandbox, caller)
    if isinstance(relationship, web.Response):
        return relationship
    rows = sandbox.store.all("SELECT * FROM gdap_assignments WHERE relationship_id=? ORDER BY created, id",
                             (relationship["id"],))
    return collection(request, sandbox, [assignment_view(sandbox, row) for row in rows],
                      f"tenantRelationships/delegatedAdminRelationships('{relationship['id']}')/accessAssignments",
                      "delegatedAdminAccessAssignment")
