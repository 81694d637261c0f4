# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

Customers under GDAP (granular delegated admin privileges): the partner's relationships and
their access assignments (Microsoft Graph, partner tenant), the SAM app's consent in each
customer (Partner Center application consents), and the per-customer verdict the customer_access
role reports."""

from __future__ import annotations

import datetime
import math
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from ._catalog import (AZURE_SERVICE_MANAGEMENT_APP_ID, GRAPH_APP_ID, PARTNER_CENTER_APP_ID)
from ._clouds import Cloud
from ._errors import SecureAppError, with_support_id
from ._graph import Graph, odata_quote
from ._http import HttpClient, json_body, service_error
from ._partnercenter import PartnerCenter

# Role template ids, the same in every tenant, with their names.
GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"
PRIVILEGED_ROLE_ADMINISTRATOR = "e8611ab8-c189-46e8-94e1-60213ab1f814"
CLOUD_APPLICATION_ADMINISTRATOR = "158c047a-c907-4556-b7ef-446551a6b5f7"
ROLE_NAMES = {
    GLOBAL_ADMINISTRATOR: "Global Administrator",
    PRIVILEGED_ROLE_ADMINISTRATOR: "Privileged Role Administrator",
    CLOUD_APPLICATION_ADMINISTRATOR: "Cloud Application Administrator",
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
    "88d8e3e3-8f55-4a1e-953a-9b9898b8876b": "Directory Readers",
    "f2ef992c-3afb-46b9-b7cf-a126ee74c451": "Global Reader",
    "729827e3-9c14-49f7-bb1b-9608f156bbb8": "Helpdesk Administrator",
    "fe930be7-5e62-47db-91af-98c3a49a38b1": "User Administrator",
    "f023fd81-a637-4b56-95fd-791ac0226033": "Service Support Administrator",
    "b0f54661-2d74-4c50-afa3-1ec803f12efe": "Billing Administrator",
    "4d6ac14f-3453-41d0-bef9-a3e0c569773a": "License Administrator",
    "29232cdf-9323-42fd-ade2-1d097af3e4de": "Exchange Administrator",
    "f28a1f50-f6e7-4571-818b-6a12f2af6b6c": "SharePoint Administrator",
    "69091246-20e8-4a56-aa4d-066075b2a7a8": "Teams Administrator",
    "194ae4cb-b126-40b2-bd5b-6091b380977d": "Security Administrator",
    "3a2c62db-5318-420d-8d74-23affee5d9d5": "Intune Administrator",
}
# The roles with which the service account may grant the SAM app's consent in a customer.
CONSENT_ROLE_IDS = (GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR, CLOUD_APPLICATION_ADMINISTRATOR)
# 'expiring' is still active: the relationship ends soon.
USABLE_STATUSES = ("active", "expiring")
RELATIONSHIP_PAGE_SIZE = 300  # the largest $top Graph accepts for these collections

# What the SAM app asks for in a customer when no grants are given: its own delegated permissions
# (those app_registration requests) for each resource it reaches there.
DEFAULT_GRANTS = (
    {"enterprise_application_id": GRAPH_APP_ID, "scopes": ["Directory.AccessAsUser.All"]},
    {"enterprise_application_id": PARTNER_CENTER_APP_ID, "scopes": ["user_impersonation"]},
    {"enterprise_application_id": AZURE_SERVICE_MANAGEMENT_APP_ID, "scopes": ["user_impersonation"]},
)


def role_name(role_id: str) -> str:
    return ROLE_NAMES.get(str(role_id).lower(), str(role_id))


def roles_of(access_details: dict[str, Any] | None) -> list[dict[str, str]]:
    return [{"id": role.get("roleDefinitionId"), "name": role_name(role.get("roleDefinitionId", ""))}
            for role in (access_details or {}).get("unifiedRoles") or []]


def fan_out(http: HttpClient, items: list[Any], work: Callable[[Any], Any], concurrency: int) -> list[Any]:
    """work(item) for each item, concurrently over the run's one session, results in order."""
    if not items:
        return []
    workers = max(1, min(concurrency, len(items)))
    http.ensure_pool(workers)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(work, items))


