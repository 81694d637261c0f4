# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

The SAM app's application consent in customer tenants, through Partner Center (an app + user
token of the partner tenant): the grants' normal form, the consent calls, and one customer's
create, replace or delete."""

from __future__ import annotations

from typing import Any, NoReturn

from ._catalog import AZURE_SERVICE_MANAGEMENT_APP_ID, GRAPH_APP_ID, PARTNER_CENTER_APP_ID
from ._errors import SecureAppError
from ._fanout import customer_entry
from ._http import StatusHint, StatusHints
from ._partnercenter import PartnerCenter

# What the SAM app asks for in a customer when no grants are given: its own delegated permissions
# (those app_registration requests) for each resource it reaches there.
DEFAULT_GRANTS = (
    {"enterprise_application_id": GRAPH_APP_ID, "scopes": ["Directory.AccessAsUser.All"]},
    {"enterprise_application_id": PARTNER_CENTER_APP_ID, "scopes": ["user_impersonation"]},
    {"enterprise_application_id": AZURE_SERVICE_MANAGEMENT_APP_ID, "scopes": ["user_impersonation"]},
)


def normalize_grants(grants: Any) -> list[dict[str, Any]]:
    """Grants in the module's form, from the module's or Partner Center's form: one entry per
    resource (lower-case id), its scopes once each and sorted. Entra compares scope names without
    regard to case, so two spellings of one scope are one scope (the first spelling is kept)."""
    scopes_by_application: dict[str, dict[str, str]] = {}
    for grant in grants or []:
        application = grant.get("enterprise_application_id") or grant.get("enterpriseApplicationId") or ""
        scopes = grant.get("scopes") if "scopes" in grant else str(grant.get("scope") or "").split(",")
        if isinstance(scopes, str):
            scopes = scopes.split(",")
        kept = scopes_by_application.setdefault(str(application).lower(), {})
        for scope in (str(s).strip() for s in scopes or []):
            if scope:
                kept.setdefault(scope.lower(), scope)
    return [{"enterprise_application_id": application,
             "scopes": [kept[key] for key in sorted(kept)]}
            for application, kept in sorted(scopes_by_application.items())]


def _scope_sets(grants: list[dict[str, Any]]) -> dict[str, set[str]]:
    return {g["enterprise_application_id"]: {s.lower() for s in g["scopes"]} for g in normalize_grants(grants)}


def same_grants(held: list[dict[str, Any]] | None, wanted: list[dict[str, Any]]) -> bool:
    """The same resources with the same scopes, in any order and case (as Entra compares them)."""
    return held is not None and _scope_sets(held) == _scope_sets(wanted)


def _same_state(one: list[dict[str, Any]] | None, other: list[dict[str, Any]] | None) -> bool:
    return one is None and other is None or (one is not None and same_grants(other, one))


def covers(held: list[dict[str, Any]] | None, wanted: list[dict[str, Any]]) -> bool:
    """Whether the grants held include every wanted scope of every wanted resource."""
    if held is None:
        return False
    have = _scope_sets(held)
    return all(scopes <= have.get(application, set()) for application, scopes in _scope_sets(wanted).items())


def check_grants(grants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    normalized = normalize_grants(grants)
    for grant in normalized:
        if not grant["enterprise_application_id"] or not grant["scopes"]:
            raise SecureAppError("Each grants entry needs enterprise_application_id (the resource's app id, such as "
                                 f"{GRAPH_APP_ID} for Microsoft Graph) and at least one scope.")
    if not normalized:
        raise SecureAppError("grants is empty: name at least one resource and its scopes, or leave grants out "
                             "for the SAM app's own delegated permissions.")
    return normalized


class Consents(PartnerCenter):
    """The SAM app's application consent in customer tenants (app + user token, partner tenant)."""

    def status_hints(self) -> StatusHints:
        return {
            **super().status_hints(),
            403: StatusHint("Partner Center refused it: the service account's GDAP roles in this customer cannot "
                            "grant consents; add Cloud Application Administrator (or Privileged Role Administrator) "
                            "to an access assignment of the relationship for a group the account is in.",
                            code="consent_forbidden"),
            404: StatusHint("Partner Center does not know this customer for the partner: check the customer's "
                            "tenant id.", code="customer_not_found"),
        }

    def find(self, customer: str, application_id: str) -> dict[str, Any] | None:
        found = self._get(f"/customers/{customer}/applicationconsents",
                          f"read the application consents of customer {customer}")
        for item in (found or {}).get("items") or []:
            if str(item.get("applicationId", "")).lower() == application_id.lower():
                return item
        return None

    def create(self, customer: str, application_id: str, display_name: str | None,
               grants: list[dict[str, Any]]) -> bool:
        """True when created; False when Partner Center says it exists (made meanwhile)."""
        body: dict[str, Any] = {"applicationId": application_id, "applicationGrants": [
            {"enterpriseApplicationId": g["enterprise_application_id"], "scope": ",".join(g["scopes"])}
            for g in grants]}
        if display_name:
            body["displayName"] = display_name
        response = self._send("POST", f"/customers/{customer}/applicationconsents",
                              f"consent the SAM app in customer {customer}", expected=(201, 409), json=body)
        return response.status_code == 201

    def delete(self, customer: str, application_id: str) -> bool:
        """True when deleted; False when there was none (a 404 here is the consent's, not the customer's)."""
        return self._send("DELETE", f"/customers/{customer}/applicationconsents/{application_id}",
                          f"remove the SAM app's consent in customer {customer}", expected=(204,),
                          missing_ok=True) is not None


