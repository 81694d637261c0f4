#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: app_registration
short_description: Create, update or delete the Secure Application Model app registration
version_added: 0.1.0
description:
  - Manages the multi-tenant Entra ID application that Partner Center's Secure Application Model uses, through
    Microsoft Graph.
  - Finds the app by O(app_id), or by O(display_name) when that names exactly one app; two apps with the same
    name make the task fail and list their app ids.
  - Ensures the app's service principal exists in the partner tenant.
  - Creates a client secret only when the app has no valid secret this module manages (one named
    O(secret_name)), when the secret you hold (O(secret_key_id)) is no longer a valid secret of the app, or when
    O(rotate_secret=true). The secret value is returned once, in RV(secret.value);
    store it at once (for example with M(partnercenter.secure_app.keyvault_secret)).
  - A new secret never removes the old ones in the same task, so a failure before the new secret is stored
    leaves the old one working. Rotate safely in four steps, as the C(onboard) role does - add a new secret,
    store it, check that it works, then remove the others with O(secret_key_id) and O(remove_other_secrets=true).
  - A result that holds a new secret is hidden from output by the collection itself; a failure stays visible,
    as its message never holds a secret. A task-level C(no_log) would hide that message too.
  - Options left unset keep what an existing app has; a new app gets the Secure Application Model defaults.
  - A task that fails after a write went through (the app created, then its service principal or credential refused)
    still says C(changed), returns RV(app) as it now is (its app id and object id) with the diff, and its message
    names what was done first; running the task again finishes what is missing.
  - O(credential_kind) chooses how the app authenticates. V(secret) manages client secrets as above. V(certificate)
    manages certificates instead - a key pair is made where the task runs (or O(certificate) is used) and its
    public certificate is added to the app's key credentials; the first one by an update of the application,
    later ones through Graph's C(addKey) with a proof of possession signed by O(current_certificate). The private
    key is returned once, in RV(certificate.pem); store it at once, as with a secret. V(federated) manages a
    federated identity credential (O(federated_credential)) - the workload presents its own token, so no secret
    or key of the app exists.
  - Moving an app to another kind is the same four steps as a rotation - add the new credential, store it, prove
    it, then remove the others (O(remove_other_secrets) removes every secret and certificate this module manages
    except the one kept).
author:
  - partnercenter.secure_app developers (@partnercenter)
extends_documentation_fragment:
  - partnercenter.secure_app.common
  - partnercenter.secure_app.common.CONNECTION
  - partnercenter.secure_app.common.PARTNER_TOKEN
  - partnercenter.secure_app.attributes.ACTION_GROUP
attributes:
  check_mode:
    support: full
    description: Reports what would change; nothing is written.
  diff_mode:
    support: full
    description: Shows the fields that change (never a secret).
