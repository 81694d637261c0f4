"""Azure Resource Manager: subscriptions and tenants of the token's tenant."""
from __future__ import annotations

from aiohttp import web

from .context import bearer_claims, json_response, sandbox_of
from .errors import ServiceError, render
from .tokens import TokenError


def arm_error(status: int, code: str, message: str) -> web.Response:
    return render(ServiceError(status, code, message), "management")


def authenticated(handler):
    async def wrapper(request: web.Request) -> web.Response:
        sandbox = sandbox_of(request)
        if "api-version" not in request.query:
            return arm_error(400, "MissingApiVersionParameter",
                             "The api-version query parameter (?api-version=) is required for all requests.")
        try:
            claims = bearer_claims(request, [sandbox.resource_identifier("azure"),
                                             sandbox.resource_identifier("azure") + "/"])
        except TokenError as exc:
            if not request.headers.get("Authorization"):
                return arm_error(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is "
                                 "missing.")
            return arm_error(401, "InvalidAuthenticationToken", f"The access token is invalid. {exc}")
        return await handler(request, sandbox, claims)
    return wrapper


@authenticated
async def subscriptions(request, sandbox, claims):
    rows = sandbox.store.all("SELECT * FROM subscriptions WHERE tenant_id=? ORDER BY id", (claims["tid"],))
    policies = {"locationPlacementId": "Public_2014-09-01", "quotaId": "CSP_2015-05-01", "spendingLimit": "Off"}
    value = [{"id": f"/subscriptions/{r['id']}", "authorizationSource": "RoleBased", "managedByTenants": [],
              "subscriptionId": r["id"], "tenantId": r["tenant_id"], "displayName": r["display_name"],
              "state": r["state"], "subscriptionPolicies": policies} for r in rows]
    return json_response({"value": value, "count": {"type": "Total", "value": len(rows)}})


@authenticated
async def tenants(request, sandbox, claims):
    tenant = sandbox.store.tenant(claims["tid"])
    return json_response({"value": [{
        "id": f"/tenants/{tenant['id']}", "tenantId": tenant["id"], "countryCode": "US",
        "displayName": tenant["display_name"], "domains": [tenant["domain"]], "tenantCategory": "Home",
        "defaultDomain": tenant["domain"], "tenantType": "AAD"}]})


def routes() -> list[web.RouteDef]:
    """Resource Manager's own routes (server.ROUTES adds customer_tenant's, which build on these helpers)."""
    return [web.get("/subscriptions", subscriptions), web.get("/tenants", tenants)]
