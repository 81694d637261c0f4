# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options every module shares besides the connection: the tenant and the credential used. Every
    # plugin that takes these also takes CONNECTION (yamllint reads each fragment as one literal).
    DOCUMENTATION = r"""
options:
  tenant_id:
    description:
      - The partner tenant, by id (a GUID) or verified domain. Aliases such as C(common) or C(organizations) are
        refused, as they let Entra choose the tenant.
      - Can also be set with the E(PARTNERCENTER_TENANT_ID) environment variable.
    type: str
  client_id:
    description:
      - The application (client) id used to get tokens.
      - Can also be set with the E(PARTNERCENTER_CLIENT_ID) environment variable.
    type: str
  client_secret:
    description:
      - The application's client secret. With O(refresh_token) it makes the app a confidential client; without
        it, O(client_id) and O(client_secret) sign in as the service principal (app only).
      - Can also be set with the E(PARTNERCENTER_CLIENT_SECRET) environment variable.
    type: str
  client_certificate:
    description:
      - The application's certificate credential instead of O(client_secret) - one PEM text holding the private key
        and its certificate, as the C(onboard) role stores it in Key Vault. msal signs each client assertion with
        the key; the certificate must be one of the app's key credentials.
      - Give at most one of O(client_secret), O(client_certificate) and O(client_assertion_source).
    type: str
  client_assertion_source:
    description:
      - Authenticate the application with a federated identity credential instead of a secret or certificate - the
        workload's own token is the client assertion, so no credential of the app exists anywhere.
      - V(managed_identity) asks the managed identity where the task runs (through azure-identity) for a token for
        C(api://AzureADTokenExchange); the app needs a federated identity credential trusting that identity
        (issuer C(https://login.microsoftonline.com/TENANT/v2.0), subject its object id).
      - V(file) reads the token from O(client_assertion_file) each time one is needed (Kubernetes workload
        identity's C(AZURE_FEDERATED_TOKEN_FILE), a CI system's OIDC token).
    type: str
    choices: [managed_identity, file]
  managed_identity_client_id:
    description: With O(client_assertion_source=managed_identity), the client id of a user-assigned identity.
    type: str
  client_assertion_file:
    description: With O(client_assertion_source=file), the path of the token file.
    type: path
  refresh_token:
    description:
      - A refresh token of O(client_id), exchanged for the access token the task needs.
      - White space around a credential is removed (a YAML C(|) block adds a line break); any other
        character that no token has fails the task without showing the value.
      - Can also be set with the E(PARTNERCENTER_REFRESH_TOKEN) environment variable.
    type: str
  access_token:
    description:
      - An access token for the API the task calls, used as is. Wins over the other credentials.
    type: str
notes:
  - Results that hold a token or a secret are hidden from output by the collection; failures stay visible,
    as their messages never hold a secret.
"""

    # The connection options (cloud, TLS, retries) and the requirements, which every plugin that calls a
    # service takes; alone for a step that takes no SAM app credential (partner_token).
    CONNECTION = r"""
options:

  cloud:
    description:
      - The national cloud of the partner tenant.
      - Ignored when O(cloud_endpoints) is given.
      - Can also be set with the E(PARTNERCENTER_CLOUD) environment variable.
    type: str
    default: AzureCloud
    choices: [AzureCloud, AzureUSGovernment, AzureChinaCloud]
  cloud_endpoints:
    description:
      - Explicit endpoints of a custom cloud (such as the collection's sandbox), instead of O(cloud).
      - Keys C(login), C(graph), C(resource_manager), C(partner_center) and C(keyvault_resource) are required,
        each an C(https://HOST[:PORT]) URL; C(aad_graph), C(cloud_instance_name) and C(name) are optional.
    type: dict
  ca_bundle:
    description:
      - Path of a PEM file with the CAs to trust. TLS verification is always on; without this option the
        system's CAs are used.
      - Can also be set with the E(PARTNERCENTER_CA_BUNDLE) environment variable.
    type: path
  timeout:
    description: Seconds to wait for each HTTP response.
    type: int
    default: 30
  retries:
    description:
      - How many times a throttled (429), unavailable (5xx) or dropped request is retried, with jittered
        exponential backoff that honours C(Retry-After).
    type: int
    default: 6
  max_retry_wait:
    description:
      - The longest single wait before a retry, in seconds. When a service asks for a longer one in
        C(Retry-After), the task fails at once and says so, instead of sleeping for minutes.
    type: int
    default: 60
  deadline:
    description:
      - The longest time, in seconds, that one HTTP call may spend on retries, counted from its first attempt.
        No retry starts after it; the failure says how long was waited and why.
      - The timeout of each attempt is O(timeout).
    type: int
    default: 300
  option_names:
    description:
      - The names under which the caller sets this task's options, for its failure messages. A role passes the
        variables its user sets (for example C(vault_tenant_id) mapped to C(partner_token_vault_tenant_id)), so that a failure
        inside the role names C(partner_token_vault_tenant_id) rather than the option C(vault_tenant_id).
    type: dict
requirements:
  - python >= 3.11
  - msal >= 1.28.0
  - requests >= 2.33.0
  - urllib3 >= 2.7.0
  - pyjwt >= 2.13.0
  - cryptography >= 44.0.1 (for certificate credentials of the SAM app)
"""

    # partner_token, taken the same way by every module that calls an API (their shared action).
    PARTNER_TOKEN = r"""
options:
  partner_token:
    description:
      - The C(partner_token) fact as the C(partner_token) role sets it. The task takes from it the access token it
        needs (in the partner tenant) and the cloud, endpoints and CA bundle, so a role passes one value instead of
        copying fields. Mutually exclusive with O(access_token).
      - The fact is read on the controller; only the chosen token goes to the module. The fact (or any part of it
        holding tokens) given under another option fails the task before the module runs, without showing it.
    type: dict
"""

    # The same options for lookups, with environment and variable sources. Secrets have no ini.
    PLUGINS = r"""
options:
  cloud:
    description: The national cloud of the partner tenant; ignored when O(cloud_endpoints) is given.
    type: str
    default: AzureCloud
    choices: [AzureCloud, AzureUSGovernment, AzureChinaCloud]
    env:
      - name: PARTNERCENTER_CLOUD
    vars:
      - name: partnercenter_cloud
  cloud_endpoints:
    description: Explicit endpoints of a custom cloud, as for the modules.
    type: dict
    vars:
      - name: partnercenter_cloud_endpoints
  ca_bundle:
    description: Path of a PEM file with the CAs to trust (verification is always on).
    type: path
    env:
      - name: PARTNERCENTER_CA_BUNDLE
    vars:
      - name: partnercenter_ca_bundle
  timeout:
    description: Seconds to wait for each HTTP response.
    type: int
    default: 30
  retries:
    description: How many times a throttled, unavailable or dropped request is retried.
    type: int
    default: 6
  max_retry_wait:
    description: The longest single wait before a retry, in seconds (a longer C(Retry-After) fails at once).
    type: int
    default: 60
  deadline:
    description: The longest time, in seconds, one HTTP call may spend on retries.
    type: int
    default: 300
  tenant_id:
    description: The partner tenant, by id or verified domain.
    type: str
    env:
      - name: PARTNERCENTER_TENANT_ID
    vars:
      - name: partnercenter_tenant_id
  client_id:
    description: The application (client) id.
    type: str
    env:
      - name: PARTNERCENTER_CLIENT_ID
    vars:
      - name: partnercenter_client_id
  client_secret:
    description: The application's client secret.
    type: str
    env:
      - name: PARTNERCENTER_CLIENT_SECRET
    vars:
      - name: partnercenter_client_secret
  client_certificate:
    description: The application's certificate credential (PEM of private key and certificate), instead of a secret.
    type: str
    vars:
      - name: partnercenter_client_certificate
  client_assertion_source:
    description: Authenticate the application with a federated credential (V(managed_identity) or V(file)).
    type: str
    choices: [managed_identity, file]
    vars:
      - name: partnercenter_client_assertion_source
  managed_identity_client_id:
    description: The client id of a user-assigned managed identity for O(client_assertion_source=managed_identity).
    type: str
    vars:
      - name: partnercenter_managed_identity_client_id
  client_assertion_file:
    description: The token file for O(client_assertion_source=file).
    type: path
    vars:
      - name: partnercenter_client_assertion_file
  refresh_token:
    description: The refresh token to exchange.
    type: str
    env:
      - name: PARTNERCENTER_REFRESH_TOKEN
    vars:
      - name: partnercenter_refresh_token
  access_token:
    description: An access token used as is.
    type: str
"""
