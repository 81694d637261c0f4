"""The App Service managed identity endpoint, through azure-identity's own ManagedIdentityCredential
(IDENTITY_ENDPOINT and IDENTITY_HEADER set): the system-assigned identity reads the vault, the
user-assigned one (by client id) also writes; a wrong header is refused."""
from __future__ import annotations

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.identity import ManagedIdentityCredential
from azure.keyvault.secrets import SecretClient


@pytest.fixture()
def app_service(ep, monkeypatch):
    monkeypatch.setenv("IDENTITY_ENDPOINT", ep["cloud"]["login"] + "/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", ep["managed_identities"]["header"])
    monkeypatch.delenv("MSI_ENDPOINT", raising=False)
    monkeypatch.delenv("AZURE_CLIENT_ID", raising=False)


def vault(ep, credential):
    return SecretClient(ep["vault_url"], credential)


def test_system_assigned_reads_but_may_not_write(ep, app_service):
    writer = vault(ep, ManagedIdentityCredential(client_id=ep["managed_identities"]["user_assigned"]["client_id"]))
    writer.set_secret("managed-identity-conformance", "value")
    reader = vault(ep, ManagedIdentityCredential())
    assert reader.get_secret("managed-identity-conformance").value == "value"
    with pytest.raises(HttpResponseError) as refused:
        reader.set_secret("managed-identity-conformance", "other")
    assert refused.value.status_code == 403


def test_token_names_the_identity(ep, app_service):
    token = ManagedIdentityCredential().get_token(ep["cloud"]["keyvault_resource"] + "/.default")
    assert token.token and token.expires_on > 0


def test_wrong_header_is_refused(ep, app_service, monkeypatch):
    monkeypatch.setenv("IDENTITY_HEADER", "not-the-header")
    with pytest.raises(ClientAuthenticationError):
        ManagedIdentityCredential().get_token(ep["cloud"]["keyvault_resource"] + "/.default")
