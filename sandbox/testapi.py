"""The sandbox's own API for tests and demos, on a port of its own, separate from the emulated
services: inspect state, inject faults, move the clock, revoke or expire credentials, and
complete sign-ins unattended. No value of a secret or token is ever returned."""
from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from . import gdap, gdap_approval, identity
from .context import json_response, sandbox_of
from .ids import hash_secret, stable_id


def _objects(store, kind: str) -> list[dict[str, Any]]:
    return [dict(json.loads(r["data"]), tenantId=r["tenant_id"]) for r in store.all(
        "SELECT tenant_id, data FROM directory WHERE kind=? AND tenant_id != '*' ORDER BY rowid", (kind,))]


def _strip(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if not k.startswith("x_")}


async def state(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    store = sandbox.store
    partner = sandbox.seed_info["partner_tenant_id"]
    apps = []
    for app in _objects(store, "application"):
        if app.get("x_first_party"):
            continue
        app = _strip(app)
        app["passwords"] = [{"keyId": r["key_id"], "hint": r["hint"], "displayName": r["display_name"],
                             "start": r["start"], "end": r["end"]} for r in store.all(
            "SELECT * FROM passwords WHERE app_object_id=? ORDER BY start", (app["id"],))]
        apps.append(app)
    body = {
        "now": sandbox.now(),
        "partner_tenant_id": partner,
        "applications": apps,
        "service_principals": [_strip(sp) for sp in _objects(store, "servicePrincipal")],
        "groups": [dict(_strip(g), members=[r["member_id"] for r in store.all(
            "SELECT member_id FROM members WHERE group_id=? ORDER BY rowid", (g["id"],))])
            for g in _objects(store, "group")],
        "grants": [dict(r) for r in store.all("SELECT * FROM grants")],
        "app_consents": [dict(r, grants=json.loads(r["grants"])) for r in store.all("SELECT * FROM app_consents")],
        "refresh_tokens": [{k: r[k] for k in r.keys() if k != "hash"} for r in store.all(
            "SELECT * FROM refresh_tokens ORDER BY issued")],
        "secrets": [{"name": r["name"], "version": r["version"], "contentType": r["content_type"],
                     "tags": json.loads(r["tags"] or "{}"), "enabled": bool(r["enabled"]), "exp": r["exp"],
                     "created": r["created"],
                     "deleted": store.one("SELECT 1 FROM deleted_secrets WHERE name=?", (r["name"],)) is not None}
                    for r in store.all("SELECT * FROM secrets ORDER BY name, created, rowid")],
        "issued_tokens": store.one("SELECT count(*) FROM issued_tokens")[0],
        "issued_tokens_by_tenant": {r["tenant_id"]: r["n"] for r in store.all(
            "SELECT tenant_id, count(*) AS n FROM issued_tokens GROUP BY tenant_id")},
        "writes": _write_counts(store),
        "counters": sandbox.counters,
    }
    return json_response(body)


def _write_counts(store) -> dict[str, int]:
    return {r["service"]: r["n"] for r in store.all("SELECT service, count(*) AS n FROM writes GROUP BY service")}


async def writes(request: web.Request) -> web.Response:
    store = sandbox_of(request).store
    rows = [dict(r) for r in store.all("SELECT * FROM writes ORDER BY rowid")]
    return json_response({"counts": _write_counts(store), "writes": rows})


async def set_faults(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    body = await request.json()
    rules = body if isinstance(body, list) else [body]
    for rule in rules:
        re.compile(rule.get("path", ".*"))
        rule.setdefault("hits", 0)
    if request.method == "PUT":
        sandbox.faults[:] = rules
    else:
        sandbox.faults.extend(rules)
    return json_response({"faults": sandbox.faults})


async def counters(request: web.Request) -> web.Response:
    return json_response({"counters": sandbox_of(request).counters})


async def get_faults(request: web.Request) -> web.Response:
    return json_response({"faults": sandbox_of(request).faults})


async def clear_faults(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    hits = sum(rule.get("hits", 0) for rule in sandbox.faults)
    sandbox.faults.clear()
    return json_response({"cleared_hits": hits})


async def clock(request: web.Request) -> web.Response:
    body = await request.json()
    return json_response({"now": sandbox_of(request).store.advance_clock(float(body.get("advance_seconds", 0)))})


def _token_filter(body: dict[str, Any]) -> tuple[str, list[Any]]:
    clauses, params = ["1=1"], []
    if body.get("user_id"):
        clauses.append("user_id=?")
        params.append(body["user_id"])
    if body.get("refresh_token"):
        clauses.append("hash=?")
        params.append(hash_secret(body["refresh_token"]))
    if body.get("client_id"):
        clauses.append("client_id=?")
        params.append(body["client_id"])
    return " AND ".join(clauses), params


async def refresh_tokens(request: web.Request) -> web.Response:
    """revoke: 70008 (revoked); expire: 70008 (expired); inactive: 700082 (unused for 90 days);
    info: the issue and last use of the matching tokens, and the tenants each was presented for."""
    sandbox = sandbox_of(request)
    body = await request.json() if request.can_read_body else {}
    if body.get("upn"):
        _home, user = identity.find_user_by_upn(sandbox, body["upn"])
        body["user_id"] = user["id"] if user else "none"
    where, params = _token_filter(body)
    action = request.match_info["action"]
    if action == "info":  # when each matching token was issued and used, and where; never a value
        rows = sandbox.store.all(f"SELECT id, issued, last_used, revoked FROM refresh_tokens WHERE {where}", params)
        return json_response({"tokens": [dict(row, used_in=[use["tenant_id"] for use in sandbox.store.all(
            "SELECT tenant_id FROM refresh_token_uses WHERE token_id=? ORDER BY rowid", (row["id"],))])
            for row in rows]})
    if action == "revoke":
        sql = f"UPDATE refresh_tokens SET revoked=1 WHERE {where}"
    elif action == "expire":
        sql = f"UPDATE refresh_tokens SET revoked=2 WHERE {where}"
    elif action == "inactive":
        sql = (f"UPDATE refresh_tokens SET issued=issued-{identity.REFRESH_INACTIVE_SECONDS + 86400}, "
               f"last_used=last_used-{identity.REFRESH_INACTIVE_SECONDS + 86400} WHERE {where}")
    else:
        return json_response({"error": f"unknown action {action}"}, 400)
    return json_response({"affected": sandbox.store.execute(sql, params).rowcount})


async def expire_client_secrets(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    body = await request.json()
    _home, app = sandbox.store.application_by_app_id(body.get("app_id", ""))
    if app is None:
        return json_response({"error": "unknown app_id"}, 404)
    count = sandbox.store.execute("UPDATE passwords SET end=? WHERE app_object_id=?",
                                  (sandbox.now() - 60, app["id"])).rowcount
    return json_response({"affected": count})


async def approve_device_codes(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    body = await request.json()
    codes = [body["user_code"]] if body.get("user_code") else [
        r["user_code"] for r in sandbox.store.all("SELECT user_code FROM device_codes WHERE status='pending'")]
    approved = [c for c in codes if identity.approve_device_code(sandbox, c, body["upn"], body.get("mfa", True))]
    return json_response({"approved": len(approved)})


async def pending_device_codes(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    rows = sandbox.store.all("SELECT user_code, data FROM device_codes WHERE status='pending' AND expires>?",
                             (sandbox.now(),))
    return json_response({"pending": [dict(json.loads(r["data"]), user_code=r["user_code"]) for r in rows]})


async def auto_approve(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    if request.method == "PUT":
        body = await request.json()
        sandbox.auto_approve[:] = body if isinstance(body, list) else [body]
    return json_response({"auto_approve": sandbox.auto_approve})


async def add_relationship(request: web.Request) -> web.Response:
    """Change a customer's delegated admin relationship: DAP, none, or a GDAP kind of gdap.KINDS
    (GDAP alone is gdap_ready). Its GDAP relationships are replaced."""
    sandbox = sandbox_of(request)
    body = await request.json()
    store = sandbox.store
    kind = {"DAP": "dap", "GDAP": "gdap_ready"}.get(body["relationship"], body["relationship"])
    if kind not in gdap.KINDS:
        return json_response({"error": f"unknown relationship {body['relationship']!r}"}, 400)
    tenant = store.tenant(body["tenant_id"])
    if tenant is None or tenant["kind"] != "customer":
        return json_response({"affected": 0})
    for row in store.all("SELECT id FROM gdap_relationships WHERE customer_id=?", (tenant["id"],)):
        store.execute("DELETE FROM gdap_assignments WHERE relationship_id=?", (row["id"],))
    store.execute("DELETE FROM gdap_relationships WHERE customer_id=?", (tenant["id"],))
    store.execute("UPDATE tenants SET relationship=? WHERE id=?", (gdap.KINDS[kind]["relationship"], tenant["id"]))
    gdap.seed_relationship(store, stable_id=stable_id, partner_id=tenant["partner_id"], kind=kind,
                           group_ids=sandbox.seed_info["gdap_group_ids"],
                           customer={"tenant_id": tenant["id"], "name": tenant["display_name"]}, now=store.now())
    return json_response({"affected": 1})


async def set_gdap_relationship(request: web.Request) -> web.Response:
    """Change a GDAP relationship as Partner Center or the customer would: status (terminated,
    approvalPending, ...), autoExtendDays, or its end (endsInDays from now)."""
    sandbox = sandbox_of(request)
    body = await request.json()
    store = sandbox.store
    row = store.one("SELECT * FROM gdap_relationships WHERE customer_id=? OR id=?",
                    (body.get("tenant_id", ""), body.get("id", "")))
    if row is None:
        return json_response({"affected": 0})
    if "status" in body:
        store.execute("UPDATE gdap_relationships SET status=?, modified=? WHERE id=?",
                      (body["status"], store.now(), row["id"]))
    if "autoExtendDays" in body:
        store.execute("UPDATE gdap_relationships SET auto_extend_days=? WHERE id=?",
                      (int(body["autoExtendDays"]), row["id"]))
    if "endsInDays" in body:
        activated = store.now() + float(body["endsInDays"]) * gdap.DAY - row["duration_days"] * gdap.DAY
        store.execute("UPDATE gdap_relationships SET activated=? WHERE id=?", (activated, row["id"]))
    return json_response({"affected": 1})


async def approve_gdap(request: web.Request) -> web.Response:
    """Approve relationships awaiting approval as the customer's Global Administrator would through
    the invitation page: those named by id, those of a customer, or all."""
    sandbox = sandbox_of(request)
    body = await request.json() if request.can_read_body else {}
    rows = sandbox.store.all("SELECT * FROM gdap_relationships WHERE status='approvalPending'")
    approved = []
    for row in rows:
        if body.get("id") and row["id"] != body["id"]:
            continue
        if body.get("tenant_id") and row["customer_id"] != body["tenant_id"]:
            continue
        admin = next((u for u in sandbox.store.objects(row["customer_id"], "user")
                      if "Global Administrator" in u.get("x_roles", [])), None)
        if admin and gdap_approval.approve(sandbox, row["id"], admin, row["customer_id"]) is None:
            approved.append(row["id"])
    return json_response({"approved": approved})


async def gdap_timing(request: web.Request) -> web.Response:
    """How long GDAP's intermediate statuses last (seconds): activation, assignment, termination,
    deprovisioning."""
    sandbox = sandbox_of(request)
    if request.method == "PUT":
        body = await request.json()
        sandbox.gdap_timing = {key: float(body.get(key, value)) for key, value in gdap.TIMING.items()}
    return json_response(gdap.timing(sandbox))


async def info(request: web.Request) -> web.Response:
    return json_response({"status": "ok", "urls": sandbox_of(request).urls})


def routes() -> list[web.RouteDef]:
    return [
        web.get("/sandbox/health", info),
        web.get("/sandbox/state", state),
        web.get("/sandbox/writes", writes),
        web.get("/sandbox/counters", counters),
        web.get("/sandbox/faults", get_faults),
        web.post("/sandbox/faults", set_faults),
        web.put("/sandbox/faults", set_faults),
        web.delete("/sandbox/faults", clear_faults),
        web.post("/sandbox/clock", clock),
        web.post("/sandbox/refresh-tokens/{action}", refresh_tokens),
        web.post("/sandbox/client-secrets/expire", expire_client_secrets),
        web.post("/sandbox/device-codes/approve", approve_device_codes),
        web.get("/sandbox/device-codes", pending_device_codes),
        web.get("/sandbox/auto-approve", auto_approve),
        web.put("/sandbox/auto-approve", auto_approve),
        web.post("/sandbox/relationships", add_relationship),
        web.post("/sandbox/gdap-relationship", set_gdap_relationship),
        web.post("/sandbox/gdap-approve", approve_gdap),
        web.get("/sandbox/gdap-timing", gdap_timing),
        web.put("/sandbox/gdap-timing", gdap_timing),
    ]
