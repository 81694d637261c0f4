"""SQLite state of the sandbox and its clock.

One connection, used only from the event loop thread, so no locking is needed; WAL keeps writes
cheap enough for hundreds of token responses a second."""
from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterable

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS tenants(
    id TEXT PRIMARY KEY, domain TEXT UNIQUE, display_name TEXT, kind TEXT, cloud TEXT,
    relationship TEXT, partner_id TEXT);
CREATE TABLE IF NOT EXISTS directory(
    id TEXT PRIMARY KEY, tenant_id TEXT, kind TEXT, app_id TEXT, display_name TEXT, data TEXT);
CREATE INDEX IF NOT EXISTS directory_by_kind ON directory(tenant_id, kind);
CREATE INDEX IF NOT EXISTS directory_by_app ON directory(app_id);
CREATE TABLE IF NOT EXISTS members(group_id TEXT, member_id TEXT, PRIMARY KEY(group_id, member_id));
CREATE TABLE IF NOT EXISTS passwords(
    key_id TEXT PRIMARY KEY, app_object_id TEXT, secret_hash TEXT, hint TEXT, display_name TEXT,
    start REAL, end REAL);
CREATE TABLE IF NOT EXISTS grants(
    tenant_id TEXT, client_app_id TEXT, resource_app_id TEXT, scopes TEXT, principal_id TEXT,
    PRIMARY KEY(tenant_id, client_app_id, resource_app_id, principal_id));
CREATE TABLE IF NOT EXISTS app_roles(
    tenant_id TEXT, client_app_id TEXT, resource_app_id TEXT, role TEXT,
    PRIMARY KEY(tenant_id, client_app_id, resource_app_id, role));
CREATE TABLE IF NOT EXISTS app_consents(
    customer_tenant_id TEXT, application_id TEXT, display_name TEXT, grants TEXT, created REAL,
    PRIMARY KEY(customer_tenant_id, application_id));
CREATE TABLE IF NOT EXISTS refresh_tokens(
    hash TEXT PRIMARY KEY, id TEXT, client_id TEXT, user_id TEXT, home_tenant_id TEXT,
    issued REAL, last_used REAL, revoked INTEGER, mfa INTEGER, confidential INTEGER);
-- Which refresh token each refresh grant presented, for which tenant (the test API tells it).
CREATE TABLE IF NOT EXISTS refresh_token_uses(token_id TEXT, tenant_id TEXT, at REAL);
CREATE TABLE IF NOT EXISTS auth_codes(hash TEXT PRIMARY KEY, data TEXT, expires REAL, used INTEGER);
CREATE TABLE IF NOT EXISTS logins(id TEXT PRIMARY KEY, data TEXT, expires REAL);
CREATE TABLE IF NOT EXISTS device_codes(
    hash TEXT PRIMARY KEY, user_code TEXT UNIQUE, data TEXT, status TEXT, user_id TEXT,
    mfa INTEGER, expires REAL, next_poll REAL);
CREATE TABLE IF NOT EXISTS secrets(
    name TEXT, version TEXT, value TEXT, content_type TEXT, tags TEXT, enabled INTEGER,
    nbf INTEGER, exp INTEGER, created INTEGER, updated INTEGER, PRIMARY KEY(name, version));
CREATE TABLE IF NOT EXISTS deleted_secrets(name TEXT PRIMARY KEY, deleted INTEGER, purge INTEGER);
CREATE TABLE IF NOT EXISTS vault_access(object_id TEXT PRIMARY KEY, permissions TEXT);
CREATE TABLE IF NOT EXISTS subscriptions(id TEXT PRIMARY KEY, tenant_id TEXT, display_name TEXT, state TEXT);
CREATE TABLE IF NOT EXISTS issued_tokens(
    jti TEXT PRIMARY KEY, kind TEXT, client_id TEXT, subject TEXT, tenant_id TEXT, audience TEXT,
    scopes TEXT, issued REAL);
CREATE TABLE IF NOT EXISTS gdap_relationships(
    id TEXT PRIMARY KEY, partner_id TEXT, customer_id TEXT, display_name TEXT, status TEXT, roles TEXT,
    created REAL, activated REAL, duration_days INTEGER, auto_extend_days INTEGER, modified REAL,
    version INTEGER DEFAULT 1, approved REAL, termination_requested REAL);
CREATE TABLE IF NOT EXISTS gdap_assignments(
    id TEXT PRIMARY KEY, relationship_id TEXT, group_id TEXT, roles TEXT, status TEXT, created REAL, modified REAL,
    version INTEGER DEFAULT 1, ready REAL, pending_roles TEXT, deleted REAL);
CREATE TABLE IF NOT EXISTS gdap_requests(
    id TEXT PRIMARY KEY, relationship_id TEXT, action TEXT, created REAL);
CREATE TABLE IF NOT EXISTS gdap_operations(
    id TEXT PRIMARY KEY, relationship_id TEXT, assignment_id TEXT, operation_type TEXT, data TEXT, created REAL,
    done REAL);
