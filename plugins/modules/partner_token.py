#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: partner_token
short_description: Access tokens from the SAM credentials in Key Vault, in one step (the partner_token role's engine)
version_added: 1.1.0
description:
  - Reads the SAM app id, partner tenant id, the app's credential and the refresh token from Key Vault, exchanges
    the refresh token for access tokens in the partner tenant, writes the rotated refresh token back to the vault
    before anything else can fail, then gets the same (or other) tokens in customer tenants, all with one Key Vault
    credential and one HTTP session.
  - The app's credential is the kind the vault holds - its certificate (private key and certificate, O(secret_names.client_certificate)),
    else its client secret, else none - then the app has a federated identity credential, and the token of the managed
    identity where the step runs (O(managed_identity_client_id) for a user-assigned one), or of O(client_assertion_file),
    is the client assertion.
  - The refresh token and the app's credential never leave the step; the result holds the access tokens and is hidden
    from output. The C(partner_token) role sets its fact from it with C(set_fact) (not cacheable); use the role
    rather than this module, unless you build a role of your own.
  - Customers are the tenants in O(customer_tenants), or found by the step itself (O(customers)), that is every
    customer Partner Center lists, or every customer with an active or expiring GDAP relationship.
  - Runs on the controller (an action plugin) and prints the customer fan-out's progress every 5 seconds (counts,
    never a token). Each customer costs one token request per resource.
  - The rotated refresh token is written back in check mode too, as the exchange has rotated it already.
author:
  - partnercenter.secure_app developers (@partnercenter)
extends_documentation_fragment:
  - partnercenter.secure_app.common.CONNECTION
  - partnercenter.secure_app.keyvault.VAULT
attributes:
  check_mode:
    support: full
    description: Runs the same in check mode, writing the rotated refresh token back (not writing it would lose it).
  diff_mode:
    support: none
    description: Returns no diff.
options:
  secret_names:
    description: Names of the Key Vault secrets, as the onboard role stored them.
    type: dict
    default:
      app_id: sam-app-id
      tenant_id: sam-tenant-id
      client_secret: sam-client-secret
      refresh_token: sam-refresh-token
      client_certificate: sam-client-certificate
    suboptions:
      app_id:
        description: Secret holding the app id.
        type: str
        default: sam-app-id
      tenant_id:
        description: Secret holding the partner tenant id.
        type: str
        default: sam-tenant-id
      client_secret:
        description: Secret holding the app's client secret.
        type: str
        default: sam-client-secret
      refresh_token:
        description: Secret holding the refresh token (rewritten with each rotation).
        type: str
        default: sam-refresh-token
      client_certificate:
        description:
          - Secret holding the app's certificate (PEM of private key and certificate), for the certificate kind.
          - Unset, it is named beside O(secret_names.client_secret) (C(sam-client-secret) gives C(sam-client-certificate)),
            as the onboard role stores it.
        type: str
  resources:
    description: Resources to get tokens for in the partner tenant.
    type: list
    elements: str
    default: [partner_center, graph, azure]
    choices: [partner_center, graph, azure, keyvault, aad_graph]
  customer_resources:
    description: Resources to get tokens for in each customer; by default those of O(resources).
    type: list
    elements: str
    choices: [partner_center, graph, azure, keyvault, aad_graph]
  customer_tenants:
    description:
      - Customer tenant ids (or domains) to get tokens in. When given, they are used as they are and no customer is
        looked up, whatever O(customers) says.
    type: list
    elements: str
    default: []
  customers:
    description:
      - Which customers to get tokens in when O(customer_tenants) is empty.
      - V(listed) means none beyond O(customer_tenants).
      - V(all) means every customer Partner Center lists for the partner (as the C(customer_access) role reports
        them); a Partner Center token is got for the listing even when O(resources) does not name it.
      - V(gdap) means every customer with an active or expiring GDAP relationship (read from Microsoft Graph); a
        Graph token is got for the listing even when O(resources) does not name it.
    type: str
    choices: [listed, all, gdap]
    default: listed
  customer_limit:
    description: At most this many customers (the first ones, in the order given or listed); V(0) means no limit.
    type: int
    default: 0
  concurrency:
    description:
      - How many customer tenants are handled at once.
      - The default comes from measurements at 1,000 tenants (as the README's Fan-out performance shows, 8 took about
        twice as long as 32, 64 from as long to a fifth less); when Entra answers 429, every thread pauses for its
        Retry-After, not only the one that got it.
    type: int
    default: 32
  managed_identity_client_id:
    description:
      - For an app with a federated credential (the vault holds neither a certificate nor a client secret), the client id
        of the user-assigned managed identity whose token is the client assertion; unset, the system-assigned one.
    type: str
  client_assertion_file:
    description:
      - For an app with a federated credential, a token file to use as the client assertion instead of a managed
        identity (Kubernetes workload identity's C(AZURE_FEDERATED_TOKEN_FILE), a CI system's OIDC token).
    type: path