# Microsoft Graph: relationships ---------------------------------------------------------------------
class Relationships(Graph):
    """The partner's GDAP relationships, read with a delegated Graph token of the partner tenant."""

    def _error(self, action: str, response) -> SecureAppError:
        error = super()._error(action, response)
        if response.status_code == 403:
            error.message = with_support_id(
                f"Failed to {action}: permission denied by Microsoft Graph ({error.code}): the SAM app needs the "
                "delegated permission DelegatedAdminRelationship.Read.All, consented in the partner tenant: run the "
                "onboard playbook again with onboard_renew_consent=true (app_registration adds the permission).",
                error.details)
        return error

    def list(self, customer_tenant_id: str | None = None) -> list[dict[str, Any]]:
        params = {"$top": str(RELATIONSHIP_PAGE_SIZE)}
        if customer_tenant_id:
            params["$filter"] = f"customer/tenantId eq {odata_quote(customer_tenant_id)}"
        return self._all("/tenantRelationships/delegatedAdminRelationships",
                         "list the partner's GDAP relationships", params)

    def access_assignments(self, relationship_id: str) -> list[dict[str, Any]]:
        return self._all(f"/tenantRelationships/delegatedAdminRelationships/{relationship_id}/accessAssignments",
                         f"list the access assignments of GDAP relationship {relationship_id}")

    def my_groups(self) -> list[dict[str, Any]]:
        """The signed-in account's groups: GDAP covers direct members only (no nested groups)."""
        return [item for item in self._all("/me/memberOf", "list the signed-in account's groups")
                if item.get("@odata.type", "#microsoft.graph.group") == "#microsoft.graph.group"]


def relationship_view(relationship: dict[str, Any], assignments: list[dict[str, Any]],
                      my_group_ids: set[str]) -> dict[str, Any]:
    """A relationship as the module returns it: snake_case, roles named, assignments included."""
    customer = relationship.get("customer") or {}
    views = []
    for assignment in assignments:
        container = assignment.get("accessContainer") or {}
        group_id = container.get("accessContainerId")
        views.append({"id": assignment.get("id"), "status": assignment.get("status"), "group_id": group_id,
                      "roles": roles_of(assignment.get("accessDetails")),
                      "includes_me": str(group_id or "").lower() in my_group_ids})
    return {
        "id": relationship.get("id"), "display_name": relationship.get("displayName"),
        "status": relationship.get("status"),
        "customer_tenant_id": customer.get("tenantId"), "customer_name": customer.get("displayName"),
        "start_date": relationship.get("activatedDateTime"), "end_date": relationship.get("endDateTime"),
        "duration": relationship.get("duration"), "auto_extend_duration": relationship.get("autoExtendDuration"),
        "roles": roles_of(relationship.get("accessDetails")), "access_assignments": views,
    }


def read_relationships(http: HttpClient, cloud: Cloud, graph_token: str, *, customer_tenant_id: str | None = None,
                       include_access_assignments: bool = True, concurrency: int = 8) -> dict[str, Any]:
    graph = Relationships(http, cloud, graph_token)
    relationships = graph.list(customer_tenant_id)
    my_groups = graph.my_groups() if include_access_assignments else []
    my_group_ids = {str(group.get("id")).lower() for group in my_groups}

    def with_assignments(relationship: dict[str, Any]) -> dict[str, Any]:
        assignments = graph.access_assignments(relationship["id"]) if include_access_assignments else []
        return relationship_view(relationship, assignments, my_group_ids)

    return {"relationships": fan_out(http, relationships, with_assignments, concurrency),
            "my_groups": [{"id": g.get("id"), "display_name": g.get("displayName")} for g in my_groups]}


