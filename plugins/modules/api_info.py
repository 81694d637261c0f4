#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: api_info
short_description: Read from Microsoft Graph, Resource Manager or Partner Center with a partner token
version_added: 0.1.0
description:
  - A GET against one of the cloud's APIs over the collection's HTTP session (retries with backoff that honours
    C(Retry-After), TLS verification, the cloud's endpoints), following the API's paging.
  - Meant for downstream roles that use the C(partner_token) fact; the access token is a parameter, so it never
    shows in output.
author:
  - partnercenter.secure_app developers (@partnercenter)
extends_documentation_fragment:
  - partnercenter.secure_app.common
  - partnercenter.secure_app.common.CONNECTION
  - partnercenter.secure_app.api_request
  - partnercenter.secure_app.attributes.ACTION_GROUP
  - partnercenter.secure_app.attributes.INFO_MODULE
options:
  follow_pages:
    description:
      - Follow C(@odata.nextLink) (Graph) or C(nextLink) (Resource Manager) and gather every C(value).
      - Only links on the API's own https origin are followed (the access token goes with them); any other
        link fails the task.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Subscriptions a customer's token reaches (token, cloud and CA bundle from the fact)
  partnercenter.secure_app.api_info:
    api: resource_manager
    path: /subscriptions?api-version=2022-12-01
    partner_token: "{{ partner_token }}"
    customer_tenant_id: "{{ partner_token.customers.keys() | first }}"
  register: subscriptions

- name: The partner tenant's organization, with a token of your own (here the fact's Graph token)
  partnercenter.secure_app.api_info:
    api: graph
    path: /v1.0/organization
    access_token: "{{ partner_token.resources.graph.access_token }}"
  register: organization
"""

RETURN = r"""
json:
  description: The response body (of the first page).
  returned: always
  type: raw
entries:
  description: With paging, the C(value) entries of every page; otherwise the first page's C(value), if any.
  returned: always
  type: list
  elements: raw
"""

from ansible_collections.partnercenter.secure_app.plugins.module_utils._api import API_ARGUMENT_SPEC, read, token_resource
from ansible_collections.partnercenter.secure_app.plugins.module_utils._module import SecureAppModule


def run(module: SecureAppModule) -> dict:
    return read(module.context, module.params)


def main() -> None:
    module = SecureAppModule({**API_ARGUMENT_SPEC, "follow_pages": {"type": "bool", "default": True}},
                             supports_check_mode=True, partner_token_resource=token_resource,
                             partner_token_in_customer=True)
    module.run(run)


if __name__ == "__main__":
    main()
