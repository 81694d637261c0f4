#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: keyvault_secret_info
short_description: Read Azure Key Vault secrets
version_added: 0.1.0
description:
  - Reads the current version of one or more Key Vault secrets, with their values, over one credential and one
    HTTP session.
  - A result that holds values is hidden from output by the collection itself; a failure stays visible.
author:
  - partnercenter.secure_app developers (@partnercenter)
extends_documentation_fragment:
  - partnercenter.secure_app.common
  - partnercenter.secure_app.common.CONNECTION
  - partnercenter.secure_app.common.PARTNER_TOKEN
  - partnercenter.secure_app.attributes.ACTION_GROUP
  - partnercenter.secure_app.keyvault
  - partnercenter.secure_app.keyvault.VAULT
  - partnercenter.secure_app.attributes.INFO_MODULE
options:
  names:
    description: Names of the secrets to read.
    type: list
    elements: str
    required: true
  fail_on_missing:
    description: Fail when a secret does not exist (or is soft-deleted), naming it.
    type: bool
    default: true
"""

EXAMPLES = r"""
# With the vault's service principal of your variables file; without vault_* options, azure-identity's
# chain is used (the machine's managed identity, workload identity, az login, ...).
- name: Read the SAM credentials
  partnercenter.secure_app.keyvault_secret_info:
    vault_url: "{{ partner_token_vault_url }}"
    names: [sam-app-id, sam-client-secret, sam-refresh-token]
    vault_tenant_id: "{{ partner_token_vault_tenant_id | default(omit, true) }}"
    vault_client_id: "{{ partner_token_vault_client_id | default(omit, true) }}"
    vault_client_secret: "{{ partner_token_vault_client_secret | default(omit, true) }}"
  register: stored
"""

RETURN = r"""
secrets:
  description: The secrets found, in the order of O(names), each with its value (a secret).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name.
      type: str
    value:
      description: The value.
      type: str
    version:
      description: Current version.
      type: str
    content_type:
      description: Content type.
      type: str
    tags:
      description: Tags, names to values (free-form; the collection's own are listed in the onboard role's README).
      type: dict
      sample: {"app_id": "...", "key_id": "...", "expires": "2027-11-27T08:28:18Z"}
    expires_on:
      description: Expiry as Unix seconds.
      type: int
missing:
  description: Names that were not found (only with O(fail_on_missing=false)).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.partnercenter.secure_app.plugins.module_utils._errors import SecureAppError
from ansible_collections.partnercenter.secure_app.plugins.module_utils._keyvault import KEYVAULT_ARGUMENT_SPEC, KeyVault, secret_view
from ansible_collections.partnercenter.secure_app.plugins.module_utils._module import SecureAppModule


def run(module: SecureAppModule) -> dict:
    vault = KeyVault.from_options(module.context)
    found, missing = [], []
    for name in module.params["names"]:
        secret = vault.get(name)
        if secret is None:
            missing.append(name)
        else:
            found.append(secret_view(secret, with_value=True))
    if missing and module.params["fail_on_missing"]:
        raise SecureAppError(f"Secret {missing[0]!r} was not found in {vault.vault_url} (or it is soft-deleted): set "
                             "it first (run the onboarding), or check the name and vault_url.", code="SecretNotFound",
                             details={"missing": missing})
    return {"changed": False, "secrets": found, "missing": missing}


def main() -> None:
    module = SecureAppModule(
        {
            **KEYVAULT_ARGUMENT_SPEC,
            "names": {"type": "list", "elements": "str", "required": True},
            "fail_on_missing": {"type": "bool", "default": True},
        },
        supports_check_mode=True, partner_token_resource="keyvault",
    )
    module.run(run)


if __name__ == "__main__":
    main()
