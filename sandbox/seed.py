"""The seeded world: a partner tenant, its accounts, AdminAgents, customers, a vault.

The default seed is built in; `--seed FILE` (JSON, or YAML when PyYAML is installed) overrides
any top-level key. Ids are derived from names (uuid5) so a seed always yields the same ids."""
from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from . import catalog, gdap
from .ids import hash_secret, stable_id
from .store import Store

DEFAULT_SEED: dict[str, Any] = {
    "partner": {"display_name": "Contoso Partner (sandbox)", "domain": "contosopartner.onmicrosoft.com"},
    "users": [
        {
            "key": "admin",
            "upn": "admin@contosopartner.onmicrosoft.com",
            "display_name": "Partner Global Admin",
            "password": "Sandbox-Admin-Pass-1",
            "roles": ["Global Administrator"],
            "mfa": False,
        },
        {
            "key": "service",
            "upn": "sam-service@contosopartner.onmicrosoft.com",
            "display_name": "SAM Service Account",
            "password": "Sandbox-Service-Pass-1",
            "roles": ["Admin Agent"],
            "mfa": True,
            "mfa_code": "246810",
        },
        {
            "key": "nomfa",
            "upn": "no-mfa@contosopartner.onmicrosoft.com",
            "display_name": "Agent Without MFA",
            "password": "Sandbox-NoMfa-Pass-1",
            "roles": ["Admin Agent"],
            "mfa": False,
        },
    ],
    "customers": 8,
    # Customers cycle through these kinds (see gdap.KINDS): 3 customers give DAP, GDAP ready for
    # consent and no relationship; 8 give one of each.
    "relationships": ["dap", "gdap_ready", "none", "gdap_consented", "gdap_no_consent_role", "gdap_no_group",
                      "gdap_expired", "gdap_expiring"],
    "foreign_tenants": [
        {"display_name": "Fabrikam Government", "domain": "fabrikamgov.onmicrosoft.us", "cloud": "AzureUSGovernment"}
    ],
    "vault": {"name": "partner-sam-vault"},
}

VAULT_ALL = ["get", "list", "set", "delete", "recover", "purge"]


def load_seed(path: str | None, customers: int | None) -> dict[str, Any]:
    seed = json.loads(json.dumps(DEFAULT_SEED))
    if path:
        text = Path(path).read_text()
        if path.endswith((".yml", ".yaml")):
            import yaml  # only needed for YAML seeds

            override = yaml.safe_load(text)
        else:
            override = json.loads(text)
        seed.update(override or {})
    if customers is not None:
        seed["customers"] = customers
    return seed


def _user(store: Store, tenant_id: str, domain: str, spec: dict[str, Any]) -> dict[str, Any]:
    user_id = stable_id(tenant_id, "user", spec["upn"])
    user = {
        "id": user_id,
        "userPrincipalName": spec["upn"],
        "displayName": spec.get("display_name", spec["upn"].split("@")[0]),
        "mail": spec["upn"],
        "accountEnabled": True,
        # sandbox-only fields are kept under a prefix and never returned by Graph
        "x_password_hash": hash_secret(spec.get("password", secrets.token_urlsafe(12))),
        "x_mfa": bool(spec.get("mfa")),
        "x_mfa_code": str(spec.get("mfa_code", "")),
        "x_roles": list(spec.get("roles", [])),
    }
    return store.put_object("user", tenant_id, user)


def _resource_principals(store: Store) -> None:
    """Service principals of Microsoft's resource apps exist in every tenant ('*')."""
    for key, resource in catalog.RESOURCES.items():
        store.put_object(
            "servicePrincipal",
            "*",
            {
                "id": stable_id("*", "sp", resource["app_id"]),
                "appId": resource["app_id"],
                "displayName": resource["name"],
                "servicePrincipalType": "Application",
                "appOwnerOrganizationId": catalog.MICROSOFT_SERVICES_TENANT_ID,
                "oauth2PermissionScopes": [
                    {"id": pid, "value": name, "type": "Admin", "isEnabled": True}
                    for name, pid in resource["scopes"].items()
                ],
                "appRoles": [
                    {"id": pid, "value": name, "allowedMemberTypes": ["Application"], "isEnabled": True}
                    for name, pid in resource["roles"].items()
                ],
                "x_resource": key,
            },
        )
    for app_id, name in catalog.FIRST_PARTY_CLIENTS.items():
        store.put_object(
            "application",
            catalog.MICROSOFT_SERVICES_TENANT_ID,
            {
                "id": stable_id("first-party", app_id),
                "appId": app_id,
                "displayName": name,
                "signInAudience": "AzureADMultipleOrgs",
                "isFallbackPublicClient": True,
                "publicClient": {"redirectUris": ["http://localhost", "urn:ietf:wg:oauth:2.0:oob"]},
                "web": {"redirectUris": []},
                "requiredResourceAccess": [],
                "x_first_party": True,
            },
        )


