"""GDAP writes in Graph, as its reference documents them: relationships created, updated (If-Match,
and only what the status allows) and deleted; their requests (lockForApproval, terminate); access
assignments created, updated (a long-running operation) and deleted; the operations.

Every write needs the delegated permission DelegatedAdminRelationship.ReadWrite.All, and the
signed-in account must be an admin agent of the partner (a member of its AdminAgents group)."""
from __future__ import annotations

import json
import math
import re
import uuid
from typing import Any

from aiohttp import web

from . import gdap
from .context import Sandbox, graph_error, json_response, utc_iso
from .gdap_query import collection

RELATIONSHIPS = "/v1.0/tenantRelationships/delegatedAdminRelationships"
RELATIONSHIP_FIELDS = {"displayName", "duration", "customer", "accessDetails", "autoExtendDuration"}
ASSIGNMENT_FIELDS = {"accessContainer", "accessDetails"}
AUTO_EXTEND_VALUES = {"P0D": 0, "PT0S": 0, "P180D": 180}
MAX_DISPLAY_NAME = 50
MAX_DAYS = 730  # P2Y
DURATION = re.compile(r"^P(?:(?P<years>\d+)Y)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?$")


def bad_request(sandbox: Sandbox, message: str) -> web.Response:
    return graph_error(sandbox, 400, "BadRequest", message)


def duration_days(text: Any) -> int | None:
    """Days of an ISO 8601 duration in years, weeks or days (P730D, P2Y, P1Y30D), or None."""
    match = DURATION.match(text) if isinstance(text, str) and text != "P" else None
    if not match:
        return None
    return sum(int(match.group(unit) or 0) * size for unit, size in (("years", 365), ("weeks", 7), ("days", 1)))


def _writer(sandbox: Sandbox, caller) -> web.Response | None:
    """None when the caller may write GDAP objects, else Graph's 403."""
    from .identity import is_admin_agent  # identity imports gdap

    if not caller.permissions & gdap.WRITE_PERMISSIONS or not caller.delegated:
        return graph_error(sandbox, 403, "Authorization_RequestDenied",
                           "Insufficient privileges to complete the operation.")
    tenant = sandbox.store.tenant(caller.tenant_id) or {}
    if tenant.get("kind") != "partner" or not is_admin_agent(sandbox, caller.tenant_id, caller.user["id"]):
        return graph_error(sandbox, 403, "Authorization_RequestDenied",
                           "The signed-in user is not an admin agent of a partner tenant.")
    return None


def _if_match(request: web.Request, sandbox: Sandbox, row) -> web.Response | None:
    given = request.headers.get("If-Match")
    if not given:
        return bad_request(sandbox, "The If-Match header is required: give the object's @odata.etag.")
    if given.strip() != gdap.etag(row["id"], row["version"] or 1):
        return graph_error(sandbox, 412, "PreconditionFailed",
                           "The If-Match etag does not match the object's current etag: read it again.")
    return None


async def _body(request: web.Request, sandbox: Sandbox, allowed: set[str], type_name: str):
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return bad_request(sandbox, "The request body is not a JSON object.")
    unknown = sorted(set(body) - allowed)
    if unknown:
        return bad_request(sandbox, f"Property '{unknown[0]}' does not exist on type 'microsoft.graph.{type_name}'.")
    return body


def _role_ids(access_details: Any) -> list[str] | None:
    roles = (access_details or {}).get("unifiedRoles") if isinstance(access_details, dict) else None
    if not isinstance(roles, list) or not roles:
        return None
    ids = [str((role or {}).get("roleDefinitionId", "")).lower() for role in roles if isinstance(role, dict)]
    return ids if len(ids) == len(roles) else None