# Partner Center: application consents ----------------------------------------------------------------
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

    def _send(self, method: str, path: str, action: str, expected: tuple[int, ...], **kwargs: Any):
        headers = dict(self.headers, **{"MS-RequestId": str(uuid.uuid4())})
        response = self.http.request(method, self.base + path, headers=headers, **kwargs)
        if response.status_code not in expected:
            raise self.consent_error(action, response)
        return response

    def consent_error(self, action: str, response) -> SecureAppError:
        if response.status_code == 403:
            error = service_error(action, response)
            error.message = with_support_id(
                f"Failed to {action}: Partner Center refused it: the service account's GDAP roles in this customer "
                "cannot grant consents; add Cloud Application Administrator (or Privileged Role Administrator) to an "
                "access assignment of the relationship for a group the account is in.", error.details)
            error.code = "consent_forbidden"
            return error
        if response.status_code == 404:
            error = service_error(action, response)
            error.message = with_support_id(
                f"Failed to {action}: Partner Center does not know this customer for the partner: check the "
                "customer's tenant id.", error.details)
            error.code = "customer_not_found"
            return error
        return self._error(action, response)

    def find(self, customer: str, application_id: str) -> dict[str, Any] | None:
        response = self._send("GET", f"/customers/{customer}/applicationconsents",
                              f"read the application consents of customer {customer}", (200,))
        for item in (json_body(response) or {}).get("items") or []:
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
                              f"consent the SAM app in customer {customer}", (201, 409), json=body)
        return response.status_code == 201

    def delete(self, customer: str, application_id: str) -> bool:
        response = self._send("DELETE", f"/customers/{customer}/applicationconsents/{application_id}",
                              f"remove the SAM app's consent in customer {customer}", (204, 404))
        return response.status_code == 204


def apply_consent(consents: Consents, customer: str, *, application_id: str, display_name: str | None,
                  grants: list[dict[str, Any]], present: bool, check_mode: bool) -> dict[str, Any]:
    """One customer: read, then create, replace (delete and create: Partner Center has no update)
    or delete. The entry says what was there, what changed, or the error sentence."""
    entry: dict[str, Any] = {"tenant_id": customer, "changed": False, "before": None, "after": None,
                             "error": None, "error_code": None}
    try:
        existing = consents.find(customer, application_id)
        before = normalize_grants((existing or {}).get("applicationGrants")) if existing else None
        entry["before"] = before
        entry["after"] = grants if present else None
        if present and before == grants:
            return entry
        if not present and existing is None:
            return entry
        entry["changed"] = True
        if check_mode:
            return entry
        if existing is not None:
            consents.delete(customer, application_id)
        if present and not consents.create(customer, application_id, display_name, grants):
            # Someone created it between our delete and create: the next run compares again.
            entry["changed"] = False
    except SecureAppError as error:
        entry.update(changed=False, error=error.message, error_code=error.code)
    return entry