notes:
  - "The vault's credential, in this order: its own service principal O(vault_tenant_id), O(vault_client_id),
    O(vault_client_secret); Automation Platform's built-in Azure credential (C(AZURE_CLIENT_ID), C(AZURE_TENANT),
    C(AZURE_SECRET) in the environment); otherwise azure-identity's C(DefaultAzureCredential) without interactive
    sign-in (environment, workload identity, managed identity, Azure CLI). It reads the four secrets and writes the
    refresh token, so it needs the secret get and set permissions."
seealso:
  - module: partnercenter.secure_app.access_token
    description: The exchange alone, with the credentials given to the task.
"""

EXAMPLES = r"""
# With the partner_token role's variables (your variables file, or the sandbox's variables.yml).
- name: Tokens in the partner tenant and in at most 100 of the customers Partner Center lists
  partnercenter.secure_app.partner_token:
    vault_url: "{{ partner_token_vault_url }}"
    vault_tenant_id: "{{ partner_token_vault_tenant_id | default(omit, true) }}"
    vault_client_id: "{{ partner_token_vault_client_id | default(omit, true) }}"
    vault_client_secret: "{{ partner_token_vault_client_secret | default(omit, true) }}"
    secret_names: "{{ partner_token_secret_names | default(omit) }}"
    cloud: "{{ partner_token_cloud | default('AzureCloud') }}"
    cloud_endpoints: "{{ partner_token_cloud_endpoints | default(omit, true) }}"
    ca_bundle: "{{ partner_token_ca_bundle | default(omit, true) }}"
    resources: [partner_center, graph]
    customer_resources: [graph]
    customers: all
    customer_limit: 100
  register: exchanged

- name: The fact other tasks take (not cacheable); the registered result keeps nothing secret
  ansible.builtin.set_fact:
    my_partner_token: "{{ exchanged.fact }}"
    exchanged: "{{ {'customers_asked': exchanged.customers_asked} }}"
  no_log: true

- name: How many customers gave tokens
  ansible.builtin.debug:
    msg: "{{ my_partner_token.customers | length }} of {{ exchanged.customers_asked }} customers gave a Graph token"
"""

RETURN = r"""
fact:
  description:
    - What the C(partner_token) role's fact holds (its README describes each key). Secret (access tokens); never the
      refresh token or the client secret.
  returned: success
  type: dict
  sample: {"tenant_id": "...", "app_id": "...", "upn": "sam-service@contoso.onmicrosoft.com", "mfa": true,
    "cloud": "AzureCloud", "cloud_endpoints": {}, "ca_bundle": "", "endpoints": {}, "resources": {"graph": {
    "access_token": "eyJ0eXAi...", "expires_on": 1767225600, "tenant_id": "...", "scope": "..."}},
    "customers": {}, "customer_errors": [], "customer_list": [], "obtained_at": "2026-01-01T00:00:00Z", "retries": 0}
customers_asked:
  description: How many customer tenants tokens were asked for in.
  returned: success
  type: int
  sample: 8
stored:
  description: Whether the rotated refresh token was written back to the vault (false when Entra did not rotate it).
  returned: success
  type: bool
  sample: true
lifecycle:
  description: From the vault's tags, what the lifecycle warnings of the C(partner_token) role need.
  returned: success
  type: dict
  sample: {"credential_kind": "certificate", "secret_expires": "2027-01-01T00:00:00Z", "secret_days_left": 390, "refresh_last_used":
    "2026-01-01T06:00:00Z", "refresh_unused_days": 1, "refresh_stops": "2026-04-01"}
  contains:
    credential_kind:
      description: The kind of the app's credential the vault holds - V(certificate), V(secret) or V(federated).
      type: str
    secret_expires:
      description:
        - When the client secret or certificate ends (its C(expires) tag), or null when the tag is missing or not a UTC
          time (always null for V(federated), which does not end).
      type: str
    secret_days_left:
      description: Whole days until then, or null.
      type: int
    refresh_last_used:
      description: When the stored refresh token was last used (its C(rotated), else C(issued) tag), or null.
      type: str
    refresh_unused_days:
      description: Whole days since then, or null.
      type: int
    refresh_stops:
      description: The day it would have stopped working had this run not used it (90 days after), or null.
      type: str
"""

from ansible_collections.partnercenter.secure_app.plugins.module_utils._module import SecureAppModule
from ansible_collections.partnercenter.secure_app.plugins.module_utils._vault_exchange import (
    PARTNER_TOKEN_STEP_ARGUMENT_SPEC, run_step)


def run(module: SecureAppModule) -> dict:
    return run_step(module.context, module.params)


def main() -> None:
    module = SecureAppModule(dict(PARTNER_TOKEN_STEP_ARGUMENT_SPEC), common=False, supports_check_mode=True)
    module.run(run)


if __name__ == "__main__":
    main()
