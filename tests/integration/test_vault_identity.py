"""Which identity the Key Vault modules use: vault_* apart from the SAM app's credentials (so they
can sit in module_defaults for the whole group), Automation Platform's Azure credential variables,
and azure-identity's DefaultAzureCredential with a managed identity (the sandbox's App Service
style endpoint)."""
from __future__ import annotations

import pytest

from integration_helpers import failure

# Nothing from the machine running the tests may pick a credential.
CREDENTIAL_VARIABLES = ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_SECRET", "AZURE_TENANT",
                        "AZURE_FEDERATED_TOKEN_FILE", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET",
                        "IMDS_ENDPOINT")
CLEAN = {name: None for name in CREDENTIAL_VARIABLES}


@pytest.fixture(scope="module")
def stored(run_playbook, ep, sam):
    """A secret the tests read back, written by the vault's own service principal."""
    variables = {"sam_client_id": sam["app_id"], "sam_client_secret": sam["secret"], "secret_name": "identity-test",
                 "secret_value": "kept", "vault_principal": ep["principals"]["automation"]}
    run = run_playbook("vault_identity.yml", variables, env=dict(CLEAN, PATH="/usr/bin:/bin"))
    assert run.ok, run
    return variables


def test_vault_identity_apart_from_the_group_defaults(run_playbook, stored):
    """vault_* beside the SAM app's client_id/client_secret in module_defaults: fails if the SAM
    app's credentials win (it has no vault access: a 403 naming no principal, the reported bug)."""
    run = run_playbook("vault_identity.yml", stored, env=dict(CLEAN, PATH="/usr/bin:/bin"))
    assert run.ok, run
    assert run.task("Report")["msg"] == ["identity-test"]


def test_without_a_vault_identity_the_sentence_says_whose_secret_it_is(run_playbook, stored):
    """Fails if the SAM app's secret is used for the vault, or if the failure does not say that
    client_id/client_secret are the SAM app's and name vault_client_id."""
    variables = {k: v for k, v in stored.items() if k not in ("vault_principal", "secret_value")}
    message = failure(run_playbook("vault_identity.yml", variables, env=dict(CLEAN, PATH="/usr/bin:/bin")))
    assert "no Key Vault credential is available (client_id and client_secret are the SAM app's" in message
    assert "vault_client_id" in message


def test_automation_platform_azure_credential(run_playbook, ep, stored):
    """AZURE_CLIENT_ID, AZURE_TENANT and AZURE_SECRET, as Automation Platform's Azure Resource
    Manager credential injects them: fails if they are not read."""
    principal = ep["principals"]["automation"]
    env = dict(CLEAN, PATH="/usr/bin:/bin", AZURE_CLIENT_ID=principal["client_id"], AZURE_TENANT=principal["tenant_id"],
               AZURE_SECRET=principal["client_secret"])
    variables = {k: v for k, v in stored.items() if k not in ("vault_principal", "secret_value")}
    run = run_playbook("vault_identity.yml", variables, env=env)
    assert run.ok, run
    assert run.task("Report")["msg"] == ["identity-test"]


def test_managed_identity_system_then_user_assigned(run_playbook, ep, stored):
    """The sandbox's App Service managed identity endpoint through DefaultAzureCredential: the
    system-assigned identity may read, not write (the 403 names the credential); with
    AZURE_CLIENT_ID the user-assigned one writes. Fails if managed identities are not in the chain
    or AZURE_CLIENT_ID is not honoured."""
    identities = ep["managed_identities"]
    env = dict(CLEAN, PATH="/usr/bin:/bin", IDENTITY_ENDPOINT=ep["cloud"]["login"] + "/msi/token",
               IDENTITY_HEADER=identities["header"])
    base = {k: v for k, v in stored.items() if k not in ("vault_principal", "secret_value")}
    read = run_playbook("vault_identity.yml", base, env=env)
    assert read.ok, read
    assert read.task("Report")["msg"] == ["identity-test"]
    message = failure(run_playbook("vault_identity.yml", dict(base, secret_value="by system"), env=env))
    assert "access denied" in message and "DefaultAzureCredential" in message
    user = dict(env, AZURE_CLIENT_ID=identities["user_assigned"]["client_id"])
    written = run_playbook("vault_identity.yml", dict(base, secret_value="by user-assigned"), env=user)
    assert written.ok, written
