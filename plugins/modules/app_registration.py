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
author:
  - partnercenter.secure_app developers (@partnercenter)
extends_documentation_fragment:
  - partnercenter.secure_app.common
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
  rotate_secret:
    description:
      - Create a new client secret even when a valid one exists. The secrets this module made before stay until
        a later task removes them with O(remove_other_secrets); RV(secret.replaced_key_ids) lists them.
    type: bool
    default: false
  secret_key_id:
    description:
      - The key id of the managed secret you hold (for example the C(key_id) tag of the secret in Key Vault).
      - When it is not a valid secret of the app, a new secret is created, as with O(rotate_secret).
      - With O(remove_other_secrets=true), the secret to keep.
    type: str
  remove_other_secrets:
    description:
      - Remove every secret this module manages except O(secret_key_id). Do this only after the secret you keep is
        stored and shown to work. Creates no secret.
    type: bool
    default: false
  secret_name:
    description: Display name of the client secrets this module manages.
    type: str
    default: partnercenter.secure_app
  secret_valid_days:
    description: Lifetime of a new client secret, in days.
    type: int
    default: 365
  secret_min_days:
    description: A managed secret that expires within this many days counts as missing, so a new one is made.
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

- name: Delete the app
  partnercenter.secure_app.app_registration:
    display_name: Partner Center SAM example
    state: absent
    access_token: "{{ admin.access_token }}"
"""

RETURN = r"""
app:
  description: The app registration after the task (null when absent, or when check mode would create it).
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
removed_key_ids:
  description: With O(remove_other_secrets), the key ids of the secrets removed.
  returned: when O(remove_other_secrets=true)
  type: list
  elements: str
  sample: [0b3e9d5c-5d0f-4a8f-9b52-2a1e3c7d9f10]
"""

from ansible_collections.partnercenter.secure_app.plugins.module_utils._app_registration import AppRegistration
from ansible_collections.partnercenter.secure_app.plugins.module_utils._graph import Graph
from ansible_collections.partnercenter.secure_app.plugins.module_utils._module import SecureAppModule


def run(module: SecureAppModule) -> dict:
    context = module.context
    graph = Graph(context.http, context.cloud, context.token("graph", "manage the app registration"))
    registration = AppRegistration(graph, module.params, module.check_mode)
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
            "redirect_uris": {"type": "list", "elements": "str"},
            "oob_redirect": {"type": "bool"},
            "allow_public_client_flows": {"type": "bool"},
            "rotate_secret": {"type": "bool", "default": False, "no_log": False},
            "secret_name": {"type": "str", "default": "partnercenter.secure_app", "no_log": False},
            "secret_valid_days": {"type": "int", "default": 365, "no_log": False},
            "secret_min_days": {"type": "int", "default": 30, "no_log": False},
            "secret_key_id": {"type": "str", "no_log": False},
            "remove_other_secrets": {"type": "bool", "default": False, "no_log": False},
        },
        required_one_of=[("display_name", "app_id")],
        required_if=[("remove_other_secrets", True, ("secret_key_id",))],
        supports_check_mode=True, partner_token_resource="graph",
    )
    module.run(run)


if __name__ == "__main__":
    main()
