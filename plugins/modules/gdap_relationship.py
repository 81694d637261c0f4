#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gdap_relationship
short_description: Request and terminate GDAP relationships with many customers
version_added: 1.1.0
description:
  - Brings the partner's granular delegated admin privileges (GDAP) relationship with each customer of
    O(customer_tenants) to the desired state through Microsoft Graph (C(tenantRelationships/delegatedAdminRelationships)),
    concurrently, with a result per customer.
  - O(state=present) creates a relationship with O(roles), O(duration_days) and O(auto_extend_duration), locks it for
    approval and returns its invitation link, which the customer's Global Administrator opens to approve (the
    Microsoft 365 admin center; for a custom cloud such as the collection's sandbox, its login host).
  - A relationship is identified by its customer and display name. One that exists, and has not ended, is kept; while
    it is active its auto-extension follows O(auto_extend_duration) (a PATCH with If-Match and its etag, the one
    change Graph allows then).
  - Graph does not change the roles of a relationship once it is locked for approval, and keeps the names of ended
    ones. So a relationship that holds other roles, or has ended, or (O(renew_within_days)) ends soon, gets a
    successor when asked to (O(on_role_change), O(renew_within_days)), a new relationship with O(roles) named
    O(successor_name), locked for approval; the old one is left for its end (or for O(state=terminated)). A successor
    is any live relationship of the customer with exactly O(roles) that does not end soon itself, so the next run
    finds it whatever its name; otherwise RV(customers[].message) says what to do.
  - O(state=terminated) requests the termination of the customer's active relationship of that name.
  - What Graph would refuse is refused before any request, in one sentence, for every customer at once (O(duration_days)
    outside 1 to 730, an O(auto_extend_duration) other than C(P180D), C(PT0S) or C(P0D), auto-extension with Global
    Administrator, a role that is not a built-in role, a display name over 50 characters or used by another
    customer's relationship).
  - Needs a delegated Microsoft Graph token of the partner tenant with C(DelegatedAdminRelationship.ReadWrite.All) of
    an admin agent. The SAM app requests only C(DelegatedAdminRelationship.Read.All), enough for check mode; give a
    token with the write permission as O(access_token) to write.
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
    description: Reads the relationships and reports per customer what would be done; nothing is written.
  diff_mode:
    support: full
    description: The relationship before and after, per customer that changes.
options:
  customer_tenants:
    description: The customers (tenant ids).
    type: list
    elements: str
    required: true
  display_name:
    description:
      - The relationship's name; C({tenant_id}) is replaced by the customer's tenant id. Graph wants it unique among
        all the partner's relationships and at most 50 characters long.
    type: str
    default: "SAM access {tenant_id}"
  roles:
    description:
      - The Microsoft Entra roles the relationship asks for, by name (as Entra lists them, such as
        C(Cloud Application Administrator)) or role template id. Ask for the least that the work needs.
      - Required with O(state=present).
    type: list
    elements: str
  duration_days:
    description: How long the relationship lasts once approved, 1 to 730 days.
    type: int
    default: 730
  auto_extend_duration:
    description:
      - C(P180D) extends the relationship by six months each time it ends; C(PT0S) (or C(P0D)) lets it end. Graph does
        not auto-extend a relationship with Global Administrator.
      - An active relationship's auto-extension is changed to this value (Graph allows that change while it is active).
    type: str
    default: PT0S
  renew_within_days:
    description:
      - With O(state=present), a customer whose relationship has ended (an C(expiring), C(expired) or terminated one),
        or is active without auto-extension and ends within this many days, gets a successor (see O(successor_name)).
        C(0) renews only what ended. Unset, an ended relationship is that customer's error.
      - Run it on a schedule with the warning days Partner Center uses (it e-mails 30, 7 and 1 days before the end).
    type: int
  on_role_change:
    description:
      - What to do when the customer's relationship holds other roles than O(roles). C(report) says so in
        RV(customers[].message); C(successor) requests a successor with O(roles) (terminate the old one once the
        successor is active).
    type: str
    default: report
    choices: [report, successor]
  successor_name:
    description:
      - The name of a successor; C({tenant_id}) is replaced by the customer's tenant id and C({date}) by today's date
        (UTC, C(YYYYMMDD)), which keeps it unique beside the relationship it follows. At most 50 characters.
    type: str
    default: "SAM {date} {tenant_id}"
  state:
    description: Whether the customers should have the relationship (C(present)) or none (C(terminated)).
    type: str
    default: present
    choices: [present, terminated]
  concurrency:
    description: How many customers are handled at once.
    type: int
    default: 8
  fail_on_customer_error:
    description: Fail the task when a customer gave an error (after all customers were handled).
    type: bool
    default: true
seealso:
  - module: partnercenter.secure_app.gdap_access_assignment
  - module: partnercenter.secure_app.gdap_relationship_info
  - module: partnercenter.secure_app.application_consent
"""

EXAMPLES = r"""
# The SAM app's token reads relationships (DelegatedAdminRelationship.Read.All): in check mode the
# task reports, per customer, what it would request. Writing needs a token with
# DelegatedAdminRelationship.ReadWrite.All (access_token).
- name: What a least-privilege relationship with each customer would request
  partnercenter.secure_app.gdap_relationship:
    partner_token: "{{ partner_token }}"
    customer_tenants: "{{ partner_token_customer_tenants }}"
    display_name: "SAM example {tenant_id}"
    roles:
      - Cloud Application Administrator
      - Directory Readers
    duration_days: 730
  check_mode: true
  register: gdap

- name: Customers that would get a new relationship
  ansible.builtin.debug:
    msg: "{{ gdap.customers | selectattr('action', 'eq', 'create') | map(attribute='tenant_id') }}"

# A scheduled renewal: a successor (named successor_name) where the relationship ended or ends
# within 30 days without auto-extension, and where it holds other roles than these.
- name: Which relationships a monthly renewal would follow up
  partnercenter.secure_app.gdap_relationship:
    partner_token: "{{ partner_token }}"
    customer_tenants: "{{ partner_token_customer_tenants }}"
    display_name: "SAM example {tenant_id}"
    roles: [Cloud Application Administrator, Directory Readers]
    auto_extend_duration: P180D
    renew_within_days: 30
    on_role_change: successor
  check_mode: true
  register: renewal

- name: What the renewal would do per customer
  ansible.builtin.debug:
    msg: "{{ renewal.customers | items2dict(key_name='tenant_id', value_name='action') }}"
"""

RETURN = r"""
customers:
  description: One entry per customer, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    tenant_id:
      description: The customer's tenant id.
      type: str
      sample: 4b827261-d21f-4aa9-b7db-7fa1f56fb163
    display_name:
      description: The relationship's name for this customer.
      type: str
      sample: SAM access 4b827261-d21f-4aa9-b7db-7fa1f56fb163
    changed:
      description: Whether this customer's relationship was (or, in check mode, would be) changed.
      type: bool
      sample: true
    action:
      description:
        - C(none), C(create), C(lock) (one created earlier but not locked), C(update) (its auto-extension),
          C(renew) (a successor of one that ended or ends soon), C(replace) (a successor with other roles) or
          C(terminate).
      type: str
      sample: create
    status:
      description: The relationship's status as Graph gives it; C(approvalPending) awaits the customer.
      type: str
      sample: approvalPending
    successor:
      description: The successor requested or found, as RV(customers[].relationship); null when there is none.
      type: dict
      sample: null
    successor_name:
      description: The name a successor gets for this customer.
      type: str
      sample: SAM 20261203 4b827261-d21f-4aa9-b7db-7fa1f56fb163
    invitation_link:
      description:
        - The link the customer's Global Administrator opens to approve, while the relationship (or its successor)
          awaits approval.
      type: str
      sample: https://admin.microsoft.com/AdminPortal/Home#/partners/invitation/granularAdminRelationships/5d02-8777
    relationship:
      description: The relationship (id, display_name, status, roles, duration, auto_extend_duration).
      type: dict
      sample: {"id": "5d02-8777", "display_name": "SAM access Contoso", "status": "approvalPending",
               "roles": ["Cloud Application Administrator"], "duration": "P730D", "auto_extend_duration": "PT0S"}
    message:
      description: What the task could not change and what to do, or why it requested a successor.
      type: str
      sample: null
    before:
      description: The relationship before, as RV(customers[].relationship).
      type: dict
      sample: null
    after:
      description: The relationship after, as RV(customers[].relationship).
      type: dict
      sample: {"id": "5d02-8777", "status": "approvalPending"}
    error:
      description: Why this customer failed, in one sentence; null when it did not.
      type: str
      sample: null
    error_code:
      description: A short code for the failure.
      type: str
      sample: null
awaiting_approval:
  description: The customers whose relationship awaits approval, with the link to send.
  returned: always
  type: list
  elements: dict
  sample: [{"tenant_id": "4b827261-d21f-4aa9-b7db-7fa1f56fb163", "display_name": "SAM access Contoso",
            "invitation_link": "https://admin.microsoft.com/AdminPortal/Home#/partners/invitation/granularAdminRelationships/5d02-8777"}]
  contains:
    tenant_id:
      description: The customer's tenant id.
      type: str
    display_name:
      description: The relationship's name.
      type: str
    invitation_link:
      description: The link its Global Administrator opens.
      type: str
"""

from ansible_collections.partnercenter.secure_app.plugins.module_utils._gdap_lifecycle import run_relationships
from ansible_collections.partnercenter.secure_app.plugins.module_utils._module import SecureAppModule


def run(module: SecureAppModule) -> dict:
    return run_relationships(module.context, module.params, check_mode=module.check_mode)


def main() -> None:
    module = SecureAppModule(
        {"customer_tenants": {"type": "list", "elements": "str", "required": True},
         "display_name": {"type": "str", "default": "SAM access {tenant_id}"},
         "roles": {"type": "list", "elements": "str"},
         "duration_days": {"type": "int", "default": 730},
         "auto_extend_duration": {"type": "str", "default": "PT0S"},
         "renew_within_days": {"type": "int"},
         "on_role_change": {"type": "str", "default": "report", "choices": ["report", "successor"]},
         "successor_name": {"type": "str", "default": "SAM {date} {tenant_id}"},
         "state": {"type": "str", "default": "present", "choices": ["present", "terminated"]},
         "concurrency": {"type": "int", "default": 8},
         "fail_on_customer_error": {"type": "bool", "default": True}},
        supports_check_mode=True, partner_token_resource="graph",
        required_if=[("state", "present", ["roles"])],
    )
    module.run(run)


if __name__ == "__main__":
    main()