def _check_relationship(sandbox: Sandbox, caller, fields: dict[str, Any], own_id: str | None) -> str | None:
    """The first documented rule the relationship's fields break, or None."""
    name = fields.get("displayName")
    if not isinstance(name, str) or not name.strip():
        return "Property 'displayName' is required."
    if len(name) > MAX_DISPLAY_NAME:
        return f"The displayName is longer than {MAX_DISPLAY_NAME} characters."
    clash = sandbox.store.one("SELECT id FROM gdap_relationships WHERE partner_id=? AND lower(display_name)=? "
                              "AND id != ?", (caller.tenant_id, name.lower(), own_id or ""))
    if clash:
        return f"The displayName '{name}' is already used by another relationship of the partner."
    days = duration_days(fields.get("duration"))
    if days is None or not 1 <= days <= MAX_DAYS:
        return "The duration must be an ISO 8601 duration between P1D and P2Y (730 days)."
    extend = fields.get("autoExtendDuration", "PT0S")
    if extend not in AUTO_EXTEND_VALUES:
        return "The autoExtendDuration must be one of P0D, PT0S or P180D."
    roles = _role_ids(fields.get("accessDetails"))
    if roles is None:
        return "Property 'accessDetails' must list at least one unifiedRoles entry with a roleDefinitionId."
    unknown = [role for role in roles if role not in gdap.ROLE_NAMES]
    if unknown:
        return f"The roleDefinitionId '{unknown[0]}' is not a built-in role template of Microsoft Entra ID."
    if gdap.GLOBAL_ADMINISTRATOR in roles and AUTO_EXTEND_VALUES[extend]:
        return "A relationship that includes the Global Administrator role cannot be extended automatically."
    customer = fields.get("customer")
    tenant_id = customer.get("tenantId") if isinstance(customer, dict) else None
    tenant = sandbox.store.tenant(tenant_id) if isinstance(tenant_id, str) and tenant_id else None
    if tenant is None or tenant["kind"] != "customer" or tenant["partner_id"] != caller.tenant_id:
        return "The customer's tenantId is not a customer of this partner."
    return None


def _relationship(request: web.Request, sandbox: Sandbox, caller):
    row = sandbox.store.one("SELECT * FROM gdap_relationships WHERE id=? AND partner_id=?",
                            (request.match_info["id"], caller.tenant_id))
    if row is None:
        return graph_error(sandbox, 404, "NotFound",
                           f"The delegated admin relationship '{request.match_info['id']}' was not found.")
    return row


def _row(sandbox: Sandbox, relationship_id: str):
    return sandbox.store.one("SELECT * FROM gdap_relationships WHERE id=?", (relationship_id,))


def _entity(view: dict[str, Any], context: str, sandbox: Sandbox) -> dict[str, Any]:
    return {"@odata.context": f"{sandbox.urls['graph']}/v1.0/$metadata#{context}/$entity", **view}


# relationships ---------------------------------------------------------------------------------
async def create_relationship(request: web.Request, sandbox: Sandbox, caller) -> web.Response:
    refused = _writer(sandbox, caller)
    if refused:
        return refused
    body = await _body(request, sandbox, RELATIONSHIP_FIELDS, "delegatedAdminRelationship")
    if isinstance(body, web.Response):
        return body
    problem = _check_relationship(sandbox, caller, body, None)
    if problem:
        return bad_request(sandbox, problem)
    customer_id = sandbox.store.tenant(body["customer"]["tenantId"])["id"]
    relationship_id = f"{uuid.uuid4()}-{uuid.uuid4()}"
    now = sandbox.now()
    sandbox.store.execute(
        "INSERT INTO gdap_relationships(id, partner_id, customer_id, display_name, status, roles, created, activated,"
        " duration_days, auto_extend_days, modified, version) VALUES(?, ?, ?, ?, 'created', ?, ?, NULL, ?, ?, ?, 1)",
        (relationship_id, caller.tenant_id, customer_id, body["displayName"],
         json.dumps(_role_ids(body["accessDetails"])), now, duration_days(body["duration"]),
         AUTO_EXTEND_VALUES[body.get("autoExtendDuration", "PT0S")], now))
    view = gdap.relationship_view(sandbox, _row(sandbox, relationship_id))
    location = f"{sandbox.urls['graph']}{RELATIONSHIPS}/{relationship_id}"
    return json_response(_entity(view, "tenantRelationships/delegatedAdminRelationships", sandbox), 201,
                         {"Location": location})


