"""Well-known Microsoft applications and permissions the sandbox knows.

Resource identifiers (token audiences) depend on the ports the sandbox serves on, so they are
filled in by the server; everything else is fixed here."""
from __future__ import annotations

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
PARTNER_CENTER_APP_ID = "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd"
AZURE_SERVICE_MANAGEMENT_APP_ID = "797f4846-ba00-4fd7-ba43-dac1f8f63013"
KEY_VAULT_APP_ID = "cfa8b339-82a2-471a-a3c9-0fc0be7a4093"
AAD_GRAPH_APP_ID = "00000002-0000-0000-c000-000000000000"
AZURE_CLI_APP_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
GRAPH_CLI_APP_ID = "14d82eec-204b-4c2f-b7e8-296a70dab67e"
MICROSOFT_SERVICES_TENANT_ID = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"

# resource key -> app id, display name, delegated scopes and application roles (name -> id)
RESOURCES: dict[str, dict] = {
    "graph": {
        "app_id": GRAPH_APP_ID,
        "name": "Microsoft Graph",
        "scopes": {
            "User.Read": "e1fe6dd8-ba31-4d61-89e7-88639da4683d",
            "Directory.AccessAsUser.All": "0e263e50-5827-48a4-b97c-d940288653c7",
            "Directory.Read.All": "06da0dbc-49e2-44d2-8312-53f166ab848a",
            "Application.ReadWrite.All": "bdfbf15f-ee85-4955-8675-146e8e5296b5",
            "Group.ReadWrite.All": "4e46008b-f24c-477d-8fff-7bb4ec7aafe0",
            "DelegatedAdminRelationship.Read.All": "0c0064ea-477b-4130-82a5-4c2cc4ff68aa",
            "DelegatedAdminRelationship.ReadWrite.All": "885f682f-a990-4bad-a642-36736a74b0c7",
        },
        "roles": {
            "Directory.Read.All": "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
            "Directory.ReadWrite.All": "19dbc75e-c2e2-444c-a770-ec69d8559fc7",
            "Application.ReadWrite.All": "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
            "Group.ReadWrite.All": "62a82d76-70ea-41e2-9197-370581804d09",
            "DelegatedAdminRelationship.Read.All": "f6e9e124-4586-492f-adc0-c6f96e4823fd",
        },
    },
    "partner_center": {
        "app_id": PARTNER_CENTER_APP_ID,
        "name": "Microsoft Partner Center",
        "scopes": {"user_impersonation": "1cebfa2a-fb4d-419e-b5f9-839b4383e05a"},
        "roles": {},
    },
    "azure": {
        "app_id": AZURE_SERVICE_MANAGEMENT_APP_ID,
        "name": "Windows Azure Service Management API",
        "scopes": {"user_impersonation": "41094075-9dad-400e-a0bd-54e686782033"},
        "roles": {},
    },
    "keyvault": {
        "app_id": KEY_VAULT_APP_ID,
        "name": "Azure Key Vault",
        "scopes": {"user_impersonation": "f53da476-18e3-4152-8e01-aec403e6edc0"},
        "roles": {},
    },
    "aad_graph": {
        "app_id": AAD_GRAPH_APP_ID,
        "name": "Windows Azure Active Directory",
        "scopes": {"Directory.AccessAsUser.All": "a42657d6-7f20-40e3-b6f0-cee03008a62a"},
        "roles": {"Directory.Read.All": "5778995a-e1bf-45b8-affa-663a9f3f4d04"},
    },
}

OIDC_SCOPES = {"openid", "profile", "offline_access", "email"}

# First-party public clients are pre-authorized in every tenant, as in Azure: a user can sign
# in to them and get these delegated permissions without a consent prompt.
FIRST_PARTY_CLIENTS = {
    AZURE_CLI_APP_ID: "Microsoft Azure CLI",
    GRAPH_CLI_APP_ID: "Microsoft Graph Command Line Tools",
}
FIRST_PARTY_GRANTS = {
    "graph": [
        "User.Read",
        "Directory.AccessAsUser.All",
        "Application.ReadWrite.All",
        "Group.ReadWrite.All",
        "Directory.Read.All",
    ],
    "azure": ["user_impersonation"],
    "keyvault": ["user_impersonation"],
    "partner_center": ["user_impersonation"],
}


def resource_by_app_id(app_id: str) -> str | None:
    for key, resource in RESOURCES.items():
        if resource["app_id"] == app_id:
            return key
    return None


def scope_name(resource_key: str, permission_id: str) -> str | None:
    for name, known_id in RESOURCES[resource_key]["scopes"].items():
        if known_id == permission_id:
            return name
    return None


def role_name(resource_key: str, permission_id: str) -> str | None:
    for name, known_id in RESOURCES[resource_key]["roles"].items():
        if known_id == permission_id:
            return name
    return None
