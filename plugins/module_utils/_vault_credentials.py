# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

Which credential reaches Key Vault: one small builder per kind, tried in order, the first that
applies is used. A new kind (a certificate, a federated token) is one more builder in
VAULT_CREDENTIAL_BUILDERS."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from ._errors import SecureAppError

try:
    from azure.core.credentials import AccessToken
    from azure.identity import ClientSecretCredential, DefaultAzureCredential
except ImportError:  # reported by require_azure in _keyvault
    pass

# What Automation Platform's built-in Azure Resource Manager credential injects (service principal).
AWX_AZURE_VARIABLES = ("AZURE_CLIENT_ID", "AZURE_SECRET", "AZURE_TENANT")
GIVEN_TOKEN_KIND = "the access token given, or the one the refresh token gave"


@dataclass(frozen=True)
class VaultCredentialSettings:
    """What the task gives for the vault's credential. exchange_refresh_token, when set, turns the
    SAM app's refresh token into a vault access token (token, expires_on)."""

    access_token: str | None = None
    access_token_expires_on: int | None = None
    exchange_refresh_token: Callable[[], tuple[str, int | None]] | None = None
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    environment: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VaultCredential:
    credential: Any
    # Who the credential is, as messages name it ("access denied ... for <kind>").
    kind: str


class GivenToken:
    """A credential for an access token the caller already has (azure-identity has none)."""

    def __init__(self, token: str, expires_on: int | None) -> None:
        self._token = token
        self._expires_on = int(expires_on or (datetime.datetime.now().timestamp() + 3000))

    def get_token(self, *scopes: str, **kwargs: Any) -> "AccessToken":
        return AccessToken(self._token, self._expires_on)


# Each builder: the credential when the settings ask for its kind, else None.
Builder = Callable[[VaultCredentialSettings, Mapping[str, Any]], "VaultCredential | None"]


def given_access_token(settings: VaultCredentialSettings, options: Mapping[str, Any]) -> VaultCredential | None:
    if not settings.access_token:
        return None
    return VaultCredential(GivenToken(settings.access_token, settings.access_token_expires_on), GIVEN_TOKEN_KIND)


def sam_refresh_token(settings: VaultCredentialSettings, options: Mapping[str, Any]) -> VaultCredential | None:
    if settings.exchange_refresh_token is None:
        return None
    token, expires_on = settings.exchange_refresh_token()
    return VaultCredential(GivenToken(token, expires_on), GIVEN_TOKEN_KIND)


def vault_service_principal(settings: VaultCredentialSettings, options: Mapping[str, Any]) -> VaultCredential | None:
    if not settings.client_secret:
        return None
    if not (settings.tenant_id and settings.client_id):
        raise SecureAppError("A Key Vault client secret (vault_client_secret) needs vault_tenant_id and "
                             "vault_client_id as well.")
    return VaultCredential(ClientSecretCredential(settings.tenant_id, settings.client_id, settings.client_secret,
                                                  **options),
                           f"the service principal {settings.client_id} (vault_client_id)")


def automation_platform(settings: VaultCredentialSettings, options: Mapping[str, Any]) -> VaultCredential | None:
    """Automation Platform's Azure credential names the secret and tenant its own way."""
    environment = settings.environment
    if not all(environment.get(name) for name in AWX_AZURE_VARIABLES) or environment.get("AZURE_CLIENT_SECRET"):
        return None
    return VaultCredential(
        ClientSecretCredential(environment["AZURE_TENANT"], environment["AZURE_CLIENT_ID"],
                               environment["AZURE_SECRET"], **options),
        f"the service principal {environment['AZURE_CLIENT_ID']} of Automation Platform's Azure credential "
        "(AZURE_CLIENT_ID, AZURE_TENANT, AZURE_SECRET)")


def default_azure_credential(settings: VaultCredentialSettings, options: Mapping[str, Any]) -> VaultCredential:
    """azure-identity's own chain (environment, workload identity, managed identity, with a
    user-assigned one named by AZURE_CLIENT_ID, Azure CLI, ...), never an interactive one."""
    try:
        credential = DefaultAzureCredential(exclude_interactive_browser_credential=True, **options)
    except ValueError:  # its checks of the AZURE_* variables; the text is not quoted
        raise SecureAppError(
            "azure-identity refused the Key Vault credential settings of the environment (an empty or malformed "
            "AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, certificate or federated token variable): "
            "correct or unset them, or give vault_tenant_id, vault_client_id and vault_client_secret.",
            code="invalid_environment") from None
    return VaultCredential(credential, "azure-identity's DefaultAzureCredential (environment, workload or managed "
                                       "identity, Azure CLI)")


# In order: the first builder that applies gives the vault's credential; the last always does.
VAULT_CREDENTIAL_BUILDERS: tuple[Builder, ...] = (
    given_access_token, sam_refresh_token, vault_service_principal, automation_platform, default_azure_credential)


def select_vault_credential(settings: VaultCredentialSettings, identity_options: Mapping[str, Any]) -> VaultCredential:
    """The credential of the first builder that applies. identity_options go to azure-identity's
    credentials (authority, transport, instance discovery)."""
    for build in VAULT_CREDENTIAL_BUILDERS:
        chosen = build(settings, identity_options)
        if chosen is not None:
            return chosen
    raise SecureAppError("No Key Vault credential applies: give access_token or vault_tenant_id, vault_client_id "
                         "and vault_client_secret.", code="no_credential")