async def update_relationship(request: web.Request, sandbox: Sandbox, caller) -> web.Response:
    refused = _writer(sandbox, caller)
    if refused:
        return refused
    row = _relationship(request, sandbox, caller)
    if isinstance(row, web.Response):
        return row
    stale = _if_match(request, sandbox, row)
    if stale:
        return stale
    body = await _body(request, sandbox, RELATIONSHIP_FIELDS, "delegatedAdminRelationship")
    if isinstance(body, web.Response):
        return body
    status = gdap.relationship_status(sandbox, row)
    roles = json.loads(row["roles"])
    current = {"displayName": row["display_name"], "duration": f"P{row['duration_days']}D",
               "customer": {"tenantId": row["customer_id"]}, "accessDetails": gdap._roles(roles),
               "autoExtendDuration": f"P{row['auto_extend_days']}D" if row["auto_extend_days"] else "PT0S"}
    if status == "active":
        new_roles = _role_ids(body["accessDetails"]) if "accessDetails" in body else roles
        without_global_admin = [role for role in roles if role != gdap.GLOBAL_ADMINISTRATOR]
        if set(body) - {"autoExtendDuration", "accessDetails"} or (
                new_roles != roles and sorted(new_roles or []) != sorted(without_global_admin)):
            return bad_request(sandbox, "An active relationship allows only its autoExtendDuration to change, and the "
                                        "Global Administrator role to be removed.")
        extend = body.get("autoExtendDuration", current["autoExtendDuration"])
        if extend not in AUTO_EXTEND_VALUES:
            return bad_request(sandbox, "The autoExtendDuration must be one of P0D, PT0S or P180D.")
        if gdap.GLOBAL_ADMINISTRATOR in (new_roles or []) and AUTO_EXTEND_VALUES[extend]:
            return bad_request(sandbox, "A relationship that includes the Global Administrator role cannot be "
                                        "extended automatically.")
        # Graph removes Global Administrator as a long-running operation; the sandbox applies it at once.
        sandbox.store.execute("UPDATE gdap_relationships SET auto_extend_days=?, roles=?, modified=?, "
                              "version=version+1 WHERE id=?",
                              (AUTO_EXTEND_VALUES[extend], json.dumps(new_roles), sandbox.now(), row["id"]))
    elif status == "created":
        fields = dict(current, **body)
        problem = _check_relationship(sandbox, caller, fields, row["id"])
        if problem:
            return bad_request(sandbox, problem)
        sandbox.store.execute(
            "UPDATE gdap_relationships SET display_name=?, duration_days=?, customer_id=?, roles=?, auto_extend_days=?,"
            " modified=?, version=version+1 WHERE id=?",
            (fields["displayName"], duration_days(fields["duration"]),
             sandbox.store.tenant(fields["customer"]["tenantId"])["id"], json.dumps(_role_ids(fields["accessDetails"])),
             AUTO_EXTEND_VALUES[fields["autoExtendDuration"]], sandbox.now(), row["id"]))
    else:
        return bad_request(sandbox, f"The relationship is {status}: a relationship can be updated only while it is "
                                    "created (its autoExtendDuration also while it is active).")
    view = gdap.relationship_view(sandbox, _row(sandbox, row["id"]))
    return json_response(_entity(view, "tenantRelationships/delegatedAdminRelationships", sandbox))


async def delete_relationship(request: web.Request, sandbox: Sandbox, caller) -> web.Response:
    refused = _writer(sandbox, caller)
    if refused:
        return refused
    row = _relationship(request, sandbox, caller)
    if isinstance(row, web.Response):
        return row
    stale = _if_match(request, sandbox, row)
    if stale:
        return stale
    status = gdap.relationship_status(sandbox, row)
    if status != "created":
        return bad_request(sandbox, f"The relationship is {status}: only a relationship in the created status can be "
                                    "deleted (terminate it instead).")
    sandbox.store.execute("DELETE FROM gdap_requests WHERE relationship_id=?", (row["id"],))
    sandbox.store.execute("DELETE FROM gdap_relationships WHERE id=?", (row["id"],))
    return web.Response(status=204)


# requests --------------------------------------------------------------------------------------
def request_view(sandbox: Sandbox, row) -> dict[str, Any]:
    # Created, then pending while the relationship changes, then succeeded.
    age = sandbox.now() - row["created"]
    status = "created" if age < 0.2 else "pending" if age < 0.5 else "succeeded"
    return {"@odata.type": "#microsoft.graph.delegatedAdminRelationshipRequest", "id": row["id"],
            "action": row["action"], "status": status, "createdDateTime": utc_iso(row["created"]),
            "lastModifiedDateTime": utc_iso(row["created"])}


