# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

Well-known Microsoft application and permission ids."""

from __future__ import annotations

from typing import Any

PARTNER_CENTER_APP_ID = "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd"
PARTNER_CENTER_USER_IMPERSONATION = "1cebfa2a-fb4d-419e-b5f9-839b4383e05a"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
GRAPH_DIRECTORY_ACCESS_AS_USER_ALL = "0e263e50-5827-48a4-b97c-d940288653c7"
GRAPH_DIRECTORY_READ_ALL_ROLE = "7ab1d382-f21e-4acd-a863-ba3e13f7da61"
# Reading the partner's GDAP relationships (delegated); what customer_access needs.
GRAPH_DELEGATED_ADMIN_RELATIONSHIP_READ_ALL = "0c0064ea-477b-4130-82a5-4c2cc4ff68aa"
# Writing them (requesting, renewing, assigning groups): what customer_access_fix needs, on request only.
GRAPH_DELEGATED_ADMIN_RELATIONSHIP_READ_WRITE_ALL = "885f682f-a990-4bad-a642-36736a74b0c7"
AZURE_SERVICE_MANAGEMENT_APP_ID = "797f4846-ba00-4fd7-ba43-dac1f8f63013"
AZURE_SERVICE_MANAGEMENT_USER_IMPERSONATION = "41094075-9dad-400e-a0bd-54e686782033"
AAD_GRAPH_APP_ID = "00000002-0000-0000-c000-000000000000"
AAD_GRAPH_DIRECTORY_ACCESS_AS_USER_ALL = "a42657d6-7f20-40e3-b6f0-cee03008a62a"
AAD_GRAPH_DIRECTORY_READ_ALL_ROLE = "5778995a-e1bf-45b8-affa-663a9f3f4d04"
AZURE_CLI_APP_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
GRAPH_CLI_APP_ID = "14d82eec-204b-4c2f-b7e8-296a70dab67e"

PARTNER_CENTER_REDIRECT_URI = "http://localhost:8400"  # what Partner Center PowerShell registers and uses
OOB_REDIRECT_URI = "urn:ietf:wg:oauth:2.0:oob"


def _access(resource_app_id: str, *entries: tuple[str, str]) -> dict[str, Any]:
    return {"resourceAppId": resource_app_id,
            "resourceAccess": [{"id": permission, "type": kind} for permission, kind in entries]}


def sam_required_resource_access(include_aad_graph: bool = False, gdap_write: bool = False) -> list[dict[str, Any]]:
    """The Secure Application Model's permissions: Partner Center user_impersonation, the
    Microsoft Graph equivalents of the original seed script's Azure AD Graph permissions, and
    Azure Service Management user_impersonation, and Graph's DelegatedAdminRelationship.Read.All
    to read the partner's GDAP relationships (ReadWrite.All instead with gdap_write, to write them).
    Azure AD Graph (retired) only on request."""
    gdap = GRAPH_DELEGATED_ADMIN_RELATIONSHIP_READ_WRITE_ALL if gdap_write else GRAPH_DELEGATED_ADMIN_RELATIONSHIP_READ_ALL
    access = [
        _access(PARTNER_CENTER_APP_ID, (PARTNER_CENTER_USER_IMPERSONATION, "Scope")),
        _access(GRAPH_APP_ID, (GRAPH_DIRECTORY_ACCESS_AS_USER_ALL, "Scope"),
                (gdap, "Scope"), (GRAPH_DIRECTORY_READ_ALL_ROLE, "Role")),
        _access(AZURE_SERVICE_MANAGEMENT_APP_ID, (AZURE_SERVICE_MANAGEMENT_USER_IMPERSONATION, "Scope")),
    ]
    if include_aad_graph:
        access.append(_access(AAD_GRAPH_APP_ID, (AAD_GRAPH_DIRECTORY_ACCESS_AS_USER_ALL, "Scope"),
                              (AAD_GRAPH_DIRECTORY_READ_ALL_ROLE, "Role")))
    return access


def normalize_resource_access(access: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Order-free form for comparing requiredResourceAccess."""
    return sorted(
        ({"resourceAppId": entry.get("resourceAppId"),
          "resourceAccess": sorted(({"id": a.get("id"), "type": a.get("type")} for a in entry.get("resourceAccess", [])),
                                   key=lambda a: (a["id"] or "", a["type"] or ""))}
         for entry in access or []),
        key=lambda e: e["resourceAppId"] or "")
