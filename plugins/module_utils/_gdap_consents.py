# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

The SAM app's application consent in customer tenants, through Partner Center (an app + user
token of the partner tenant): the grants' normal form, the consent calls, and one customer's
create, replace or delete."""

from __future__ import annotations

from typing import Any

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
    """Grants in the module's form, from the module's or Partner Center's form, order-free."""
    normalized = []
    for grant in grants or []:
        application = grant.get("enterprise_application_id") or grant.get("enterpriseApplicationId") or ""
        scopes = grant.get("scopes") if "scopes" in grant else str(grant.get("scope") or "").split(",")
        if isinstance(scopes, str):
            scopes = scopes.split(",")
        normalized.append({"enterprise_application_id": application.lower(),
                           "scopes": sorted({str(s).strip() for s in scopes if str(s).strip()})})
    return sorted(normalized, key=lambda g: g["enterprise_application_id"])


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
                  grants: list[dict[str, Any]], present: bool, check_mode: bool) -> dict[str, Any]:
    """One customer: read, then create, replace (delete and create: Partner Center has no update)
    or delete. The entry says what was there, what changed, or the error sentence."""
    def fill(entry: dict[str, Any]) -> None:
        existing = consents.find(customer, application_id)
        before = normalize_grants((existing or {}).get("applicationGrants")) if existing else None
        entry.update(before=before, after=grants if present else None)
        if (present and before == grants) or (not present and existing is None):
            return
        if check_mode:
            entry["changed"] = True
            return
        if existing is not None:
            consents.delete(customer, application_id)
        # False when someone created it between our delete and create: the next run compares again.
        entry["changed"] = consents.create(customer, application_id, display_name, grants) if present else True

    return customer_entry(customer, fill, changed=False, before=None, after=None)
