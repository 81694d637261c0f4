# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The Key Vault modules: the vault, and how they authenticate to it.
    DOCUMENTATION = r"""
notes:
  - "Credentials for the vault, in this order: O(access_token) (a token for the vault); O(client_id) with
    O(refresh_token) (exchanged for a vault token); O(client_id) with O(client_secret) and O(tenant_id) (a service
    principal); otherwise azure-identity's non-interactive chain: environment (C(AZURE_CLIENT_ID),
    C(AZURE_TENANT_ID), C(AZURE_CLIENT_SECRET)), managed identity, Azure CLI."
options:
  vault_url:
    description: The vault's URL, such as C(https://NAME.vault.azure.net).
    type: str
    required: true
requirements:
  - azure-identity >= 1.16.1
  - azure-keyvault-secrets >= 4.7.0
"""
