# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: access_token
short_description: Exchange the SAM refresh token for access tokens
version_added: 0.1.0
description:
  - The lookup form of M(partnercenter.secure_app.access_token), for the partner tenant.
  - Each term is a resource (V(partner_center), V(graph), V(azure), V(keyvault), V(aad_graph)) or an explicit scope;
    each yields a dictionary with C(access_token), C(expires_on), C(tenant_id) and C(scope).
  - Entra rotates the refresh token on every exchange. Each returned dictionary also holds the newest one in
    C(refresh_token). Store it (for example with M(partnercenter.secure_app.keyvault_secret)), or the stored one
    ages out 90 days after it was issued. The C(partner_token) role does this for you.
author:
  - partnercenter.secure_app developers (@partnercenter)
extends_documentation_fragment:
  - partnercenter.secure_app.common.PLUGINS
options:
  _terms:
    description: Resources or scopes.
    required: true
    type: list
    elements: str
"""

EXAMPLES = r"""
# The lookup's credentials come from variables (templates are resolved): here the SAM credentials
# from Key Vault, read with the vault's service principal of your variables file.
- name: Read the SAM credentials
  partnercenter.secure_app.keyvault_secret_info:
    vault_url: "{{ partner_token_vault_url }}"
    names: [sam-app-id, sam-tenant-id, sam-client-secret, sam-refresh-token]
    vault_tenant_id: "{{ partner_token_vault_tenant_id | default(omit, true) }}"
    vault_client_id: "{{ partner_token_vault_client_id | default(omit, true) }}"
    vault_client_secret: "{{ partner_token_vault_client_secret | default(omit, true) }}"
  register: sam_stored

- name: Call Partner Center with a token from the lookup
  ansible.builtin.uri:
    url: "{{ partner_token.endpoints.partner_center }}/v1/profiles/organization"
    ca_path: "{{ partner_token_ca_bundle | default(omit, true) }}"
    headers:
      Authorization: "Bearer {{ token.access_token }}"
  vars:
    sam: "{{ sam_stored.secrets | items2dict(key_name='name', value_name='value') }}"
    partnercenter_tenant_id: "{{ sam['sam-tenant-id'] }}"
    partnercenter_client_id: "{{ sam['sam-app-id'] }}"
    partnercenter_client_secret: "{{ sam['sam-client-secret'] }}"
    partnercenter_refresh_token: "{{ sam['sam-refresh-token'] }}"
    partnercenter_cloud_endpoints: "{{ partner_token_cloud_endpoints | default({}) }}"
    partnercenter_ca_bundle: "{{ partner_token_ca_bundle | default('') }}"
    token: "{{ lookup('partnercenter.secure_app.access_token', 'partner_center') }}"
  no_log: true

- name: A Graph token, then store the rotated refresh token
  partnercenter.secure_app.keyvault_secret:
    vault_url: "{{ partner_token_vault_url }}"
    name: sam-refresh-token
    value: "{{ graph_token.refresh_token }}"
    vault_tenant_id: "{{ partner_token_vault_tenant_id | default(omit, true) }}"
    vault_client_id: "{{ partner_token_vault_client_id | default(omit, true) }}"
    vault_client_secret: "{{ partner_token_vault_client_secret | default(omit, true) }}"
  vars:
    sam: "{{ sam_stored.secrets | items2dict(key_name='name', value_name='value') }}"
    partnercenter_tenant_id: "{{ sam['sam-tenant-id'] }}"
    partnercenter_client_id: "{{ sam['sam-app-id'] }}"
    partnercenter_client_secret: "{{ sam['sam-client-secret'] }}"
    partnercenter_refresh_token: "{{ sam['sam-refresh-token'] }}"
    partnercenter_cloud_endpoints: "{{ partner_token_cloud_endpoints | default({}) }}"
    partnercenter_ca_bundle: "{{ partner_token_ca_bundle | default('') }}"
    graph_token: "{{ lookup('partnercenter.secure_app.access_token', 'graph') }}"
  no_log: true
"""

RETURN = r"""
_raw:
  description:
    - One dictionary per term with C(access_token) (secret), C(expires_on), C(tenant_id) and C(scope), and the
      rotated C(refresh_token) (secret).
  type: list
  elements: dict
"""

from ansible.plugins.lookup import LookupBase

from ansible_collections.partnercenter.secure_app.plugins.module_utils._tokens import RESOURCES, exchange
from ansible_collections.partnercenter.secure_app.plugins.plugin_utils._base import secure_app_context

VARIABLE_PREFIX = "partnercenter_"  # every option's variable (see the doc fragment common.PLUGINS)


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=self._own_variables(variables), direct=kwargs)
        resources = [term for term in terms if term in RESOURCES]
        scopes = [term for term in terms if term not in RESOURCES]
        with secure_app_context(self.get_option, "the access_token lookup") as context:
            result = exchange(context, client_id=context.option("client_id"),
                              client_secret=context.client_credential(), tenant=context.tenant(),
                              refresh_token=context.option("refresh_token"), resources=resources, scopes=scopes)
        return [dict(result["tokens"][term], refresh_token=result["refresh_token"]) for term in terms]

    def _own_variables(self, variables):
        """The partnercenter_* variables, templated: lookups receive variables as written (on
        ansible-core 2.19 '{{ client_id }}' would otherwise arrive literally)."""
        return {name: self._templar.template(value) for name, value in (variables or {}).items()
                if name.startswith(VARIABLE_PREFIX)}