def _kind(name: str) -> str:
    """A customer kind of gdap.KINDS; the older names DAP, GDAP and none still work."""
    kind = {"DAP": "dap", "GDAP": "gdap_ready"}.get(name, name)
    if kind not in gdap.KINDS:
        raise ValueError(f"unknown customer kind {name!r}: use one of {', '.join(gdap.KINDS)}")
    return kind


def apply_seed(store: Store, seed: dict[str, Any]) -> dict[str, Any]:
    """Write the seed into an empty store; return what endpoints.json tells about it."""
    partner = seed["partner"]
    partner_id = partner.get("id") or stable_id("tenant", partner["domain"])
    store.execute(
        "INSERT INTO tenants(id, domain, display_name, kind, cloud, relationship, partner_id)"
        " VALUES(?, ?, ?, 'partner', 'AzureCloud', NULL, NULL)",
        (partner_id, partner["domain"], partner["display_name"]),
    )
    _resource_principals(store)
    admin_agents_id = stable_id(partner_id, "group", "AdminAgents")
    store.put_object(
        "group",
        partner_id,
        {"id": admin_agents_id, "displayName": "AdminAgents", "securityEnabled": True, "mailEnabled": False,
         "description": "Members of this group get administrative rights in customer tenants"},
    )
    accounts: dict[str, Any] = {}
    for spec in seed["users"]:
        user = _user(store, partner_id, partner["domain"], spec)
        if "Admin Agent" in spec.get("roles", []) or "Global Administrator" in spec.get("roles", []):
            store.execute("INSERT OR IGNORE INTO members VALUES(?, ?)", (admin_agents_id, user["id"]))
        accounts[spec["key"]] = {
            "upn": spec["upn"],
            "password": spec.get("password"),
            "object_id": user["id"],
            "mfa": bool(spec.get("mfa")),
            "mfa_code": spec.get("mfa_code"),
        }

    # Non-interactive principals for Key Vault: one allowed to read and write, one with no access.
    principals: dict[str, Any] = {}
    for key, display_name, permissions in (
        ("automation", "sandbox-vault-automation", VAULT_ALL),
        ("no_vault_access", "sandbox-no-vault-access", []),
    ):
        app_id = stable_id(partner_id, "app", display_name)
        app_object_id = stable_id(partner_id, "app-object", display_name)
        sp_id = stable_id(partner_id, "sp", app_id)
        secret_text = secrets.token_urlsafe(30)
        store.put_object("application", partner_id, {
            "id": app_object_id, "appId": app_id, "displayName": display_name,
            "signInAudience": "AzureADMyOrg", "web": {"redirectUris": []}, "publicClient": {"redirectUris": []},
            "requiredResourceAccess": [], "passwordCredentials": []})
        store.put_object("servicePrincipal", partner_id, {
            "id": sp_id, "appId": app_id, "displayName": display_name, "servicePrincipalType": "Application"})
        now = store.now()
        store.execute(
            "INSERT INTO passwords VALUES(?, ?, ?, ?, ?, ?, ?)",
            (stable_id(app_id, "secret"), app_object_id, hash_secret(secret_text), secret_text[:3],
             "seeded", now, now + 730 * 86400),
        )
        if permissions:
            store.execute("INSERT OR REPLACE INTO vault_access VALUES(?, ?)", (sp_id, json.dumps(permissions)))
        principals[key] = {"client_id": app_id, "client_secret": secret_text, "object_id": sp_id,
                           "tenant_id": partner_id}
    # Managed identities as App Service gives them (IDENTITY_ENDPOINT/IDENTITY_HEADER): a
    # system-assigned one that may only read the vault, and a user-assigned one (asked for by its
    # client id) that may also write, so a test tells which one a credential used.
    identities: dict[str, Any] = {"header": secrets.token_urlsafe(24)}
    for key, display_name, permissions in (("system_assigned", "sandbox-automation-host", ["get", "list"]),
                                           ("user_assigned", "sandbox-user-assigned-identity", VAULT_ALL)):
        app_id = stable_id(partner_id, "managed-identity", display_name)
        sp_id = stable_id(partner_id, "sp", app_id)
        store.put_object("servicePrincipal", partner_id, {
            "id": sp_id, "appId": app_id, "displayName": display_name, "servicePrincipalType": "ManagedIdentity",
            "x_managed_identity": key})
        store.execute("INSERT OR REPLACE INTO vault_access VALUES(?, ?)", (sp_id, json.dumps(permissions)))
        identities[key] = {"client_id": app_id, "object_id": sp_id}
    store.set_meta("managed_identity_header", identities["header"])
    # The partner's admin and service account may use the vault too (onboarding stores secrets).
    for key in ("admin", "service"):
        if key in accounts:
            store.execute("INSERT OR REPLACE INTO vault_access VALUES(?, ?)",
                          (accounts[key]["object_id"], json.dumps(VAULT_ALL)))

    # The partner's security groups that GDAP access assignments name.
    group_ids = {}
    for key, (display_name, service_member) in gdap.GROUPS.items():
        group_ids[key] = stable_id(partner_id, "group", display_name)
        store.put_object("group", partner_id, {
            "id": group_ids[key], "displayName": display_name, "securityEnabled": True, "mailEnabled": False,
            "description": "GDAP access assignments give this group roles in customer tenants"})
        if service_member and "service" in accounts:
            store.execute("INSERT OR IGNORE INTO members VALUES(?, ?)", (group_ids[key], accounts["service"]["object_id"]))

    customers = []
    kinds = [_kind(name) for name in seed.get("relationships") or ["dap"]]
    consented_earlier = []
    for index in range(1, int(seed["customers"]) + 1):
        domain = f"customer{index}.onmicrosoft.com"
        customer_id = stable_id("tenant", domain)
        kind = kinds[(index - 1) % len(kinds)]
        relationship = gdap.KINDS[kind]["relationship"]
        name = f"Customer {index} Ltd"
        store.execute(
            "INSERT INTO tenants VALUES(?, ?, ?, 'customer', 'AzureCloud', ?, ?)",
            (customer_id, domain, name, relationship, partner_id),
        )
        gdap.seed_relationship(store, stable_id=stable_id, partner_id=partner_id, kind=kind, group_ids=group_ids,
                               customer={"tenant_id": customer_id, "name": name}, now=store.now())
        if gdap.KINDS[kind].get("consented"):
            consented_earlier.append(customer_id)
        for user_index in (1, 2):
            _user(store, customer_id, domain, {"upn": f"user{user_index}@{domain}", "roles": []})
        # The customer's Global Administrator, who approves the partner's GDAP requests.
        customer_admin = {"upn": f"admin@{domain}", "password": secrets.token_urlsafe(12),
                          "roles": ["Global Administrator"]}
        _user(store, customer_id, domain, customer_admin)
        subscription_id = stable_id(customer_id, "subscription")
        store.execute("INSERT INTO subscriptions VALUES(?, ?, ?, 'Enabled')",
                      (subscription_id, customer_id, f"{name} - Azure plan"))
        customers.append({"tenant_id": customer_id, "domain": domain, "name": name, "kind": kind,
                          "relationship": relationship, "subscription_id": subscription_id,
                          "admin": {"upn": customer_admin["upn"], "password": customer_admin["password"]}})
    store.set_meta("consented_earlier", json.dumps(consented_earlier))
    foreign = []
    for spec in seed.get("foreign_tenants", []):
        tenant_id = spec.get("id") or stable_id("tenant", spec["domain"])
        store.execute("INSERT INTO tenants VALUES(?, ?, ?, 'foreign', ?, NULL, NULL)",
                      (tenant_id, spec["domain"], spec["display_name"], spec["cloud"]))
        foreign.append({"tenant_id": tenant_id, "domain": spec["domain"], "cloud": spec["cloud"]})

    info = {
        "partner_tenant_id": partner_id,
        "partner_domain": partner["domain"],
        "admin_agents_group_id": admin_agents_id,
        "gdap_group_ids": group_ids,
        "accounts": accounts,
        "principals": principals,
        "managed_identities": identities,
        "customers": customers,
        "foreign_tenants": foreign,
        "vault_name": seed["vault"]["name"],
    }
    store.set_meta("seed_info", json.dumps(info))
    return info
