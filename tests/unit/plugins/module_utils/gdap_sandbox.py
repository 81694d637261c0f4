"""What the GDAP write tests share: a SAM app that may read and write GDAP, consented by the
service account against the session `world` sandbox, a context like the one a module builds
(.http, .cloud, .token()), and the test API's moves of a relationship (approve, activate) and of
GDAP's timing."""
from __future__ import annotations

import uuid
from contextlib import contextmanager
from typing import Any

from ansible_collections.partnercenter.secure_app.plugins.module_utils._context import Context
from ansible_collections.partnercenter.secure_app.plugins.module_utils._tokens import exchange

GDAP_READ_WRITE = "885f682f-a990-4bad-a642-36736a74b0c7"  # DelegatedAdminRelationship.ReadWrite.All
GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"
CLOUD_APPLICATION_ADMINISTRATOR = "158c047a-c907-4556-b7ef-446551a6b5f7"
DIRECTORY_READERS = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
HELPDESK_ADMINISTRATOR = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
USER_ADMINISTRATOR = "fe930be7-5e62-47db-91af-98c3a49a38b1"
RELATIONSHIPS = "/tenantRelationships/delegatedAdminRelationships"
# Every relationship a test made here or moved on: ended once its module is done (ended_after),
# for the session's other tests expect the customer without a relationship to have none active.
MADE: list[str] = []


def customer(ep: dict[str, Any], kind: str) -> str:
    return next(c for c in ep["customers"] if c["kind"] == kind)["tenant_id"]


def module_context(world: dict[str, Any], retries: int = 0) -> Context:
    """retries: 0 unless a test is about what is retried."""
    options = {"cloud": "AzureCloud", "cloud_endpoints": world["ep"]["cloud"], "ca_bundle": world["ep"]["ca_file"],
               "timeout": 30, "retries": retries}
    return Context(options.get)


class TaskContext:
    """What run_relationships and run_assignments use of a module's context: its HTTP session,
    its cloud, and token(resource, purpose); the purposes asked for are kept."""

    def __init__(self, context: Context, token: str) -> None:
        self.http, self.cloud, self._token = context.http, context.cloud, token
        self.asked: list[tuple[str, str]] = []

    def token(self, resource: str, purpose: str) -> str:
        self.asked.append((resource, purpose))
        return self._token


def gdap_app(world: dict[str, Any], context: Context, name: str) -> dict[str, Any]:
    """A SAM app that may read and write GDAP, consented by the service account: its Graph token,
    and a Graph session with it for the writes that set the scene."""
    from conformance_helpers import (  # pylint: disable=import-outside-toplevel,import-error
        consent, create_app, device_code_token, graph_session)
    from sandbox import catalog  # pylint: disable=import-outside-toplevel,import-error

    ep = world["ep"]
    authority = f"{ep['cloud']['login']}/{ep['partner_tenant_id']}"
    admin = device_code_token(world["api"], authority, "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
                              [ep["cloud"]["graph"] + "/.default"], ep["accounts"]["admin"]["upn"])
    admin_graph = graph_session(ep, admin["access_token"])
    app = create_app(admin_graph, name)
    access = admin_graph.get(f"/applications/{app['object_id']}").json()["requiredResourceAccess"]
    for entry in access:
        if entry["resourceAppId"] == catalog.GRAPH_APP_ID:
            entry["resourceAccess"].append({"id": GDAP_READ_WRITE, "type": "Scope"})
    assert admin_graph.patch(f"/applications/{app['object_id']}",
                             json={"requiredResourceAccess": access}).status_code == 204
    result, _client = consent(ep, authority, app)
    tokens = exchange(context, client_id=app["app_id"], client_secret=app["secret"], tenant=ep["partner_tenant_id"],
                      refresh_token=result["refresh_token"], resources=["graph"])["tokens"]
    token = tokens["graph"]["access_token"]
    return {"token": token, "graph": graph_session(ep, token)}


def unique_name(prefix: str = "unit") -> str:
    return f"{prefix} {uuid.uuid4().hex[:12]}"


def create_relationship(graph: Any, tenant_id: str, name: str | None = None, roles=(HELPDESK_ADMINISTRATOR,),
                        duration: str = "P30D", auto_extend: str = "PT0S") -> dict[str, Any]:
    made = graph.post(RELATIONSHIPS, json={
        "displayName": name or unique_name(), "duration": duration, "customer": {"tenantId": tenant_id},
        "autoExtendDuration": auto_extend,
        "accessDetails": {"unifiedRoles": [{"roleDefinitionId": role} for role in roles]}})
    assert made.status_code == 201, made.text
    MADE.append(made.json()["id"])
    return made.json()


def set_relationship(api: Any, relationship_id: str, **changes: Any) -> None:
    """status, endsInDays, autoExtendDays: as Partner Center or the customer would change them."""
    assert api.call("POST", "/gdap-relationship", dict(changes, id=relationship_id))["affected"] == 1
    MADE.append(relationship_id)


def active_relationship(graph: Any, api: Any, tenant_id: str, ends_in_days: float = 20, **kwargs: Any) -> dict[str, Any]:
    made = create_relationship(graph, tenant_id, **kwargs)
    set_relationship(api, made["id"], status="active", endsInDays=ends_in_days)
    return read_relationship(graph, made["id"])


def read_relationship(graph: Any, relationship_id: str) -> dict[str, Any]:
    found = graph.get(f"{RELATIONSHIPS}/{relationship_id}")
    assert found.status_code == 200, found.text
    return found.json()


def writes(api: Any) -> list[tuple[str, str, int]]:
    """The Graph writes the sandbox recorded so far: (method, path, status)."""
    return [(w["method"], w["path"].removeprefix("/v1.0"), w["status"]) for w in api.get("/writes")["writes"]
            if w["service"] == "graph"]


def writes_during(api: Any, action) -> tuple[Any, list[tuple[str, str, int]]]:
    before = len(writes(api))
    result = action()
    return result, writes(api)[before:]


@contextmanager
def gdap_timing(api: Any, **seconds: float):
    """GDAP's intermediate statuses this long (activation, assignment, termination,
    deprovisioning) while the block runs; the timing before is restored after it."""
    before = api.get("/gdap-timing")
    api.call("PUT", "/gdap-timing", dict(before, **seconds))
    try:
        yield
    finally:
        api.call("PUT", "/gdap-timing", before)


def ended_after(api: Any, gdap: dict[str, Any], tenant_id: str):
    """Run the module's tests, then end every relationship of the customer they made (those of
    MADE and those the code under test requested): an active one with an assignment to the
    service account's group would let it into the customer tenant."""
    yield
    listed = gdap["graph"].get(RELATIONSHIPS, params={"$top": "300"}).json()["value"]
    mine = set(MADE) | {r["id"] for r in listed if r["customer"]["tenantId"] == tenant_id}
    for relationship_id in mine:
        api.call("POST", "/gdap-relationship", {"id": relationship_id, "status": "terminated"})
    MADE.clear()