options:
  display_name:
    description: The app's display name. Used to find the app when O(app_id) is not given.
    type: str
  app_id:
    description: The application (client) id of an existing app to manage.
    type: str
  state:
    description: Whether the app should exist.
    type: str
    default: present
    choices: [present, absent]
  sign_in_audience:
    description: Who may sign in. New apps get C(AzureADMultipleOrgs), which the Secure Application Model needs.
    type: str
    choices: [AzureADMyOrg, AzureADMultipleOrgs, AzureADandPersonalMicrosoftAccount]
  required_resource_access:
    description:
      - API permissions in Graph's C(requiredResourceAccess) format, replacing the defaults.
      - New apps get Partner Center C(user_impersonation), Microsoft Graph C(Directory.AccessAsUser.All)
        (delegated) and C(Directory.Read.All) (application), and Azure Service Management C(user_impersonation).
    type: list
    elements: dict
  include_aad_graph:
    description:
      - Also request the retired Azure AD Graph permissions of the original Secure Application Model script.
        Only for tools that still need Azure AD Graph.
    type: bool
  gdap_write:
    description:
      - Request Microsoft Graph's delegated C(DelegatedAdminRelationship.ReadWrite.All) instead of
        C(DelegatedAdminRelationship.Read.All), so that the service account's tokens can request and renew GDAP
        relationships and assign groups (the customer_access role's C(customer_access_fix)). Least privilege leaves
        it off when the collection only reports.
    type: bool
    version_added: 1.1.0
  redirect_uris:
    description: Web redirect URIs. New apps get C(http://localhost:8400), which Partner Center PowerShell uses.
    type: list
    elements: str
  oob_redirect:
    description: Register C(urn:ietf:wg:oauth:2.0:oob) as a public client redirect URI (copy-the-code sign-in).
    type: bool
  allow_public_client_flows:
    description: Allow public client flows (device code sign-in without the client secret).
    type: bool
  credential_kind:
    description:
      - The kind of credential this task ensures on the app - V(secret) (a client secret), V(certificate) (a
        certificate in its key credentials) or V(federated) (a federated identity credential).
    type: str
    default: secret
    choices: [secret, certificate, federated]
  certificate:
    description:
      - With O(credential_kind=certificate), an existing certificate to add instead of a new key pair - the PEM of
        its private key and certificate. Returned in RV(certificate.pem) when added, so that the same tasks store it.
    type: str
  current_certificate:
    description:
      - With O(credential_kind=certificate), the PEM (private key and certificate) of a valid certificate of the app
        that you hold, usually the one in Key Vault. A new certificate is then added with C(addKey) and old ones
        removed with C(removeKey), both proven with this key; without it the app's certificates are replaced
        through an update of the application.
      - With O(remove_other_secrets=true), the certificate kept (O(secret_key_id)).
    type: str
  federated_credential:
    description: With O(credential_kind=federated), the federated identity credential the app trusts.
    type: dict
    suboptions:
      name:
        description: Its name, unique on the app (3 to 120 letters, digits, C(-) and C(_)). Defaults to O(secret_name)
          with other characters replaced by C(-).
        type: str
      issuer:
        description:
          - The issuer of the workload's tokens. Defaults to the partner tenant's identity platform issuer
            (C(https://login.microsoftonline.com/TENANT/v2.0)), which issues its managed identities' tokens.
        type: str
      subject:
        description: The subject of the workload's tokens; for a managed identity, its object (principal) id.
        type: str
        required: true
      audiences:
        description: The audience of the workload's tokens.
        type: list
        elements: str
        default: [api://AzureADTokenExchange]
      description:
        description: A description.
        type: str
  rotate_secret:
    description:
      - Create a new client secret (or certificate, with O(credential_kind=certificate)) even when a valid one exists.
        The ones this module made before stay until a later task removes them with O(remove_other_secrets);
        RV(secret.replaced_key_ids) (or RV(certificate.replaced_key_ids)) lists them.
    type: bool
    default: false
  secret_key_id:
    description:
      - The key id of the managed secret (or certificate) you hold, for example the C(key_id) tag of the secret in
        Key Vault.
      - When it is not a valid credential of the app, a new one is created, as with O(rotate_secret).
      - With O(remove_other_secrets=true), the secret or certificate to keep (not needed for V(federated)).
    type: str
  remove_other_secrets:
    description:
      - Remove every secret and certificate this module manages except O(secret_key_id) (with
        O(credential_kind=federated), all of them). Do this only after the credential you keep is stored and shown
        to work. Creates nothing.
    type: bool
    default: false
  secret_name:
    description: Display name of the client secrets and certificates this module manages.
    type: str
    default: partnercenter.secure_app
  secret_valid_days:
    description: Lifetime of a new client secret or certificate, in days.
    type: int
    default: 365
  secret_min_days:
    description: A managed secret or certificate that expires within this many days counts as missing, so a new one is
      made.
    type: int
    default: 30
"""

EXAMPLES = r"""
- name: Sign the partner admin in for Graph (Azure CLI's public client, device code)
  partnercenter.secure_app.consent:
    tenant_id: "{{ partner_token.tenant_id }}"
    client_id: 04b07795-8ddb-461a-bbee-02f9e1bf7b46
    resource: graph
    require_mfa: false
  register: admin
  no_log: true

- name: Create or update an app and get its secret once
  partnercenter.secure_app.app_registration:
    display_name: Partner Center SAM example
    tenant_id: "{{ partner_token.tenant_id }}"
    access_token: "{{ admin.access_token }}"
  register: sam_app
  no_log: true

- name: Rotate the client secret (1/2) - add a new one; the old one keeps working
  partnercenter.secure_app.app_registration:
    app_id: "{{ sam_app.app.app_id }}"
    rotate_secret: true
    access_token: "{{ admin.access_token }}"
  register: rotated
  no_log: true

# ... store rotated.secret.value in Key Vault, check that it works ...

- name: Rotate the client secret (2/2) - remove the replaced ones
  partnercenter.secure_app.app_registration:
    app_id: "{{ sam_app.app.app_id }}"
    secret_key_id: "{{ rotated.secret.key_id }}"
    remove_other_secrets: true
    access_token: "{{ admin.access_token }}"

- name: Give the app a certificate instead of a secret (the private key is returned once)
  partnercenter.secure_app.app_registration:
    app_id: "{{ sam_app.app.app_id }}"
    credential_kind: certificate
    access_token: "{{ admin.access_token }}"
  register: with_certificate
  no_log: true

# ... store with_certificate.certificate.pem in Key Vault, check that it works, then remove the secrets ...

- name: Trust a managed identity instead (no credential of the app exists)
  partnercenter.secure_app.app_registration:
    app_id: "{{ sam_app.app.app_id }}"
    credential_kind: federated
    federated_credential:
      subject: 6b0b4a5e-2f3c-4f4e-9a53-8f1d2c3b4a5f  # the managed identity's principal (object) id
    access_token: "{{ admin.access_token }}"

- name: Delete the app
  partnercenter.secure_app.app_registration:
    display_name: Partner Center SAM example
    state: absent
    access_token: "{{ admin.access_token }}"
"""

RETURN = r"""
app:
  description:
    - The app registration after the task (null when absent, or when check mode would create it).
    - In a task that failed after the app was created or changed, the app as it is then.
  returned: always
  type: dict
  contains:
    app_id:
      description: Application (client) id.
      type: str
    object_id:
      description: Object id of the application.
      type: str
    display_name:
      description: Display name.
      type: str
    sign_in_audience:
      description: Sign-in audience.
      type: str
    redirect_uris:
      description: Web redirect URIs.
      type: list
    public_client_redirect_uris:
      description: Public client redirect URIs.
      type: list
    allow_public_client_flows:
      description: Whether public client flows are allowed.
      type: bool
    required_resource_access:
      description: API permissions.
      type: list
    service_principal_id:
      description: Object id of the app's service principal in the partner tenant.
      type: str
    tenant_id:
      description: The tenant given to the task.
      type: str
    managed_secrets:
      description: Key ids, hints and end dates of the app's client secrets (never their values).
      type: list
    certificates:
      description: Key ids, thumbprints (C(customKeyIdentifier)), display names and end dates of the app's certificates.
      type: list
    credential_kind:
      description: The O(credential_kind) of the task.
      type: str
    federated_credentials:
      description: With O(credential_kind=federated), the app's federated identity credentials before the task.
      type: list
      returned: with O(credential_kind=federated)
secret:
  description:
    - The client secret created by this run, returned only here and only once. Null when none was created.
    - This is a secret. Use C(no_log) on the task.
  returned: always
  type: dict
  contains:
    value:
      description: The secret value.
      type: str
    key_id:
      description: Its key id.
      type: str
    hint:
      description: Its first characters, as Entra ID shows them.
      type: str
    end_date_time:
      description: When it expires.
      type: str
    replaced_key_ids:
      description: Key ids of the managed secrets it replaces, still valid until removed with O(remove_other_secrets).
      type: list
      elements: str
certificate:
  description:
    - The certificate added by this run, with its private key, returned only here and only once. Null when none was
      added.
    - This is a secret. The result is hidden from output by the collection.
  returned: always
  type: dict
  contains:
    pem:
      description: The private key and the certificate, in PEM.
      type: str
    key_id:
      description: Its key id on the app.
      type: str
    thumbprint:
      description: Its SHA-1 thumbprint (hex), as Entra ID shows it.
      type: str
    end_date_time:
      description: When it expires.
      type: str
    replaced_key_ids:
      description: Key ids of the managed certificates it replaces, still valid until removed.
      type: list
      elements: str
federated_credential:
  description: With O(credential_kind=federated), the federated identity credential after the task.
  returned: with O(credential_kind=federated)
  type: dict
  sample:
    name: partnercenter-secure_app
    issuer: https://login.microsoftonline.com/4f2a3e2f-eb96-53de-af4e-2f0785a464ae/v2.0
    subject: 0b3e9d5c-5d0f-4a8f-9b52-2a1e3c7d9f10
    audiences: [api://AzureADTokenExchange]
removed_key_ids:
  description: With O(remove_other_secrets), the key ids of the secrets and certificates removed.
  returned: when O(remove_other_secrets=true)
  type: list
  elements: str
  sample: [0b3e9d5c-5d0f-4a8f-9b52-2a1e3c7d9f10]
"""

from ansible_collections.partnercenter.secure_app.plugins.module_utils._app_registration import AppRegistration
from ansible_collections.partnercenter.secure_app.plugins.module_utils._graph import Graph
from ansible_collections.partnercenter.secure_app.plugins.module_utils._identity import unverified_claims
from ansible_collections.partnercenter.secure_app.plugins.module_utils._module import SecureAppModule


def run(module: SecureAppModule) -> dict:
    context = module.context
    token = context.token("graph", "manage the app registration")
    registration = AppRegistration(Graph(context.http, context.cloud, token), module.params, module.check_mode,
                                   module.writes)
    registration.token_tenant_id = unverified_claims(token).get("tid")
    if module.params["state"] == "absent":
        return registration.absent()
    return registration.present()


def main() -> None:
    module = SecureAppModule(
        {
            "display_name": {"type": "str"},
            "app_id": {"type": "str"},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
            "sign_in_audience": {"type": "str",
                                 "choices": ["AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount"]},
            "required_resource_access": {"type": "list", "elements": "dict"},
            "include_aad_graph": {"type": "bool"},
            "gdap_write": {"type": "bool"},
            "redirect_uris": {"type": "list", "elements": "str"},
            "oob_redirect": {"type": "bool"},
            "allow_public_client_flows": {"type": "bool"},
            "rotate_secret": {"type": "bool", "default": False, "no_log": False},
            "secret_name": {"type": "str", "default": "partnercenter.secure_app", "no_log": False},
            "secret_valid_days": {"type": "int", "default": 365, "no_log": False},
            "secret_min_days": {"type": "int", "default": 30, "no_log": False},
            "secret_key_id": {"type": "str", "no_log": False},
            "remove_other_secrets": {"type": "bool", "default": False, "no_log": False},
            "credential_kind": {"type": "str", "default": "secret", "choices": ["secret", "certificate", "federated"]},
            "certificate": {"type": "str", "no_log": True},
            "current_certificate": {"type": "str", "no_log": True},
            "federated_credential": {"type": "dict", "options": {
                "name": {"type": "str"}, "issuer": {"type": "str"}, "subject": {"type": "str", "required": True},
                "audiences": {"type": "list", "elements": "str", "default": ["api://AzureADTokenExchange"]},
                "description": {"type": "str"}}},
        },
        required_one_of=[("display_name", "app_id")],
        required_if=[("credential_kind", "federated", ("federated_credential",), True)],
        supports_check_mode=True, partner_token_resource="graph",
    )
    module.run(run)


if __name__ == "__main__":
    main()