# The verdict per customer ---------------------------------------------------------------------------
def parse_time(value: Any) -> datetime.datetime | None:
    """A Graph date-time (2026-10-01T12:00:00Z, or with up to 7 fraction digits) in UTC."""
    try:
        return datetime.datetime.strptime(str(value)[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return None


def _best_relationship(relationships: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The relationship that decides: a usable one with a covering assignment first, then any
    usable one, then the one that ends (or ended) last."""
    def rank(relationship: dict[str, Any]) -> tuple:
        usable = relationship.get("status") in USABLE_STATUSES
        return (usable and bool(covering_assignments(relationship)), usable, str(relationship.get("end_date") or ""))
    return max(relationships, key=rank) if relationships else None


def covering_assignments(relationship: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in relationship.get("access_assignments") or []
            if a.get("status") == "active" and a.get("includes_me")]


def _names(roles: list[str]) -> str:
    return ", ".join(roles) or "no role"


def assess(customer: dict[str, Any], relationships: list[dict[str, Any]], *, consent: dict[str, Any] | None,
           tokens: dict[str, str], token_error: str | None, now: datetime.datetime,
           warning_days: int) -> dict[str, Any]:
    """One customer's row of the report: what decides whether the SAM app reaches it, its status
    (reachable, expiring, needs_consent, unreachable) and, unless plainly reachable, one sentence
    with the cause and the fix.

    customer: tenant_id, name and, when Partner Center said, delegated_access (DAP).
    relationships: this customer's, as read_relationships returns them.
    consent: None when not looked at, else consented (bool), granted (in this run), error.
    tokens: resource -> ok, error or not tried; token_error: the sentence of the failing one."""
    row: dict[str, Any] = {
        "tenant_id": customer.get("tenant_id"), "name": customer.get("name") or customer.get("tenant_id"),
        "relationship": "none", "relationship_name": None, "relationship_id": None, "end_date": None,
        "days_left": None, "covered": False, "roles": [], "can_consent": False,
        "consented": (consent or {}).get("consented"), "consent_granted": bool((consent or {}).get("granted")),
        "tokens": dict(tokens), "status": "unreachable", "sentence": "",
    }
    chosen = _best_relationship(relationships)
    if chosen is None:
        return _without_gdap(row, customer.get("delegated_access"), token_error)

    status = chosen.get("status") or "unknown"
    end = parse_time(chosen.get("end_date"))
    name = f"GDAP relationship '{chosen.get('display_name')}'"
    row.update(relationship_name=chosen.get("display_name"), relationship_id=chosen.get("id"),
               end_date=end.strftime("%Y-%m-%d") if end else None,
               days_left=math.ceil((end - now).total_seconds() / 86400) if end else None)
    if status not in USABLE_STATUSES:
        row["relationship"] = f"GDAP {status}"
        if status in ("expired", "terminated", "terminating", "terminationRequested"):
            row["sentence"] = (f"{name} ended {row['end_date'] or 'already'} ({status}): renew it in Partner Center "
                               "(a new relationship request the customer approves).")
        else:
            row["sentence"] = (f"{name} is {status}, not active: it gives access once the customer approves it "
                               "and it is active.")
        return row
    expiring = row["days_left"] is not None and row["days_left"] < warning_days
    row["relationship"] = "GDAP expiring" if expiring else "GDAP active"
    covering = covering_assignments(chosen)
    granted = {role["id"]: role["name"] for assignment in covering for role in assignment.get("roles") or []}
    row.update(covered=bool(covering), roles=sorted(granted.values()),
               can_consent=any(role_id in granted for role_id in CONSENT_ROLE_IDS))
    if not covering:
        row["sentence"] = (f"The service account is in no group that an active access assignment of {name} covers: "
                           "add it to an assigned security group, or assign one of its groups in Partner Center.")
        return row
    if token_error is None:
        row["status"] = "expiring" if expiring else "reachable"
        if row["consent_granted"]:
            row["sentence"] = "The SAM app's consent was granted in this run; every token asked for works."
        if expiring:
            row["sentence"] = (f"{name} ends {row['end_date']} (in {row['days_left']} days): extend it in Partner "
                               "Center before then (auto-extend, or a new relationship).")
        return row
    if consent and consent.get("error"):
        row["sentence"] = consent["error"]
    elif row["consented"] is False or (row["consented"] is None and "AADSTS65001" in token_error):
        if row["can_consent"]:
            row["status"] = "needs_consent"
            row["sentence"] = ("The SAM app is not consented in this customer; the service account's roles "
                               f"({_names(row['roles'])}) can grant it: run playbooks/customers.yml with "
                               "customer_access_consent=true.")
        else:
            row["sentence"] = ("The SAM app is not consented in this customer and the service account's roles "
                               f"({_names(row['roles'])}) cannot grant it: add Cloud Application Administrator to "
                               f"the access assignment of {name}, then run customers.yml with "
                               "customer_access_consent=true.")
    else:
        row["sentence"] = f"No token although {name} is active and covers the service account: {token_error}"
    return row


def _without_gdap(row: dict[str, Any], delegated_access: bool | None, token_error: str | None) -> dict[str, Any]:
    """No GDAP relationship: DAP (when Partner Center says so, or a token works) or nothing."""
    if delegated_access or (delegated_access is None and token_error is None):
        row["relationship"] = "DAP"
        if token_error is None:
            row["status"] = "reachable"
            row["sentence"] = ("Reached through DAP, which Microsoft has retired: set up a GDAP relationship before "
                               "DAP access is removed.")
        else:
            row["sentence"] = f"DAP gave no token: {token_error}"
        return row
    row["sentence"] = ("No GDAP relationship with this customer: request one in Partner Center (with Cloud "
                       "Application Administrator among its roles) and have the customer approve it.")
    return row