def apply_consent(consents: Consents, customer: str, *, application_id: str, display_name: str | None,
                  grants: list[dict[str, Any]], present: bool, check_mode: bool,
                  at_least: bool = False) -> dict[str, Any]:
    """One customer: read, then create, replace or delete. Partner Center has no update, so a
    replace is a delete and a create; when the create fails after the delete, the previous grants
    are posted again, and when that fails too the entry says plainly that the consent was removed.
    at_least (the default grants): a consent that already holds every wanted scope is left as it
    is, and one that lacks some is replaced by what it held plus what is wanted, so the default
    never takes a scope away. The entry's before, after and changed always tell what the service
    holds (after the error, if any)."""
    def fill(entry: dict[str, Any]) -> None:
        existing = consents.find(customer, application_id)
        before = _grants_of(existing)
        wanted = normalize_grants((before or []) + grants) if at_least and present else grants
        entry.update(before=before, after=before)
        if not present and before is None:
            return
        if present and (covers(before, grants) if at_least else same_grants(before, grants)):
            return
        if check_mode:
            entry.update(changed=True, after=wanted if present else None)
            return
        if before is not None:
            removed = consents.delete(customer, application_id)
            # Not removed: gone meanwhile, so there is nothing of ours to replace or restore.
            entry.update(changed=removed, after=None)
            if not removed:
                entry["before"] = before = None
        if not present:
            return
        try:
            created = consents.create(customer, application_id, display_name, wanted)
        except SecureAppError as error:
            if before is None:
                raise
            _restore(consents, customer, application_id, existing, before, entry, error)
        if created:
            entry.update(changed=True, after=wanted)
        else:  # made by someone else between our read (or delete) and our create: what it holds now
            entry["after"] = _held(consents, customer, application_id)
            entry["changed"] = not _same_state(entry["after"], before)

    return customer_entry(customer, fill, changed=False, before=None, after=None)


def _restore(consents: Consents, customer: str, application_id: str, existing: dict[str, Any],
             before: list[dict[str, Any]], entry: dict[str, Any], error: SecureAppError) -> NoReturn:
    """The create of a replace failed after the delete: post the previous grants again, then
    raise the create's error saying what the customer holds now."""
    try:
        restored = consents.create(customer, application_id, existing.get("displayName"), before)
        held = before if restored else _held(consents, customer, application_id)
    except SecureAppError:  # the entry already says removed: changed, after null
        raise SecureAppError(
            f"{error.message.rstrip('.')}; the previous consent had been removed to replace it and could not be "
            f"restored, so the SAM app has no consent in customer {customer} now: run the task again once the cause "
            "is fixed.", code="consent_removed") from None
    entry.update(changed=not _same_state(held, before), after=held)
    raise SecureAppError(f"{error.message.rstrip('.')}; the previous consent was restored, unchanged." if restored
                         else f"{error.message.rstrip('.')}; meanwhile a consent was made by someone else.",
                         code=error.code) from None


def _grants_of(consent: dict[str, Any] | None) -> list[dict[str, Any]] | None:
    return normalize_grants(consent.get("applicationGrants")) if consent else None


def _held(consents: Consents, customer: str, application_id: str) -> list[dict[str, Any]] | None:
    return _grants_of(consents.find(customer, application_id))