async def create_request(request: web.Request, sandbox: Sandbox, caller) -> web.Response:
    refused = _writer(sandbox, caller)
    if refused:
        return refused
    row = _relationship(request, sandbox, caller)
    if isinstance(row, web.Response):
        return row
    body = await _body(request, sandbox, {"action"}, "delegatedAdminRelationshipRequest")
    if isinstance(body, web.Response):
        return body
    action, status, now = body.get("action"), gdap.relationship_status(sandbox, row), sandbox.now()
    if action == "lockForApproval":
        if status != "created":
            return bad_request(sandbox, f"The relationship is {status}: only a created relationship can be locked for "
                                        "approval.")
        sandbox.store.execute("UPDATE gdap_relationships SET status='approvalPending', modified=?, version=version+1 "
                              "WHERE id=?", (now, row["id"]))
    elif action == "terminate":
        if status != "active":
            return bad_request(sandbox, f"The relationship is {status}: only an active relationship can be "
                                        "terminated.")
        sandbox.store.execute("UPDATE gdap_relationships SET termination_requested=?, modified=?, version=version+1 "
                              "WHERE id=?", (now, now, row["id"]))
    elif action in ("approve", "reject"):
        return bad_request(sandbox, f"The action {action} is for an indirect reseller's relationship; this "
                                    "relationship is the partner's own.")
    else:
        return bad_request(sandbox, "The action must be lockForApproval or terminate.")
    request_id = str(uuid.uuid4())
    sandbox.store.execute("INSERT INTO gdap_requests VALUES(?, ?, ?, ?)", (request_id, row["id"], action, now))
    view = request_view(sandbox, sandbox.store.one("SELECT * FROM gdap_requests WHERE id=?", (request_id,)))
    location = f"{sandbox.urls['graph']}{RELATIONSHIPS}/{row['id']}/requests/{request_id}"
    return json_response(_entity(view, "tenantRelationships/delegatedAdminRelationships/requests", sandbox), 201,
                         {"Location": location})


async def list_requests(request: web.Request, sandbox: Sandbox, caller) -> web.Response:
    row = gdap._readable_relationship(request, sandbox, caller)
    if isinstance(row, web.Response):
        return row
    rows = sandbox.store.all("SELECT * FROM gdap_requests WHERE relationship_id=? ORDER BY created, id", (row["id"],))
    return collection(request, sandbox, [request_view(sandbox, r) for r in rows],
                      f"tenantRelationships/delegatedAdminRelationships('{row['id']}')/requests",
                      "delegatedAdminRelationshipRequest")


async def get_request(request: web.Request, sandbox: Sandbox, caller) -> web.Response:
    row = gdap._readable_relationship(request, sandbox, caller)
    if isinstance(row, web.Response):
        return row
    found = sandbox.store.one("SELECT * FROM gdap_requests WHERE id=? AND relationship_id=?",
                              (request.match_info["request"], row["id"]))
    if found is None:
        return graph_error(sandbox, 404, "NotFound", f"The request '{request.match_info['request']}' was not found.")
    return json_response(request_view(sandbox, found))


# operations ------------------------------------------------------------------------------------
def operation_view(sandbox: Sandbox, row) -> dict[str, Any]:
    now = sandbox.now()
    started = row["created"] + (row["done"] - row["created"]) / 4
    status = "notStarted" if now < started else "running" if now < row["done"] else "succeeded"
    return {"@odata.type": "#microsoft.graph.delegatedAdminRelationshipOperation", "id": row["id"],
            "operationType": row["operation_type"], "data": row["data"], "status": status,
            "createdDateTime": utc_iso(row["created"]),
            "lastModifiedDateTime": utc_iso(min(now, row["done"]))}


async def list_operations(request: web.Request, sandbox: Sandbox, caller) -> web.Response:
    row = gdap._readable_relationship(request, sandbox, caller)
    if isinstance(row, web.Response):
        return row
    rows = sandbox.store.all("SELECT * FROM gdap_operations WHERE relationship_id=? ORDER BY created, id",
                             (row["id"],))
    return collection(request, sandbox, [operation_view(sandbox, r) for r in rows],
                      f"tenantRelationships/delegatedAdminRelationships('{row['id']}')/operations",
                      "delegatedAdminRelationshipOperation")


