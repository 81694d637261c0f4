#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: partner_center_info
short_description: Read the Partner Center organization profile and customers
version_added: 0.1.0
description:
  - Reads the partner's organization profile and, optionally, all customers (following Partner Center's
    continuation tokens), with an app+user access token for Partner Center.
  - A token issued without multi-factor authentication is refused by Partner Center; the task then says so.
author:
  - partnercenter.secure_app developers (@partnercenter)
extends_documentation_fragment:
  - partnercenter.secure_app.common
  - partnercenter.secure_app.common.CONNECTION
  - partnercenter.secure_app.attributes.ACTION_GROUP
  - partnercenter.secure_app.attributes.INFO_MODULE
options:
  customers:
    description: Also list the customers.
    type: bool
    default: true
  page_size:
    description: Customers per page.
    type: int
    default: 500
  partner_token:
    description:
      - The C(partner_token) fact as the partner_token role sets it. The task takes its Partner Center token and its
        cloud, endpoints and CA bundle. Mutually exclusive with O(access_token).
      - The fact is read on the controller; only the chosen token goes to the module.
    type: dict
"""

EXAMPLES = r"""
- name: Organization and customers
  partnercenter.secure_app.partner_center_info:
    partner_token: "{{ partner_token }}"
  register: partner_center
"""

RETURN = r"""
organization:
  description: The organization profile as Partner Center gives it.
  returned: always
  type: dict
  sample: {"id": "...", "companyName": "Contoso Partner", "domain": "contoso.onmicrosoft.com", "tenantId": "...",
    "defaultAddress": {"country": "US"}}
  contains:
    companyName:
      description: The partner's company name.
      type: str
    tenantId:
      description: The partner tenant.
      type: str
    domain:
      description: The partner's primary domain.
      type: str
customers:
  description: The customers, in Partner Center's order.
  returned: always
  type: list
  elements: dict
  sample: [{"id": "...", "tenant_id": "...", "domain": "fabrikam.onmicrosoft.com", "company_name": "Fabrikam",
    "relationship": "reseller", "delegated_access": false}]
  contains:
    id:
      description: The customer's id in Partner Center (its tenant id).
      type: str
    tenant_id:
      description: The customer's tenant id.
      type: str
    domain:
      description: Its primary domain.
      type: str
    company_name:
      description: Its company name.
      type: str
    relationship:
      description: Its relationship to the partner (reseller, ...).
      type: str
    delegated_access:
      description: Whether DAP, the retired delegated admin privileges, applies (GDAP shows in gdap_relationship_info).
      type: bool
"""

from ansible_collections.partnercenter.secure_app.plugins.module_utils._module import SecureAppModule
from ansible_collections.partnercenter.secure_app.plugins.module_utils._partner_token import (
    PARTNER_TOKEN_ARGUMENT_SPEC, arguments_from_fact)
from ansible_collections.partnercenter.secure_app.plugins.module_utils._partnercenter import PartnerCenter


def run(module: SecureAppModule) -> dict:
    if module.params["partner_token"]:  # the action plugin resolves it; this covers a run without it
        module.params.update(arguments_from_fact(module.params["partner_token"], "partner_center"))
    context = module.context
    partner_center = PartnerCenter(context.http, context.cloud, context.token("partner_center", "call Partner Center"))
    customers = []
    if module.params["customers"]:
        for customer in partner_center.customers(module.params["page_size"]):
            profile = customer.get("companyProfile") or {}
            customers.append({"id": customer.get("id"), "tenant_id": profile.get("tenantId"),
                              "domain": profile.get("domain"), "company_name": profile.get("companyName"),
                              "relationship": customer.get("relationshipToPartner"),
                              # DAP (retired); GDAP relationships are read from Graph instead
                              "delegated_access": customer.get("allowDelegatedAccess")})
    return {"changed": False, "organization": partner_center.organization_profile(), "customers": customers}


def main() -> None:
    module = SecureAppModule(
        {"customers": {"type": "bool", "default": True}, "page_size": {"type": "int", "default": 500},
         **PARTNER_TOKEN_ARGUMENT_SPEC},
        supports_check_mode=True,
        mutually_exclusive=[("partner_token", "access_token")],
    )
    module.run(run)


if __name__ == "__main__":
    main()
