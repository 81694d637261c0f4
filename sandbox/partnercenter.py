"""Partner Center REST, the subset the collection uses. App+user calls demand MFA."""
from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from aiohttp import web

from . import gdap
from .context import Sandbox, bearer_claims, json_response, sandbox_of, utc_iso
from .errors import ServiceError, current_ids, render
from .tokens import TokenError

DEFAULT_PAGE = 500
MFA_REQUIRED_CODE = 10001  # unverified shape; kept here only


def pc_error(status: int, code: int, description: str, request: web.Request) -> web.Response:
    return render(ServiceError(status, code, description), "partner_center")


def echo_headers(request: web.Request) -> dict[str, str]:
    """MS-RequestId and MS-CorrelationId (the service boundary adds them to every answer)."""
    ids = current_ids("partner_center")
    return {"MS-RequestId": ids.request_id, "MS-CorrelationId": ids.correlation_id}


def authenticated(app_user_only: bool):
    def decorate(handler):
        async def wrapper(request: web.Request) -> web.Response:
            sandbox = sandbox_of(request)
            try:
                claims = bearer_claims(request, [sandbox.resource_identifier("partner_center")])
            except TokenError as exc:
                return pc_error(401, 900300, f"Authentication failed. {exc}", request)
            delegated = claims.get("idtyp") == "user"
            if app_user_only and not delegated:
                return pc_error(403, 900350, "This API requires an App+User token; App-only is not supported.",
                                request)
            if delegated and "mfa" not in claims.get("amr", []):
                return pc_error(401, MFA_REQUIRED_CODE, "Authentication failed. MFA required.", request)
            if claims["tid"] != sandbox.seed_info["partner_tenant_id"]:
                return pc_error(403, 900300, "The tenant of this token is not a partner tenant.", request)
            return await handler(request, sandbox, claims)
        return wrapper
    return decorate


def customer_view(sandbox: Sandbox, tenant: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": tenant["id"],
        "commerceId": str(uuid.uuid5(uuid.UUID(tenant["id"]), "commerce")),
        "companyProfile": {"tenantId": tenant["id"], "domain": tenant["domain"], "companyName": tenant["display_name"],
                           "attributes": {"objectType": "CustomerCompanyProfile"}},
        "relationshipToPartner": "reseller",
        # DAP (the retired delegated admin privileges); GDAP shows in Graph's relationships instead.
        "allowDelegatedAccess": tenant["relationship"] == "DAP",
        "links": {"self": {"uri": f"/customers/{tenant['id']}", "method": "GET", "headers": []}},
        "attributes": {"objectType": "Customer"},
    }


@authenticated(app_user_only=True)
async def organization_profile(request: web.Request, sandbox: Sandbox, claims: dict[str, Any]) -> web.Response:
    tenant = sandbox.store.tenant(claims["tid"])
    return json_response({
        "id": str(uuid.uuid5(uuid.UUID(tenant["id"]), "profile")), "companyName": tenant["display_name"],
        "culture": "en-US", "language": "en", "domain": tenant["domain"], "email": f"partner@{tenant['domain']}",
        "tenantId": tenant["id"],
        "defaultAddress": {"country": "US", "city": "Redmond", "state": "WA", "addressLine1": "1 Sandbox Way",
                           "postalCode": "98052", "firstName": "Partner", "lastName": "Admin"},
        "attributes": {"objectType": "OrganizationProfile"}}, headers=echo_headers(request))


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _offset(token: str) -> int:
    try:
        return int(json.loads(base64.urlsafe_b64decode(token.encode()))["offset"])
    except (ValueError, KeyError, TypeError):
        return -1


@authenticated(app_user_only=False)
async def list_customers(request: web.Request, sandbox: Sandbox, claims: dict[str, Any]) -> web.Response:
    try:
        size = max(1, min(int(request.query.get("size", DEFAULT_PAGE)), 1000))
    except ValueError:
        return pc_error(400, 400008, "The size parameter must be a number.", request)
    offset = 0
    if request.query.get("seekOperation", "").lower() == "next":
        offset = _offset(request.headers.get("MS-ContinuationToken", ""))
        if offset < 0:
            return pc_error(400, 400009, "The continuation token is missing or invalid.", request)
    rows = sandbox.store.all("SELECT * FROM tenants WHERE kind='customer' AND partner_id=? ORDER BY domain",
                             (claims["tid"],))
    items = [customer_view(sandbox, dict(r)) for r in rows[offset:offset + size]]
    body: dict[str, Any] = {"totalCount": len(items), "items": items,
                            "links": {"self": {"uri": f"/customers?size={size}", "method": "GET", "headers": []}},
                            "attributes": {"objectType": "Collection"}}
    if offset + size < len(rows):
        token = _token(offset + size)
        body["continuationToken"] = token
        body["links"]["next"] = {"uri": f"/customers?size={size}&seekOperation=Next", "method": "GET",
                                 "headers": [{"key": "MS-ContinuationToken", "value": token}]}
    return json_response(body, headers=echo_headers(request))


def _customer(sandbox: Sandbox, claims: dict[str, Any], customer_id: str) -> dict[str, Any] | None:
    tenant = sandbox.store.tenant(customer_id)
    if tenant is None or tenant["kind"] != "customer" or tenant["partner_id"] != claims["tid"]:
        return None
    return tenant


def _missing_customer(request: web.Request) -> web.Response:
    return pc_error(404, 600008, f"The customer {request.match_info['customer']} does not exist for this partner.",
                    request)