async def get_operation(request: web.Request, sandbox: Sandbox, caller) -> web.Response:
    row = gdap._readable_relationship(request, sandbox, caller)
    if isinstance(row, web.Response):
        return row
    found = sandbox.store.one("SELECT * FROM gdap_operations WHERE id=? AND relationship_id=?",
                              (request.match_info["operation"], row["id"]))
    if found is None:
        return graph_error(sandbox, 404, "NotFound",
                           f"The operation '{request.match_info['operation']}' was not found.")
    return json_response(operation_view(sandbox, found))


# access assignments ----------------------------------------------------------------------------
def _assignment(request: web.Request, sandbox: Sandbox, relationship):
    row = sandbox.store.one("SELECT * FROM gdap_assignments WHERE id=? AND relationship_id=?",
                            (request.match_info["assignment"], relationship["id"]))
    if row is None:
        return graph_error(sandbox, 404, "NotFound",
                           f"The access assignment '{request.match_info['assignment']}' was not found.")
    return row


def _check_roles(sandbox: Sandbox, access_details: Any, relationship) -> list[str] | web.Response:
    roles = _role_ids(access_details)
    if roles is None:
        return bad_request(sandbox, "Property 'accessDetails' must list at least one unifiedRoles entry with a "
                                    "roleDefinitionId.")
    outside = [role for role in roles if role not in json.loads(relationship["roles"])]
    if outside:
        return bad_request(sandbox, f"The role '{outside[0]}' is not one of the relationship's roles: an access "
                                    "assignment can only give roles of its relationship.")
    return roles


async def get_assignment(request: web.Request, sandbox: Sandbox, caller) -> web.Response:
    relationship = gdap._readable_relationship(request, sandbox, caller)
    if isinstance(relationship, web.Response):
        return relationship
    row = _assignment(request, sandbox, relationship)
    return row if isinstance(row, web.Response) else json_response(gdap.assignment_view(sandbox, row))


async def create_assignment(request: web.Request, sandbox: Sandbox, caller) -> web.Response:
    refused = _writer(sandbox, caller)
    if refused:
        return refused
    relationship = _relationship(request, sandbox, caller)
    if isinstance(relationship, web.Response):
        return relationship
    body = await _body(request, sandbox, ASSIGNMENT_FIELDS, "delegatedAdminAccessAssignment")
    if isinstance(body, web.Response):
        return body
    status = gdap.relationship_status(sandbox, relationship)
    if status != "active":
        return bad_request(sandbox, f"The relationship is {status}: access assignments can be created only in an "
                                    "active relationship.")
    container = body.get("accessContainer") if isinstance(body.get("accessContainer"), dict) else {}
    group_id = str(container.get("accessContainerId") or "")
    group = sandbox.store.get_object(group_id, "group", caller.tenant_id)
    if container.get("accessContainerType") != "securityGroup" or not group or not group.get("securityEnabled"):
        return bad_request(sandbox, "The accessContainer must be a security group of the partner tenant "
                                    "(accessContainerType securityGroup).")
    roles = _check_roles(sandbox, body.get("accessDetails"), relationship)
    if isinstance(roles, web.Response):
        return roles
    for existing in sandbox.store.all("SELECT * FROM gdap_assignments WHERE relationship_id=? AND group_id=?",
                                      (relationship["id"], group_id)):
        if gdap.assignment_state(sandbox, existing)[0] not in ("deleting", "deleted"):
            return graph_error(sandbox, 409, "Conflict", "The security group already has an access assignment in this "
                                                         "relationship: update that one.")
    assignment_id, now = str(uuid.uuid4()), sandbox.now()
    sandbox.store.execute(
        "INSERT INTO gdap_assignments(id, relationship_id, group_id, roles, status, created, modified, version, ready)"
        " VALUES(?, ?, ?, ?, 'pending', ?, ?, 1, ?)",
        (assignment_id, relationship["id"], group_id, json.dumps(roles), now, now,
         now + gdap.timing(sandbox)["assignment"]))
    view = gdap.assignment_view(sandbox, sandbox.store.one("SELECT * FROM gdap_assignments WHERE id=?",
                                                           (assignment_id,)))
    location = f"{sandbox.urls['graph']}{RELATIONSHIPS}/{relationship['id']}/accessAssignments/{assignment_id}"
    return json_response(_entity(view, "tenantRelationships/delegatedAdminRelationships/accessAssignments", sandbox),
                         201, {"Location": location})


