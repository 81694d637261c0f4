# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The request options the api (write) and api_info (read) modules share; module_utils/_api holds
    # their argument spec. partner_token here takes a customer's token too (customer_tenant_id).
    DOCUMENTATION = r"""
options:
  api:
    description: Which API.
    type: str
    required: true
    choices: [graph, resource_manager, partner_center]
  path:
    description:
      - Path and query after the API's base URL, such as C(/v1.0/users),
        C(/subscriptions?api-version=2022-12-01) or C(/v1/customers/ID/applicationconsents).
    type: str
    required: true
  partner_token:
    description:
      - The C(partner_token) fact as the partner_token role sets it. The task then takes the access token for O(api)
        (in the partner tenant, or in O(customer_tenant_id)) and the cloud, endpoints and CA bundle from it, so a
        role passes one value instead of copying fields. Mutually exclusive with O(access_token).
      - The fact is read on the controller; only the chosen token goes to the module.
    type: dict
  customer_tenant_id:
    description:
      - With O(partner_token), the customer tenant whose token to use.
      - Default, on a host of the P(partnercenter.secure_app.customers#inventory) inventory, that host's customer (its
        variable C(partnercenter_customer_tenant_id)); elsewhere the partner tenant. An empty string is the partner
        tenant on any host.
    type: str
"""
