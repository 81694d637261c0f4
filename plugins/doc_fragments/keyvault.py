# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # How the Key Vault modules authenticate to the vault: notes only (their options are VAULT's and the
    # common ones), with the empty options a fragment must have.
    DOCUMENTATION = r"""
options: {}
notes:
  - "Credentials for the vault, in this order: O(access_token) (a token for the vault); O(client_id) with
    O(refresh_token) (the SAM app's or a public client's refresh token, exchanged for a vault token); the vault's own
    service principal O(vault_tenant_id), O(vault_client_id), O(vault_client_secret); Automation Platform's built-in
    Azure credential (C(AZURE_CLIENT_ID), C(AZURE_TENANT), C(AZURE_SECRET) in the environment); otherwise
    azure-identity's C(DefaultAzureCredential) without interactive sign-in: environment (C(AZURE_TENANT_ID),
    C(AZURE_CLIENT_ID), C(AZURE_CLIENT_SECRET)), workload identity, managed identity (a user-assigned one named by
    C(AZURE_CLIENT_ID)), Azure CLI."
  - "O(tenant_id), O(client_id) and O(client_secret) are the SAM app's: without O(refresh_token) they are never the
    vault's identity, so C(module_defaults) for the group C(group/partnercenter.secure_app.secure_app) may hold the
    SAM app's credentials safely."
"""

    # The vault and its own identity, with the requirements: every step that reads the vault takes it
    # (partner_token alone, without the notes above).
    VAULT = r"""
options:

  vault_url:
    description: The vault's URL, such as C(https://NAME.vault.azure.net).
    type: str
    required: true
  vault_tenant_id:
    description: The tenant of the vault's service principal.
    type: str
  vault_client_id:
    description: The client id of the vault's service principal.
    type: str
  vault_client_secret:
    description: The client secret of the vault's service principal.
    type: str
requirements:
  - azure-identity >= 1.16.1
  - azure-keyvault-secrets >= 4.7.0
"""