@authenticated(app_user_only=False)
async def get_customer(request: web.Request, sandbox: Sandbox, claims: dict[str, Any]) -> web.Response:
    tenant = _customer(sandbox, claims, request.match_info["customer"])
    if tenant is None:
        return _missing_customer(request)
    return json_response(customer_view(sandbox, tenant), headers=echo_headers(request))


def consent_view(row) -> dict[str, Any]:
    return {"applicationId": row["application_id"], "displayName": row["display_name"],
            "applicationGrants": json.loads(row["grants"]), "createdDateTime": utc_iso(row["created"])}


def _may_consent(sandbox: Sandbox, claims: dict[str, Any], tenant: dict[str, Any]) -> bool:
    """DAP agents act as Global Administrator; under GDAP the agent needs a role that can consent."""
    if tenant["relationship"] == "DAP":
        return True
    return bool(gdap.agent_roles(sandbox, claims["tid"], tenant["id"], claims["oid"]) & gdap.CONSENT_ROLES)


def _is_guid(value: Any) -> bool:
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def consent_body_problem(body: Any) -> str | None:
    """Why Partner Center would refuse an application consent's body, or None: the application and
    each grant's enterprise application are ids (GUIDs), each grant names its scopes."""
    if not isinstance(body, dict) or not body.get("applicationId") or not isinstance(body.get("applicationGrants"), list):
        return "applicationId and applicationGrants are required."
    if not _is_guid(body["applicationId"]):
        return f"The applicationId '{body['applicationId']}' is not a valid application id (a GUID)."
    if body.get("displayName") is not None and not isinstance(body["displayName"], str):
        return "The displayName must be a string."
    if not body["applicationGrants"]:
        return "applicationGrants must name at least one grant."
    for grant in body["applicationGrants"]:
        if not isinstance(grant, dict) or not _is_guid(grant.get("enterpriseApplicationId")):
            return "Each application grant needs an enterpriseApplicationId that is an application id (a GUID)."
        scope = grant.get("scope")
        if not isinstance(scope, str) or not [part for part in scope.split(",") if part.strip()]:
            return f"The grant for {grant['enterpriseApplicationId']} needs a scope (comma-separated permission names)."
    return None


@authenticated(app_user_only=True)
async def create_consent(request: web.Request, sandbox: Sandbox, claims: dict[str, Any]) -> web.Response:
    tenant = _customer(sandbox, claims, request.match_info["customer"])
    if tenant is None:
        return _missing_customer(request)
    if request.content_type != "application/json":
        return pc_error(415, 415001, "The request's Content-Type must be application/json.", request)
    try:
        body = await request.json()
    except ValueError:
        body = None
    problem = consent_body_problem(body)
    if problem:
        return pc_error(400, 400001, problem, request)
    if not _may_consent(sandbox, claims, tenant):
        return pc_error(403, 900403, "The user is not authorized to consent applications in this customer tenant: "
                                     "a Global Administrator, Privileged Role Administrator or Cloud Application "
                                     "Administrator role is needed there.", request)
    if sandbox.store.one("SELECT 1 FROM app_consents WHERE customer_tenant_id=? AND application_id=?",
                         (tenant["id"], body["applicationId"])):
        return pc_error(409, 409001, "Permission entry already exists.", request)
    sandbox.store.execute("INSERT INTO app_consents VALUES(?, ?, ?, ?, ?)", (
        tenant["id"], body["applicationId"], body.get("displayName"), json.dumps(body["applicationGrants"]),
        sandbox.now()))
    row = sandbox.store.one("SELECT * FROM app_consents WHERE customer_tenant_id=? AND application_id=?",
                            (tenant["id"], body["applicationId"]))
    return json_response(consent_view(row), 201, echo_headers(request))


@authenticated(app_user_only=True)
async def list_consents(request: web.Request, sandbox: Sandbox, claims: dict[str, Any]) -> web.Response:
    tenant = _customer(sandbox, claims, request.match_info["customer"])
    if tenant is None:
        return _missing_customer(request)
    rows = sandbox.store.all("SELECT * FROM app_consents WHERE customer_tenant_id=?", (tenant["id"],))
    return json_response({"totalCount": len(rows), "items": [consent_view(r) for r in rows],
                          "attributes": {"objectType": "Collection"}}, headers=echo_headers(request))


@authenticated(app_user_only=True)
async def delete_consent(request: web.Request, sandbox: Sandbox, claims: dict[str, Any]) -> web.Response:
    tenant = _customer(sandbox, claims, request.match_info["customer"])
    if tenant is None:
        return _missing_customer(request)
    if not _may_consent(sandbox, claims, tenant):
        return pc_error(403, 900403, "The user is not authorized to remove application consents in this customer "
                                     "tenant: a Global Administrator, Privileged Role Administrator or Cloud "
                                     "Application Administrator role is needed there.", request)
    removed = sandbox.store.execute("DELETE FROM app_consents WHERE customer_tenant_id=? AND application_id=?",
                                    (tenant["id"], request.match_info["app"])).rowcount
    if not removed:
        return pc_error(404, 404001, "Application consent not found.", request)
    return web.Response(status=204, headers=echo_headers(request))


def routes() -> list[web.RouteDef]:
    return [
        web.get("/v1/profiles/organization", organization_profile),
        web.get("/v1/customers", list_customers),
        web.get("/v1/customers/{customer}", get_customer),
        web.post("/v1/customers/{customer}/applicationconsents", create_consent),
        web.get("/v1/customers/{customer}/applicationconsents", list_consents),
        web.delete("/v1/customers/{customer}/applicationconsents/{app}", delete_consent),
    ]