async def update_assignment(request: web.Request, sandbox: Sandbox, caller) -> web.Response:
    refused = _writer(sandbox, caller)
    if refused:
        return refused
    relationship = _relationship(request, sandbox, caller)
    if isinstance(relationship, web.Response):
        return relationship
    row = _assignment(request, sandbox, relationship)
    if isinstance(row, web.Response):
        return row
    stale = _if_match(request, sandbox, row)
    if stale:
        return stale
    body = await _body(request, sandbox, {"accessDetails"}, "delegatedAdminAccessAssignment")
    if isinstance(body, web.Response):
        return body
    status, current = gdap.assignment_state(sandbox, row)
    if status not in ("active", "pending") or gdap.relationship_status(sandbox, relationship) != "active":
        return bad_request(sandbox, f"The access assignment is {status}: only an assignment of an active "
                                    "relationship can be updated.")
    roles = _check_roles(sandbox, body.get("accessDetails"), relationship)
    if isinstance(roles, web.Response):
        return roles
    if sorted(roles) == sorted(current):  # the same values: 200 with the object as it is
        return json_response(gdap.assignment_view(sandbox, row))
    now, delay = sandbox.now(), gdap.timing(sandbox)["assignment"]
    operation_id = str(uuid.uuid4())
    sandbox.store.execute(
        "UPDATE gdap_assignments SET roles=?, pending_roles=?, status=?, ready=?, modified=?, version=version+1 "
        "WHERE id=?", (json.dumps(current), json.dumps(roles), "active" if status == "active" else "pending",
                       now + delay, now, row["id"]))
    sandbox.store.execute("INSERT INTO gdap_operations VALUES(?, ?, ?, 'delegatedAdminAccessAssignmentUpdate', ?, ?, ?)",
                          (operation_id, relationship["id"], row["id"],
                           json.dumps({"accessDetails": gdap._roles(roles)}), now, now + delay))
    location = f"{sandbox.urls['graph']}{RELATIONSHIPS}/{relationship['id']}/operations/{operation_id}"
    return web.Response(status=202, headers={"Location": location, "Retry-After": str(max(1, math.ceil(delay)))})


async def delete_assignment(request: web.Request, sandbox: Sandbox, caller) -> web.Response:
    refused = _writer(sandbox, caller)
    if refused:
        return refused
    relationship = _relationship(request, sandbox, caller)
    if isinstance(relationship, web.Response):
        return relationship
    row = _assignment(request, sandbox, relationship)
    if isinstance(row, web.Response):
        return row
    stale = _if_match(request, sandbox, row)
    if stale:
        return stale
    if row["deleted"] is not None:
        return graph_error(sandbox, 404, "NotFound", f"The access assignment '{row['id']}' was not found.")
    sandbox.store.execute("UPDATE gdap_assignments SET deleted=?, modified=?, version=version+1 WHERE id=?",
                          (sandbox.now(), sandbox.now(), row["id"]))
    return web.Response(status=204)


def routes(authenticated) -> list[web.RouteDef]:
    item = RELATIONSHIPS + "/{id}"
    return [
        web.post(RELATIONSHIPS, authenticated(create_relationship)),
        web.patch(item, authenticated(update_relationship)),
        web.delete(item, authenticated(delete_relationship)),
        web.get(item + "/requests", authenticated(list_requests)),
        web.post(item + "/requests", authenticated(create_request)),
        web.get(item + "/requests/{request}", authenticated(get_request)),
        web.get(item + "/operations", authenticated(list_operations)),
        web.get(item + "/operations/{operation}", authenticated(get_operation)),
        web.post(item + "/accessAssignments", authenticated(create_assignment)),
        web.get(item + "/accessAssignments/{assignment}", authenticated(get_assignment)),
        web.patch(item + "/accessAssignments/{assignment}", authenticated(update_assignment)),
        web.delete(item + "/accessAssignments/{assignment}", authenticated(delete_assignment)),
    ]
