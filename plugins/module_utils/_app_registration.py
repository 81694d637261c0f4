# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

The SAM app registration as a desired state: found by app id or an unambiguous display name,
created or updated field by field, its service principal ensured, and a client secret it
manages created only when none is valid or rotation is asked. Each write is recorded as it goes
through (_writes), so a failure in a later step still says changed and which app now exists, and
a second run finishes what is missing."""

from __future__ import annotations

import datetime
from typing import Any

from ._app_credentials import AppCredentials, certificate_views, managed_certificates
from ._catalog import OOB_REDIRECT_URI, PARTNER_CENTER_REDIRECT_URI, normalize_resource_access, sam_required_resource_access
from ._errors import SecureAppError
from ._graph import Graph
from ._times import parse_time
from ._writes import Writes


def _iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def desired_fields(params: dict[str, Any], creating: bool) -> dict[str, Any]:
    """The Graph fields this task sets. Options left unset keep what an existing app has, and
    take the SAM defaults on a new one."""
    fields: dict[str, Any] = {"displayName": params["display_name"]} if params.get("display_name") else {}
    if params.get("sign_in_audience") or creating:
        fields["signInAudience"] = params.get("sign_in_audience") or "AzureADMultipleOrgs"
    if params.get("required_resource_access") is not None:
        fields["requiredResourceAccess"] = params["required_resource_access"]
    elif creating or params.get("include_aad_graph") is not None or params.get("gdap_write") is not None:
        fields["requiredResourceAccess"] = sam_required_resource_access(bool(params.get("include_aad_graph")),
                                                                        bool(params.get("gdap_write")))
    if params.get("redirect_uris") is not None or creating:
        uris = list(params.get("redirect_uris") or [PARTNER_CENTER_REDIRECT_URI])
        fields["web"] = {"redirectUris": [u for u in uris if u != OOB_REDIRECT_URI]}
    if params.get("oob_redirect") is not None or creating:
        fields["publicClient"] = {"redirectUris": [OOB_REDIRECT_URI] if params.get("oob_redirect") else []}
    if params.get("allow_public_client_flows") is not None or creating:
        fields["isFallbackPublicClient"] = bool(params.get("allow_public_client_flows"))
    return fields


def current_fields(app: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    """The same fields as they are on the app, for comparison and diff."""
    current: dict[str, Any] = {}
    for key in wanted:
        if key in ("web", "publicClient"):
            current[key] = {"redirectUris": list((app.get(key) or {}).get("redirectUris") or [])}
        elif key == "isFallbackPublicClient":
            current[key] = bool(app.get(key))
        else:
            current[key] = app.get(key)
    return current


def _comparable(fields: dict[str, Any]) -> dict[str, Any]:
    result = dict(fields)
    if "requiredResourceAccess" in result:
        result["requiredResourceAccess"] = normalize_resource_access(result["requiredResourceAccess"])
    for key in ("web", "publicClient"):
        if key in result:
            result[key] = {"redirectUris": sorted(result[key]["redirectUris"])}
    return result


def managed_secrets(app: dict[str, Any], secret_name: str) -> list[dict[str, Any]]:
    return [c for c in app.get("passwordCredentials") or [] if c.get("displayName") == secret_name]


def valid_secret(secrets: list[dict[str, Any]], min_days: int) -> dict[str, Any] | None:
    horizon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=min_days)
    for secret in secrets:
        end = parse_time(secret.get("endDateTime"))
        if end is None or end > horizon:
            return secret
    return None


def app_view(app: dict[str, Any], sp: dict[str, Any] | None, tenant_id: str | None) -> dict[str, Any]:
    return {
        "app_id": app.get("appId"), "object_id": app.get("id"), "display_name": app.get("displayName"),
        "sign_in_audience": app.get("signInAudience"),
        "redirect_uris": list((app.get("web") or {}).get("redirectUris") or []),
        "public_client_redirect_uris": list((app.get("publicClient") or {}).get("redirectUris") or []),
        "allow_public_client_flows": bool(app.get("isFallbackPublicClient")),
        "required_resource_access": app.get("requiredResourceAccess") or [],
        "service_principal_id": sp.get("id") if sp else None,
        "tenant_id": tenant_id,
        "managed_secrets": [{"key_id": c.get("keyId"), "hint": c.get("hint"), "end_date_time": c.get("endDateTime")}
                            for c in app.get("passwordCredentials") or []],
        "certificates": certificate_views(app),
    }


class AppRegistration:
    def __init__(self, graph: Graph, params: dict[str, Any], check_mode: bool, writes: Writes | None = None) -> None:
        self.graph = graph
        self.params = params
        self.check_mode = check_mode
        self.changed = False
        self.diff: dict[str, Any] = {"before": {}, "after": {}}
        self.token_tenant_id: str | None = None  # the tenant of the Graph token (a federated issuer's default)
        self.writes = writes or Writes()
        self.writes.advice = "run the task again to finish it"
        self.sp: dict[str, Any] | None = None  # the app's service principal, once known

    def wrote(self, done: str, app: dict[str, Any], **facts: Any) -> None:
        """One write went through: a later failure keeps changed, the diff and the app as it now is."""
        view = dict(app_view(app, self.sp, self.params.get("tenant_id")),
                    credential_kind=self.params.get("credential_kind") or "secret")
        self.writes.wrote(done, app=view, diff=self.diff, **facts)

    def find(self) -> dict[str, Any] | None:
        app_id, name = self.params.get("app_id"), self.params.get("display_name")
        if not app_id and not name:
            raise SecureAppError("Give display_name (to find or create the app) or app_id (to manage an existing one).")
        found = self.graph.find_applications(app_id=app_id, display_name=None if app_id else name)
        if app_id and not found and self.params["state"] == "present":
            raise SecureAppError(f"No application has app id {app_id} in this tenant: check app_id, or omit it to "
                                 "create the app by display_name.", code="app_not_found")
        if len(found) > 1:
            ids = ", ".join(sorted(a["appId"] for a in found))
            raise SecureAppError(f"{len(found)} applications are named {name!r} (app ids {ids}): give app_id to "
                                 "choose one, or delete the duplicates.", code="ambiguous_display_name")
        return found[0] if found else None

    def absent(self) -> dict[str, Any]:
        app = self.find()
        if app is None:
            return {"changed": False, "app": None}
        self.diff = {"before": {"app_id": app["appId"], "display_name": app.get("displayName")}, "after": {}}
        if not self.check_mode:
            self.graph.delete_application(app["id"])
        return {"changed": True, "app": None, "diff": self.diff}

    def present(self) -> dict[str, Any]:
        if self.params.get("remove_other_secrets") and self.params.get("rotate_secret"):
            raise SecureAppError("rotate_secret and remove_other_secrets are two steps of a rotation: run them as "
                                 "two tasks, storing and checking the new secret in between.")
        app = self.find()
        if app is None:
            wanted = desired_fields(self.params, creating=True)
            self.changed = True
            self.diff = {"before": {}, "after": _comparable(wanted)}
            if self.check_mode:
                return {"changed": True, "app": None, "diff": self.diff, "secret": None, "certificate": None}
            app = self.graph.create_application(wanted)
            self.wrote(f"app {app.get('displayName')!r} had been created first (app id {app.get('appId')}, object id "
                       f"{app.get('id')})", app)
        else:
            wanted = desired_fields(self.params, creating=False)
            current = current_fields(app, wanted)
            changes = {k: v for k, v in wanted.items() if _comparable({k: v}) != _comparable({k: current[k]})}
            if changes:
                self.changed = True
                self.diff = {"before": _comparable({k: current[k] for k in changes}), "after": _comparable(changes)}
                if not self.check_mode:
                    self.graph.update_application(app["id"], changes)
                    app = dict(app, **changes)
                    self.wrote(f"app {app.get('appId')} had been updated first ({', '.join(sorted(changes))})", app)
        sp = self.ensure_service_principal(app)
        result: dict[str, Any] = {"secret": None, "certificate": None}
        kind = self.params.get("credential_kind") or "secret"
        credentials = AppCredentials(self.graph, self.params, self.check_mode, self.diff, self.token_tenant_id,
                                     lambda done, **facts: self.wrote(done, app, **facts))
        federated = credentials.federated_current(app) if kind == "federated" and app.get("id") else []
        if self.params.get("remove_other_secrets"):
            result["removed_key_ids"] = self.remove_other_credentials(app, kind, credentials)
        elif kind == "certificate":
            result["certificate"] = credentials.ensure_certificate(app)
        elif kind == "federated":
            result["federated_credential"] = credentials.ensure_federated(app, federated)
        else:
            result["secret"] = self.ensure_secret(app)
        self.changed = self.changed or credentials.changed
        if (result["secret"] or result["certificate"] or result.get("removed_key_ids")) and not self.check_mode:
            app = self._read_again(app)
        view = app_view(app, sp, self.params.get("tenant_id"))
        view["credential_kind"] = kind
        if kind == "federated":
            view["federated_credentials"] = [credentials.view(c) for c in federated]
        return dict(result, changed=self.changed, app=view, diff=self.diff)

    def _read_again(self, app: dict[str, Any]) -> dict[str, Any]:
        """The app with its new credentials, for the result. Only a view: the writes went through, and
        failing here would lose the new secret or key, returned in no other result."""
        try:
            return self.graph.get_application(app["id"]) or app
        except SecureAppError:
            return app

    def remove_other_credentials(self, app: dict[str, Any], kind: str, credentials: AppCredentials) -> list[str]:
        """The last step of a rotation or a migration: only the credential of the kind kept stays
        (the secret or certificate secret_key_id names; for federated, no secret or certificate)."""
        keep = self.params.get("secret_key_id")
        if kind != "federated" and not keep:
            raise SecureAppError("remove_other_secrets needs secret_key_id: the key id of the secret or certificate "
                                 "you keep.")
        if kind == "secret" and keep not in {c.get("keyId") for c in app.get("passwordCredentials") or []}:
            raise SecureAppError(f"secret_key_id {keep} is not a secret of app {app.get('appId')}, so no secret was "
                                 "removed: give the key id of the secret you hold.", code="secret_not_found")
        if kind == "certificate" and keep not in {k.get("keyId") for k in managed_certificates(
                app, self.params["secret_name"])}:
            raise SecureAppError(f"secret_key_id {keep} is not a certificate of app {app.get('appId')} that this "
                                 "module manages, so nothing was removed: give the key id of the certificate you hold.",
                                 code="certificate_not_found")
        removed = self.remove_other_secrets(app, keep if kind == "secret" else None)
        return removed + credentials.remove_other_certificates(app, keep if kind == "certificate" else None, removed)

    def ensure_service_principal(self, app: dict[str, Any]) -> dict[str, Any] | None:
        sp = self.graph.find_service_principal(app["appId"])
        if sp is None:
            self.changed = True
            self.diff["after"]["service_principal"] = "created"
            if not self.check_mode:
                sp = self.graph.create_service_principal(app["appId"])
                self.sp = sp
                self.wrote(f"its service principal had been created (object id {sp.get('id')})", app)
        self.sp = sp
        return sp

    def ensure_secret(self, app: dict[str, Any]) -> dict[str, Any] | None:
        """A new secret when none is valid, the one the caller holds is gone, or rotation is asked.
        The old ones stay: removing them before the new one is stored and proven could leave the
        app with no secret anybody holds (see remove_other_secrets)."""
        name = self.params["secret_name"]
        existing = managed_secrets(app, name)
        held_key_id = self.params.get("secret_key_id")
        candidates = [s for s in existing if s.get("keyId") == held_key_id] if held_key_id else existing
        if valid_secret(candidates, self.params["secret_min_days"]) and not self.params["rotate_secret"]:
            return None
        self.changed = True
        self.diff["after"]["secret"] = "rotated" if existing else "created"
        if self.check_mode:
            return None
        end = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=self.params["secret_valid_days"])
        created = self.graph.add_password(app["id"], name, _iso(end))
        self.wrote(f"secret {created.get('keyId')} had been added", app)
        return {"value": created["secretText"], "key_id": created["keyId"], "hint": created.get("hint"),
                "end_date_time": created.get("endDateTime"),
                "replaced_key_ids": [old["keyId"] for old in existing]}

    def remove_other_secrets(self, app: dict[str, Any], keep: str | None) -> list[str]:
        """Every managed secret but the one kept (all of them when the app moves to another kind)."""
        others = [c["keyId"] for c in managed_secrets(app, self.params["secret_name"]) if c.get("keyId") != keep]
        if others:
            self.changed = True
            self.diff["before"]["secrets"] = sorted(others + ([keep] if keep else []))
            self.diff["after"]["secrets"] = [keep] if keep else []
            if not self.check_mode:
                removed: list[str] = []
                for key_id in others:
                    self.graph.remove_password(app["id"], key_id)
                    removed.append(key_id)
                    self.wrote(f"secret {key_id} had been removed", app, removed_key_ids=list(removed))
        return others
