# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

The SAM app's certificate and federated credentials as a desired state, beside its client secrets
(_app_registration): a certificate made where the task runs (or one given) added to the app's key
credentials - the first through an update of the application, later ones through addKey with a
proof of possession signed by a key the app has - and a federated identity credential trusting a
workload's issuer and subject. Old credentials go only in a later task (remove_others), once the
new one is stored and proven."""

from __future__ import annotations

import datetime
import re
import uuid
from typing import Any, Callable

from ._errors import SecureAppError
from ._graph import Graph
from ._sam_credential import Certificate, new_certificate
from ._times import parse_time

TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
FEDERATED_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def managed_certificates(app: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [k for k in app.get("keyCredentials") or [] if k.get("displayName") == name]


def certificate_views(app: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key_id": k.get("keyId"), "thumbprint": k.get("customKeyIdentifier"), "display_name": k.get("displayName"),
             "end_date_time": k.get("endDateTime")} for k in app.get("keyCredentials") or []]


def federated_view(credential: dict[str, Any]) -> dict[str, Any]:
    return {"id": credential.get("id"), "name": credential.get("name"), "issuer": credential.get("issuer"),
            "subject": credential.get("subject"), "audiences": list(credential.get("audiences") or [])}


def default_federated_name(secret_name: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", secret_name).strip("-_") or "partnercenter-secure-app"
    return (name + "-app")[:120] if len(name) < 3 else name[:120]


class AppCredentials:
    """Certificate and federated credentials of one app (the module's params name them)."""

    def __init__(self, graph: Graph, params: dict[str, Any], check_mode: bool, diff: dict[str, Any],
                 token_tenant_id: str | None, wrote: Callable[..., None] | None = None) -> None:
        self.graph = graph
        # Called after each write that went through (see _writes): a later failure keeps it.
        self.wrote: Callable[..., None] = wrote or (lambda done, **facts: None)
        self.params = params
        self.check_mode = check_mode
        self.diff = diff
        self.token_tenant_id = token_tenant_id
        self.changed = False

    # certificates ----------------------------------------------------------------------------------
    def ensure_certificate(self, app: dict[str, Any]) -> dict[str, Any] | None:
        """A new certificate when none this module manages is valid for secret_min_days, the one the
        caller holds (secret_key_id) is gone, the one given (certificate) is not on the app, or
        rotation is asked. Returns it once, with its private key; the old ones stay."""
        name = self.params["secret_name"]
        existing = managed_certificates(app, name)
        given = Certificate(self.params["certificate"]) if self.params.get("certificate") else None
        if given is not None:
            if any((k.get("customKeyIdentifier") or "").upper() == given.sha1_thumbprint for k in existing):
                return None
        else:
            held = self.params.get("secret_key_id")
            candidates = [k for k in existing if k.get("keyId") == held] if held else existing
            horizon = _now() + datetime.timedelta(days=self.params["secret_min_days"])
            if not self.params["rotate_secret"] and any((parse_time(k.get("endDateTime")) or horizon) > horizon
                                                        for k in candidates):
                return None
        self.changed = True
        self.diff["after"]["certificate"] = "rotated" if existing else "created"
        if self.check_mode:
            return None
        if given is not None:
            certificate, pem = given, self.params["certificate"].strip() + "\n"
        else:
            certificate, pem = new_certificate(app.get("displayName") or name, self.params["secret_valid_days"])
        key_id = self._add_certificate(app, certificate, name)
        self.wrote(f"certificate {key_id} had been added")
        return {"pem": pem, "key_id": key_id, "thumbprint": certificate.sha1_thumbprint,
                "end_date_time": certificate.not_after, "replaced_key_ids": [k["keyId"] for k in existing]}

    def _proof_key(self, app: dict[str, Any]) -> Certificate | None:
        """The certificate the caller holds (current_certificate), when it is a valid key of the app."""
        if not self.params.get("current_certificate"):
            return None
        held = Certificate(self.params["current_certificate"])
        now = _now()
        for key in app.get("keyCredentials") or []:
            end = parse_time(key.get("endDateTime"))
            if (key.get("customKeyIdentifier") or "").upper() == held.sha1_thumbprint and end and end > now:
                return held
        raise SecureAppError(f"current_certificate is not a valid certificate of app {app.get('appId')}, so it "
                             "cannot prove possession: give the certificate the vault holds for the app, or omit it "
                             "(the certificates are then replaced by an update of the application).",
                             code="certificate_not_registered")

    def _add_certificate(self, app: dict[str, Any], certificate: Certificate, name: str) -> str:
        entry = {"type": "AsymmetricX509Cert", "usage": "Verify", "key": certificate.public_der_base64(),
                 "displayName": name}
        prover = self._proof_key(app)
        if prover is not None:  # Graph's way to roll keys: addKey, proven with a key the app has
            added = self.graph.add_key(app["id"], entry, prover.proof_of_possession(app["id"]))
            return added["keyId"]
        # The first key (or a caller holding none): an update of the application, keeping the others.
        entry["keyId"] = str(uuid.uuid4())
        self.graph.update_application(app["id"], {"keyCredentials": self.graph.key_credentials(app["id"]) + [entry]})
        return entry["keyId"]

    # federated credentials ---------------------------------------------------------------------------
    def desired_federated(self) -> dict[str, Any]:
        spec = dict(self.params.get("federated_credential") or {})
        name = spec.get("name") or default_federated_name(self.params["secret_name"])
        if not FEDERATED_NAME.match(name):
            raise SecureAppError(f"federated_credential name {name!r} is not valid: 3 to 120 letters, digits, '-' and "
                                 "'_', starting with a letter or digit.", code="invalid_federated_credential")
        if not spec.get("subject"):
            raise SecureAppError("credential_kind federated needs federated_credential.subject: for a managed "
                                 "identity, its object (principal) id; for another issuer, the subject its tokens "
                                 "carry.", code="invalid_federated_credential")
        issuer = spec.get("issuer")
        if not issuer:
            if not self.token_tenant_id:
                raise SecureAppError("federated_credential.issuer is needed (the tenant of the token is unknown).",
                                     code="invalid_federated_credential")
            issuer = f"{self.graph.cloud.login}/{self.token_tenant_id}/v2.0"  # a managed identity of this tenant
        body = {"name": name, "issuer": issuer, "subject": spec["subject"],
                "audiences": list(spec.get("audiences") or [TOKEN_EXCHANGE_AUDIENCE])}
        if spec.get("description") is not None:
            body["description"] = spec["description"]
        return body

    def ensure_federated(self, app: dict[str, Any], current: list[dict[str, Any]]) -> dict[str, Any]:
        wanted = self.desired_federated()
        found = next((c for c in current if (c.get("name") or "").lower() == wanted["name"].lower()), None)
        if found is None:
            self.changed = True
            self.diff["after"]["federated_credential"] = federated_view(wanted)
            if self.check_mode:
                return federated_view(wanted)
            created = self.graph.create_federated_credential(app["id"], wanted)
            self.wrote(f"federated credential {wanted['name']!r} had been created")
            return federated_view(created)
        changes = {k: v for k, v in wanted.items() if k != "name" and found.get(k) != v}
        if changes:
            self.changed = True
            self.diff["before"]["federated_credential"] = federated_view(found)
            self.diff["after"]["federated_credential"] = federated_view(dict(found, **changes))
            if not self.check_mode:
                self.graph.update_federated_credential(app["id"], found["id"], changes)
                self.wrote(f"federated credential {wanted['name']!r} had been updated")
            found = dict(found, **changes)
        return federated_view(found)

    def federated_current(self, app: dict[str, Any]) -> list[dict[str, Any]]:
        return self.graph.federated_credentials(app["id"])

    @staticmethod
    def view(credential: dict[str, Any]) -> dict[str, Any]:
        return federated_view(credential)

    # the last step of a rotation or migration --------------------------------------------------------
    def remove_other_certificates(self, app: dict[str, Any], keep: str | None,
                                  removed_before: list[str] | None = None) -> list[str]:
        """Every managed certificate but the one kept (none when the kind is no longer certificate):
        removeKey proven with the kept key when the caller holds it, else an update of the app.
        removed_before: the secrets this task removed already, kept in a failure's result."""
        name = self.params["secret_name"]
        others = [k["keyId"] for k in managed_certificates(app, name) if k.get("keyId") != keep]
        if not others:
            return []
        self.changed = True
        self.diff["before"]["certificates"] = sorted(k["keyId"] for k in managed_certificates(app, name))
        self.diff["after"]["certificates"] = [keep] if keep else []
        if self.check_mode:
            return others
        prover = self._proof_key(app) if keep else None
        removed = list(removed_before or [])
        if prover is not None:
            for key_id in others:
                self.graph.remove_key(app["id"], key_id, prover.proof_of_possession(app["id"]))
                removed.append(key_id)
                self.wrote(f"certificate {key_id} had been removed", removed_key_ids=list(removed))
        else:
            kept = [k for k in self.graph.key_credentials(app["id"]) if k.get("keyId") not in others]
            self.graph.update_application(app["id"], {"keyCredentials": kept})
            self.wrote(f"certificates {', '.join(others)} had been removed", removed_key_ids=removed + others)
        return others
