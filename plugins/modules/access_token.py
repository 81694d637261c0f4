#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: access_token
short_description: Exchange the SAM refresh token for access tokens (partner and customer tenants)
version_added: 0.1.0
description:
  - Exchanges the Secure Application Model refresh token (with the app's id and secret) for access tokens to
    Partner Center, Microsoft Graph, Azure Resource Manager, Key Vault or explicit scopes, in the partner tenant
    and, when asked, in customer tenants (concurrently, over one HTTP session).
  - A customer whose token cannot be had is reported in RV(customers) with its cause, without failing the others,
    unless O(fail_on_customer_error=true).
  - Returns the rotated refresh token. Store it (for example in Key Vault) before using it for anything else.
  - Tokens are returned as task results, never as facts. A successful result is hidden from output by the
    collection itself; a failure stays visible (its message never holds a secret).
  - Runs on the controller (an action plugin), so a long fan-out shows its progress (done, total, failed so far)
    every 5 seconds, never a token; the controller's Python needs the collection's requirements.
  - Each customer tenant costs one token request per resource. The partner tenant's sign-in metadata is read
    once (it also tells whether the tenant lives in another national cloud); customers' token requests go to the
    same token endpoint with the customer's tenant.
author:
  - partnercenter.secure_app developers (@partnercenter)
extends_documentation_fragment:
  - partnercenter.secure_app.common
  - partnercenter.secure_app.common.CONNECTION
  - partnercenter.secure_app.attributes.ACTION_GROUP
  - partnercenter.secure_app.attributes.INFO_MODULE
options:
  resources:
    description: Resources to get tokens for.
    type: list
    elements: str
    choices: [partner_center, graph, azure, keyvault, aad_graph]
  scopes:
    description: Explicit scopes, each giving one token (named by the scope in RV(tokens)).
    type: list
    elements: str
  customer_tenants:
    description: Customer tenant ids (or domains) to get the same tokens in.
    type: list
    elements: str
  concurrency:
    description:
      - How many customer tenants are handled at once.
      - The default comes from measurements at 1,000 tenants (as the README's Fan-out performance shows, 8 took about
        twice as long as 32, 64 from as long to a fifth less); when Entra answers 429, every thread pauses for its
        Retry-After, not only the one that got it.
    type: int
    default: 32
  fail_on_customer_error:
    description: Fail the task when any customer tenant gives no token.
    type: bool
    default: false
"""

EXAMPLES = r"""
# The SAM credentials as onboard stored them (read with the vault's service principal of your
# variables file; left out, azure-identity's chain is used: managed identity, az login, ...).
- name: Read the SAM credentials from Key Vault
  partnercenter.secure_app.keyvault_secret_info:
    vault_url: "{{ partner_token_vault_url }}"
    names: [sam-app-id, sam-tenant-id, sam-client-secret, sam-refresh-token]
    vault_tenant_id: "{{ partner_token_vault_tenant_id | default(omit, true) }}"
    vault_client_id: "{{ partner_token_vault_client_id | default(omit, true) }}"
    vault_client_secret: "{{ partner_token_vault_client_secret | default(omit, true) }}"
  register: stored

- name: Tokens for Partner Center, Graph and Azure in the partner tenant
  partnercenter.secure_app.access_token:
    tenant_id: "{{ sam['sam-tenant-id'] }}"
    client_id: "{{ sam['sam-app-id'] }}"
    client_secret: "{{ sam['sam-client-secret'] }}"
    refresh_token: "{{ sam['sam-refresh-token'] }}"
    resources: [partner_center, graph, azure]
  vars:
    sam: "{{ stored.secrets | items2dict(key_name='name', value_name='value') }}"
  register: exchanged
  no_log: true

# Store exchanged.refresh_token (the rotated one) before anything else uses the tokens, as the
# partner_token role does.
- name: Graph tokens in every customer the partner has
  partnercenter.secure_app.access_token:
    tenant_id: "{{ sam['sam-tenant-id'] }}"
    client_id: "{{ sam['sam-app-id'] }}"
    client_secret: "{{ sam['sam-client-secret'] }}"
    refresh_token: "{{ exchanged.refresh_token }}"
    resources: [graph]
    customer_tenants: "{{ partner_token.customers.keys() | list + partner_token.customer_errors | map(attribute='tenant_id') | list }}"
    fail_on_customer_error: false
  vars:
    sam: "{{ stored.secrets | items2dict(key_name='name', value_name='value') }}"
  register: customer_tokens
  no_log: true
"""

RETURN = r"""
tokens:
  description: Per resource (or scope) asked for, the access token and its use. Secret.
  returned: success
  type: dict
  sample:
    graph:
      access_token: eyJ0eXAi...
      expires_on: 1767225600
      tenant_id: 00000000-0000-0000-0000-000000000000
      scope: https://graph.microsoft.com/Directory.AccessAsUser.All
  contains:
    RESOURCE:
      description: One per resource or scope, named by it.
      type: dict
      contains:
          access_token:
            description: The access token (secret).
            type: str
          expires_on:
            description: When it expires (seconds since the epoch).
            type: int
            sample: 1767225600
          tenant_id:
            description: The tenant that issued it.
            type: str
          scope:
            description: The permissions it carries.
            type: str
            sample: https://graph.microsoft.com/Directory.AccessAsUser.All
customers:
  description: Per customer tenant, in the order given, its tokens or the error that kept them away.
  returned: success
  type: list
  elements: dict
  sample: [{"tenant_id": "11111111-2222-3333-4444-555555555555", "tokens": {}, "error": "The service account has no
    access to tenant ...", "error_code": "AADSTS50020", "error_resource": "graph"}]
  contains:
    tenant_id:
      description: The customer tenant.
      type: str
    tokens:
      description: Per resource, as in RV(tokens); empty when the tenant gave no token.
      type: dict
    error:
      description: One sentence with the cause and the fix, or null.
      type: str
    error_code:
      description: The AADSTS code (or another short code), or null.
      type: str
    error_resource:
      description: The resource whose token failed, or null.
      type: str
refresh_token:
  description: The newest (rotated) refresh token. Secret; store it before anything else uses it.
  returned: success
  type: str
identity:
  description: Who the refresh token belongs to.
  returned: success
  type: dict
  sample: {"upn": "sam-service@contoso.onmicrosoft.com", "object_id": "...", "tenant_id": "...", "mfa": true}
  contains:
    upn:
      description: The service account's user principal name.
      type: str
    object_id:
      description: Its object id.
      type: str
    tenant_id:
      description: Its home tenant (the partner tenant).
      type: str
    mfa:
      description: Whether the sign-in behind the refresh token used multi-factor authentication.
      type: bool
endpoints:
  description: The cloud's endpoints used, for callers that build API URLs.
  returned: success
  type: dict
  sample: {"name": "AzureCloud", "login": "https://login.microsoftonline.com", "graph": "https://graph.microsoft.com",
    "resource_manager": "https://management.azure.com", "partner_center": "https://api.partnercenter.microsoft.com"}
  contains:
    name:
      description: The cloud's name.
      type: str
    login:
      description: The identity platform.
      type: str
    graph:
      description: Microsoft Graph.
      type: str
    resource_manager:
      description: Azure Resource Manager.
      type: str
    partner_center:
      description: Partner Center's REST API.
      type: str
retries:
  description: How many HTTP retries (throttling, transient failures) the run needed.
  returned: success
  type: int
  sample: 0
customer_tokens:
  description: The customers that gave tokens, by tenant id, each as RV(tokens). Secret.
  returned: success
  type: dict
  sample: {"11111111-2222-3333-4444-555555555555": {"graph": {"access_token": "eyJ0eXAi...", "expires_on": 1767225600,
    "tenant_id": "11111111-2222-3333-4444-555555555555", "scope": "https://graph.microsoft.com/.default"}}}
  contains:
    TENANT_ID:
      description: One per customer tenant that gave every token, as RV(tokens).
      type: dict
customer_errors:
  description: The customers that gave no token.
  returned: success
  type: list
  elements: dict
  sample: [{"tenant_id": "11111111-2222-3333-4444-555555555555", "error": "App ... has no consent for this resource in
    customer tenant ...", "error_code": "AADSTS65001", "resource": "graph"}]
  contains:
    tenant_id:
      description: The customer tenant.
      type: str
    error:
      description: One sentence with the cause and the fix.
      type: str
    error_code:
      description: The AADSTS code or another short code.
      type: str
    resource:
      description: The resource whose token failed.
      type: str
"""

from ansible_collections.partnercenter.secure_app.plugins.module_utils._module import SecureAppModule
from ansible_collections.partnercenter.secure_app.plugins.module_utils._tokens import (
    ACCESS_TOKEN_ARGUMENT_SPEC, ACCESS_TOKEN_CHECKS, exchange)


def run(module: SecureAppModule) -> dict:
    params = module.params
    result = exchange(
        module.context, client_id=params["client_id"], client_secret=module.context.client_credential(),
        tenant=module.context.tenant(), refresh_token=params["refresh_token"], resources=params["resources"],
        scopes=params["scopes"], customer_tenants=params["customer_tenants"], concurrency=params["concurrency"],
        fail_on_customer_error=params["fail_on_customer_error"])
    return dict(result, changed=False)


def main() -> None:
    module = SecureAppModule(dict(ACCESS_TOKEN_ARGUMENT_SPEC), supports_check_mode=True, **ACCESS_TOKEN_CHECKS)
    module.run(run)


if __name__ == "__main__":
    main()
