#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gdap_relationship_info
short_description: Read the partner's GDAP relationships and their access assignments
version_added: 1.0.0
description:
  - Reads the partner's granular delegated admin privileges (GDAP) relationships from Microsoft Graph
    (C(tenantRelationships/delegatedAdminRelationships), every page), each with its status, dates, auto-extension,
    roles (ids and names) and, optionally, its access assignments (security group, roles, status).
  - Each access assignment says whether it covers the signed-in account (the SAM service account), that is whether
    the account is a direct member of its group; GDAP does not follow nested groups.
  - Needs a delegated Microsoft Graph token of the partner tenant with C(DelegatedAdminRelationship.Read.All), which
    the SAM app requests (see M(partnercenter.secure_app.app_registration)).
author:
  - partnercenter.secure_app developers (@partnercenter)
extends_documentation_fragment:
  - partnercenter.secure_app.common
  - partnercenter.secure_app.common.CONNECTION
  - partnercenter.secure_app.common.PARTNER_TOKEN
  - partnercenter.secure_app.attributes.ACTION_GROUP
  - partnercenter.secure_app.attributes.INFO_MODULE
options:
  customer_tenant_id:
    description: Only the relationships with this customer (its tenant id).
    type: str
  customer_tenants:
    description:
      - Only the relationships with these customers (tenant ids). The relationships are listed once and the access
        assignments are read only for these customers' relationships, so asking about a few customers of many costs
        a few requests, not one per relationship of the partner.
    type: list
    elements: str
  include_access_assignments:
    description: Also read each relationship's access assignments and the account's groups.
    type: bool
    default: true
  access_assignment_statuses:
    description:
      - With O(include_access_assignments), read the access assignments only of the relationships in these statuses
        (for example C(active), the only one in which an assignment gives access); the others have an empty
        RV(relationships[].access_assignments). One request fewer for each relationship left out.
      - Left out, the access assignments of every relationship are read.
    type: list
    elements: str
    version_added: 1.1.0
  concurrency:
    description: How many relationships' access assignments are read at once.
    type: int
    default: 8
seealso:
  - module: partnercenter.secure_app.application_consent
  - module: partnercenter.secure_app.access_token
  - plugin: partnercenter.secure_app.customer_access
    plugin_type: filter
    description: The per-customer verdict the customer_access role reports (the role checks every customer, grants the missing consents and writes a report).
"""

EXAMPLES = r"""
- name: GDAP relationships, with the partner_token role's Graph token
  partnercenter.secure_app.gdap_relationship_info:
    access_token: "{{ partner_token.resources.graph.access_token }}"
  register: gdap

- name: Relationships that end within 30 days
  ansible.builtin.debug:
    msg: "{{ item.display_name }} with {{ item.customer_name }} ends {{ item.end_date }}"
  loop: "{{ gdap.relationships | selectattr('status', 'eq', 'active') }}"
  when: (item.end_date | to_datetime('%Y-%m-%dT%H:%M:%SZ') - now(utc=true).replace(tzinfo=None)).days < 30
"""

RETURN = r"""
relationships:
  description: The relationships, oldest first.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The relationship's id.
      type: str
      sample: 5d027261-d21f-4aa9-b7db-7fa1f56fb163-8777b240-c6f0-4469-9e98-a3205431b836
    display_name:
      description: Its name.
      type: str
      sample: SAM access Contoso
    status:
      description: As Graph gives it; C(active) and C(expiring) give access.
      type: str
      sample: active
    customer_tenant_id:
      description: The customer's tenant id.
      type: str
    customer_name:
      description: The customer's name.
      type: str
    start_date:
      description: When it became active (UTC).
      type: str
      sample: "2025-01-10T09:00:00Z"
    end_date:
      description: When it ends, or ended (UTC).
      type: str
      sample: "2027-01-10T09:00:00Z"
    duration:
      description: Its duration (ISO 8601).
      type: str
      sample: P730D
    auto_extend_duration:
      description: How long each automatic extension adds; C(PT0S) for none.
      type: str
      sample: P180D
    roles:
      description: The roles it holds in the customer tenant.
      type: list
      elements: dict
      sample: [{"id": "158c047a-c907-4556-b7ef-446551a6b5f7", "name": "Cloud Application Administrator"}]
      contains:
        id:
          description: The role template id.
          type: str
        name:
          description: The role's name, or its id when the collection does not know it.
          type: str
    access_assignments:
      description: Its access assignments (empty unless O(include_access_assignments)).
      type: list
      elements: dict
      contains:
        id:
          description: The assignment's id.
          type: str
        status:
          description: C(active), C(pending), C(deleting), C(deleted) or C(error).
          type: str
          sample: active
        group_id:
          description: The partner tenant's security group it assigns.
          type: str
        roles:
          description: The roles it gives the group's members (as RV(relationships[].roles)).
          type: list
          elements: dict
          sample: [{"id": "88d8e3e3-8f55-4a1e-953a-9b9898b8876b", "name": "Directory Readers"}]
        includes_me:
          description: Whether the signed-in account is a member of the group.
          type: bool
          sample: true
    invitation_link:
      description:
        - While the relationship awaits the customer's approval (C(approvalPending)), the link its Global
          Administrator opens to approve it; null otherwise.
      type: str
      sample: https://admin.microsoft.com/AdminPortal/Home#/partners/invitation/granularAdminRelationships/5d02-8777
my_groups:
  description: The signed-in account's groups (id, display_name); empty unless O(include_access_assignments).
  returned: always
  type: list
  elements: dict
  sample: [{"id": "b22a39f3-ffa7-5482-b6d4-6cccd143b44e", "display_name": "GDAP Application Consent Agents"}]
  contains:
    id:
      description: The group's object id.
      type: str
    display_name:
      description: The group's name.
      type: str
"""

from ansible_collections.partnercenter.secure_app.plugins.module_utils._clouds import check_tenant
from ansible_collections.partnercenter.secure_app.plugins.module_utils._gdap_relationships import read_relationships
from ansible_collections.partnercenter.secure_app.plugins.module_utils._module import SecureAppModule


def run(module: SecureAppModule) -> dict:
    params = module.params
    context = module.context
    customer = params["customer_tenant_id"]
    result = read_relationships(
        context.http, context.cloud, context.token("graph", "read GDAP relationships"),
        customer_tenant_id=check_tenant(customer, "customer_tenant_id") if customer else None,
        customer_tenants=None if params["customer_tenants"] is None else
        [check_tenant(tenant, "customer_tenants entry") for tenant in params["customer_tenants"]],
        include_access_assignments=params["include_access_assignments"], concurrency=max(1, params["concurrency"]),
        assignment_statuses=params["access_assignment_statuses"])
    return dict(result, changed=False)


def main() -> None:
    module = SecureAppModule(
        {"customer_tenant_id": {"type": "str"},
         "customer_tenants": {"type": "list", "elements": "str"},
         "include_access_assignments": {"type": "bool", "default": True},
         "access_assignment_statuses": {"type": "list", "elements": "str"},
         "concurrency": {"type": "int", "default": 8}},
        supports_check_mode=True, partner_token_resource="graph",
    )
    module.run(run)


if __name__ == "__main__":
    main()
