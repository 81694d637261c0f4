"""Which credential reaches Key Vault: the selector's order over its builders, and that the SAM
app's refresh token is exchanged only when it is the one chosen."""
from __future__ import annotations

import pytest

from ansible_collections.partnercenter.secure_app.plugins.module_utils._errors import SecureAppError
from ansible_collections.partnercenter.secure_app.plugins.module_utils._vault_credentials import (
    GIVEN_TOKEN_KIND, VaultCredentialSettings, select_vault_credential)

AAP = {"AZURE_CLIENT_ID": "aap-client", "AZURE_SECRET": "s", "AZURE_TENANT": "contoso.onmicrosoft.com"}
PRINCIPAL = {"tenant_id": "contoso.onmicrosoft.com", "client_id": "vault-client", "client_secret": "s"}


def exchanged(calls):
    def exchange():
        calls.append("exchange")
        return "vault-token", 2000000000
    return exchange


@pytest.mark.parametrize("given,kind", [
    ({"access_token": "t"}, GIVEN_TOKEN_KIND),
    ({"access_token": "t", **PRINCIPAL}, GIVEN_TOKEN_KIND),
    ({"refresh": True, **PRINCIPAL}, GIVEN_TOKEN_KIND),
    (PRINCIPAL, "the service principal vault-client (vault_client_id)"),
    ({**PRINCIPAL, "environment": AAP}, "the service principal vault-client (vault_client_id)"),
    ({"environment": AAP}, "the service principal aap-client of Automation Platform's Azure credential "
                           "(AZURE_CLIENT_ID, AZURE_TENANT, AZURE_SECRET)"),
    ({"environment": dict(AAP, AZURE_CLIENT_SECRET="x")}, "azure-identity's DefaultAzureCredential (environment, "
                                                          "workload or managed identity, Azure CLI)"),
    ({"environment": dict(AAP, AZURE_SECRET="")}, "azure-identity's DefaultAzureCredential (environment, "
                                                  "workload or managed identity, Azure CLI)"),
    ({}, "azure-identity's DefaultAzureCredential (environment, workload or managed identity, Azure CLI)"),
])
def test_the_first_credential_that_applies_is_chosen(given, kind):
    """Broken by: the builders in another order, a builder that applies when its settings are missing."""
    calls = []
    given = dict(given)
    refresh = given.pop("refresh", False) or "access_token" in given
    settings = VaultCredentialSettings(exchange_refresh_token=exchanged(calls) if refresh else None, **given)
    chosen = select_vault_credential(settings, {})
    assert chosen.kind == kind
    # The refresh token is exchanged only when nothing before it applies.
    assert calls == (["exchange"] if refresh and "access_token" not in given else [])
    if kind == GIVEN_TOKEN_KIND:
        assert chosen.credential.get_token("scope").token == given.get("access_token", "vault-token")


@pytest.mark.parametrize("missing", ["tenant_id", "client_id"])
def test_a_vault_secret_without_its_ids_is_one_sentence(missing):
    with pytest.raises(SecureAppError, match="^A Key Vault client secret .vault_client_secret. needs vault_tenant_id "
                                             "and vault_client_id as well.$"):
        select_vault_credential(VaultCredentialSettings(**dict(PRINCIPAL, **{missing: None})), {})