CREATE TABLE IF NOT EXISTS writes(service TEXT, method TEXT, path TEXT, status INTEGER, at REAL);
-- Every lookup a request makes goes through an index, so a request costs the same whatever the
-- sandbox holds (a scan of 5,000 tenants per token request made the test bed slower than the
-- collection it measures).
CREATE INDEX IF NOT EXISTS tenants_by_id ON tenants(lower(id));
CREATE INDEX IF NOT EXISTS tenants_by_domain ON tenants(lower(domain));
CREATE INDEX IF NOT EXISTS tenants_by_partner ON tenants(partner_id, kind, domain);
CREATE INDEX IF NOT EXISTS directory_domains ON directory(lower(id)) WHERE kind='domain';
CREATE INDEX IF NOT EXISTS members_by_member ON members(member_id);
CREATE INDEX IF NOT EXISTS gdap_relationships_by_partner ON gdap_relationships(partner_id, created, id);
CREATE INDEX IF NOT EXISTS gdap_relationships_by_customer ON gdap_relationships(partner_id, customer_id);
CREATE INDEX IF NOT EXISTS gdap_assignments_by_relationship ON gdap_assignments(relationship_id, created, id);
CREATE INDEX IF NOT EXISTS gdap_requests_by_relationship ON gdap_requests(relationship_id, created, id);
CREATE INDEX IF NOT EXISTS gdap_operations_by_relationship ON gdap_operations(relationship_id, created, id);
"""


class Store:
    def __init__(self, path: Path) -> None:
        # Created 0600 before SQLite opens it (SQLite would use the umask); its -wal and -shm files
        # take the database file's mode.
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        os.chmod(path, 0o600)
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self._clock_offset = float(self.get_meta("clock_offset") or 0)

    # clock -----------------------------------------------------------------------------------
    def now(self) -> float:
        return time.time() + self._clock_offset

    def advance_clock(self, seconds: float) -> float:
        self._clock_offset += seconds
        self.set_meta("clock_offset", str(self._clock_offset))
        return self.now()

    # generic ---------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", (key, value))

    def execute(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        return self.db.execute(sql, tuple(params))

    def one(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        return self.db.execute(sql, tuple(params)).fetchone()

    def all(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        return self.db.execute(sql, tuple(params)).fetchall()

    # directory objects -----------------------------------------------------------------------
    def put_object(self, kind: str, tenant_id: str, obj: dict[str, Any]) -> dict[str, Any]:
        self.db.execute(
            "INSERT OR REPLACE INTO directory(id, tenant_id, kind, app_id, display_name, data)"
            " VALUES(?, ?, ?, ?, ?, ?)",
            (obj["id"], tenant_id, kind, obj.get("appId"), obj.get("displayName"), json.dumps(obj)),
        )
        return obj

    def get_object(self, object_id: str, kind: str | None = None, tenant_id: str | None = None):
        row = self.one("SELECT * FROM directory WHERE id=?", (object_id,))
        if row is None or (kind and row["kind"] != kind) or (tenant_id and row["tenant_id"] != tenant_id):
            return None
        return json.loads(row["data"])

    def objects(self, tenant_id: str, kind: str) -> list[dict[str, Any]]:
        rows = self.all(
            "SELECT data FROM directory WHERE tenant_id=? AND kind=? ORDER BY rowid", (tenant_id, kind)
        )
        return [json.loads(row[0]) for row in rows]

    def delete_object(self, object_id: str) -> None:
        self.db.execute("DELETE FROM directory WHERE id=?", (object_id,))
        self.db.execute("DELETE FROM members WHERE group_id=? OR member_id=?", (object_id, object_id))

    def application_by_app_id(self, app_id: str):
        """The application object of a client id, wherever it is registered (multi-tenant apps
        live in their home tenant)."""
        row = self.one("SELECT tenant_id, data FROM directory WHERE kind='application' AND app_id=?", (app_id,))
        return (row["tenant_id"], json.loads(row["data"])) if row else (None, None)

    def service_principal(self, tenant_id: str, app_id: str):
        row = self.one(
            "SELECT data FROM directory WHERE kind='servicePrincipal' AND app_id=? AND tenant_id IN (?, '*')",
            (app_id, tenant_id),
        )
        return json.loads(row[0]) if row else None

    # tenants ---------------------------------------------------------------------------------
    def tenant(self, id_or_domain: str):
        key = id_or_domain.lower()
        # Two indexed lookups (an OR of both would scan the table).
        row = self.one("SELECT * FROM tenants WHERE lower(id)=?", (key,)) or \
            self.one("SELECT * FROM tenants WHERE lower(domain)=?", (key,))
        if row is None:
            row = self.one(
                "SELECT t.* FROM tenants t JOIN directory d ON d.tenant_id=t.id"
                " WHERE d.kind='domain' AND lower(d.id)=?",
                (key,),
            )
        return dict(row) if row else None

    def record_write(self, service: str, method: str, path: str, status: int) -> None:
        self.db.execute(
            "INSERT INTO writes(service, method, path, status, at) VALUES(?, ?, ?, ?, ?)",
            (service, method, path, status, self.now()),
        )
