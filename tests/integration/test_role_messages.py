"""A failure inside a role names what the role's user sets (its variables), not the options of
the modules the role calls: each role passes option_names, and the shared layer's sentence is
said in those terms. One failure per role whose tasks pass options a user gives; fails when a
role's message names a module option (vault_tenant_id) instead of its variable
(partner_token_vault_tenant_id), e.g. when a role stops passing option_names."""
from __future__ import annotations

import re

import pytest

from conftest import role_variables
from integration_helpers import failure

NO_MACHINE_CREDENTIAL = {name: None for name in (
    "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_SECRET", "AZURE_TENANT",
    "AZURE_FEDERATED_TOKEN_FILE", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET",
    "IMDS_ENDPOINT")}
VAULT_IDENTITY = ("partner_token_vault_tenant_id", "partner_token_vault_client_id", "partner_token_vault_client_secret")


def without(variables: dict, names) -> dict:
    return {name: value for name, value in variables.items() if name not in names}


def bare(option: str, message: str) -> bool:
    return re.search(rf"(?<![\w./-]){re.escape(option)}(?![\w/-])", message) is not None


@pytest.mark.parametrize("role,playbook,change,says,not_says", [
    # partner_token without a vault identity (and none on the machine): the role's vault variables
    ("partner_token", "playbooks/daily.yml", lambda v: without(v, VAULT_IDENTITY),
     ["no Key Vault credential is available", *VAULT_IDENTITY],
     ["vault_tenant_id", "vault_client_id", "vault_client_secret"]),
    # customer_access takes the partner_token role's variables: the same names
    ("customer_access", "playbooks/customers.yml", lambda v: without(v, VAULT_IDENTITY),
     ["no Key Vault credential is available", *VAULT_IDENTITY],
     ["vault_tenant_id", "vault_client_id", "vault_client_secret"]),
    # onboard with a tenant alias Entra would resolve to any tenant
    ("onboard", "playbooks/onboard.yml", lambda v: dict(v, onboard_tenant_id="organizations"),
     ["onboard_tenant_id 'organizations' is not a tenant"], ["tenant_id"]),
])
def test_a_failure_inside_a_role_names_the_roles_variables(run_playbook, ep, role, playbook, change, says, not_says):
    variables = change(role_variables(ep, f"messages-{role}"))
    message = failure(run_playbook(playbook, variables, env=dict(NO_MACHINE_CREDENTIAL, PATH="/usr/bin:/bin")))
    for text in says:
        assert text in message, (role, message)
    for option in not_says:
        assert not bare(option, message), (role, option, message)
