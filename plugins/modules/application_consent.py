#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: application_consent
short_description: Consent the SAM app in customer tenants through Partner Center (GDAP)
version_added: 1.0.0
description:
  - Under GDAP the AdminAgents pre-consent no longer reaches customers; the SAM app must be consented in each
    customer tenant. This module manages that consent with Partner Center's application consents
    (C(/v1/customers/{customer}/applicationconsents)) for many customers at once, concurrently.
  - Scopes are compared as Entra compares them, without regard to case or order. With O(grants) given, a consent with
    the same grants is left as it is and one with other grants is replaced (deleted, then created, since Partner
    Center has no update). Without O(grants), the SAM app's own permissions are the least the consent must hold; a
    consent that holds them (and maybe more) is left as it is, and one that lacks some is replaced by what it held
    plus what is missing, so the default never takes a scope away.
  - When the create of a replace fails after the delete, the previous grants are posted again and the customer's
    error says so; if that fails too, the error says plainly that the consent was removed (error code
    C(consent_removed)). RV(customers[].changed), RV(customers[].after) and the diff always tell what Partner Center
    holds after the task, also for a customer that failed.
  - Partner Center creates a consent only when the service account's GDAP roles in the customer include Global
    Administrator, Privileged Role Administrator or Cloud Application Administrator; other customers get a per-customer
    error saying so.
  - Needs an app + user Partner Center token of the partner tenant (the SAM service account, with MFA).
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
    description: Reads the consents and reports per customer what would change; nothing is written.
  diff_mode:
    support: full
    description: Shows, per customer that changes, the grants before and after.
options:
  customer_tenants:
    description: The customers' tenant ids.
    type: list
    elements: str
    required: true
  application_id:
    description: The SAM app's id (client id). Defaults to O(client_id).
    type: str
  display_name:
    description: The name Partner Center records with a new consent.
    type: str
  state:
    description: Whether the consent should exist.
    type: str
    default: present
    choices: [present, absent]
  grants:
    description:
      - What the consent grants, per resource app. Defaults to the SAM app's own delegated permissions for Microsoft
        Graph (C(Directory.AccessAsUser.All)), Partner Center and Azure Resource Manager (C(user_impersonation)).
    type: list
    elements: dict
    suboptions:
      enterprise_application_id:
        description: The resource's app id (Microsoft Graph is C(00000003-0000-0000-c000-000000000000)).
        type: str
        required: true
      scopes:
        description: Delegated permission names.
        type: list
        elements: str
        required: true
  concurrency:
    description: How many customers are handled at once.
    type: int
    default: 8
  fail_on_customer_error:
    description:
      - Fail the task when a customer gave an error (after all customers were handled). The failed task still
        returns RV(customers), RV(failed_customers), C(changed) and the diff, so a consent that was removed shows.
    type: bool
    default: true
seealso:
  - module: partnercenter.secure_app.gdap_relationship_info
  - module: partnercenter.secure_app.access_token
  - plugin: partnercenter.secure_app.customer_access
    plugin_type: filter
    description: The per-customer verdict the customer_access role reports (the role checks every customer, grants the missing consents and writes a report).
"""

EXAMPLES = r"""
- name: The partner's GDAP relationships
  partnercenter.secure_app.gdap_relationship_info:
    access_token: "{{ partner_token.resources.graph.access_token }}"
  register: gdap

- name: Consent the SAM app in the customers whose GDAP roles allow it
  partnercenter.secure_app.application_consent:
    access_token: "{{ partner_token.resources.partner_center.access_token }}"
    application_id: "{{ partner_token.app_id }}"
    customer_tenants: "{{ gdap.relationships | selectattr('status', 'eq', 'active') | map(attribute='customer_tenant_id') | unique }}"
    fail_on_customer_error: false
  register: consents

- name: Only Microsoft Graph, read-only, in one customer (check mode shows the difference)
  partnercenter.secure_app.application_consent:
    access_token: "{{ partner_token.resources.partner_center.access_token }}"
    application_id: "{{ partner_token.app_id }}"
    customer_tenants: "{{ consents.customers | rejectattr('error') | map(attribute='tenant_id') | first }}"
    grants:
      - enterprise_application_id: 00000003-0000-0000-c000-000000000000
        scopes: [Directory.Read.All]
  check_mode: true
"""

RETURN = r"""
customers:
  description: Per customer, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    tenant_id:
      description: The customer's tenant id.
      type: str
    changed:
      description:
        - Whether what Partner Center holds for this customer changed (in check mode, would change), also when the
          customer gave an error (a consent removed and not restored).
      type: bool
    before:
      description: The grants before (as O(grants)), or null when there was no consent.
      type: list
      elements: dict
      sample: [{"enterprise_application_id": "00000003-0000-0000-c000-000000000000", "scopes": ["Directory.AccessAsUser.All"]}]
      contains:
        enterprise_application_id:
          description: The resource's app id (lower case).
          type: str
        scopes:
          description: The delegated permissions, sorted.
          type: list
          elements: str
    after:
      description:
        - The grants Partner Center holds after the task (as RV(customers[].before)), or null when there is no
          consent; after an error, what it holds then.
      type: list
      elements: dict
      sample: [{"enterprise_application_id": "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd", "scopes": ["user_impersonation"]}]
    error:
      description: One sentence with the cause and the fix, or null.
      type: str
      sample: "Failed to consent the SAM app in customer ...: Partner Center refused it: ..."
    error_code:
      description:
        - A short code for the error (consent_forbidden, customer_not_found, consent_removed, ...), or null.
      type: str
failed_customers:
  description: How many customers gave an error.
  returned: always
  type: int
  sample: 0
"""

from ansible_collections.partnercenter.secure_app.plugins.module_utils._clouds import check_guid
from ansible_collections.partnercenter.secure_app.plugins.module_utils._errors import SecureAppError
from ansible_collections.partnercenter.secure_app.plugins.module_utils._fanout import fan_out, raise_for_failed_customers
from ansible_collections.partnercenter.secure_app.plugins.module_utils._gdap_consents import (
    DEFAULT_GRANTS, Consents, apply_consent, check_grants)
from ansible_collections.partnercenter.secure_app.plugins.module_utils._module import SecureAppModule


def run(module: SecureAppModule) -> dict:
    params = module.params
    context = module.context
    application_id = params["application_id"] or params["client_id"]
    if not application_id:
        raise SecureAppError("application_id is required (or client_id): give the SAM app's id.")
    application_id = check_guid(application_id, "application_id", "the SAM app's id")
    customers = [check_guid(customer, "customer_tenants entry", "the customer's tenant id")
                 for customer in params["customer_tenants"]]
    grants = check_grants(params["grants"] if params["grants"] is not None else list(DEFAULT_GRANTS))
    consents = Consents(context.http, context.cloud, context.token("partner_center", "manage application consents"))
    present = params["state"] == "present"

    def one(customer: str) -> dict:
        return apply_consent(consents, customer, application_id=application_id, display_name=params["display_name"],
                             grants=grants, present=present, check_mode=module.check_mode,
                             at_least=params["grants"] is None)

    entries = fan_out(context.http, customers, one, max(1, params["concurrency"]))
    result = {"changed": any(entry["changed"] for entry in entries), "customers": entries,
              "failed_customers": sum(1 for entry in entries if entry["error"]),
              "diff": {"before": {e["tenant_id"]: e["before"] for e in entries if e["changed"]},
                       "after": {e["tenant_id"]: e["after"] for e in entries if e["changed"]}}}
    if params["fail_on_customer_error"]:
        # The failed task still says what changed: a customer's consent may be gone (consent_removed).
        raise_for_failed_customers(entries, "customers gave an error", details={
            "customers": entries, "changed": result["changed"], "diff": result["diff"],
            "failed_customers": result["failed_customers"]})
    return result


def main() -> None:
    module = SecureAppModule(
        {"customer_tenants": {"type": "list", "elements": "str", "required": True},
         "application_id": {"type": "str"},
         "display_name": {"type": "str"},
         "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
         "grants": {"type": "list", "elements": "dict", "options": {
             "enterprise_application_id": {"type": "str", "required": True},
             "scopes": {"type": "list", "elements": "str", "required": True}}},
         "concurrency": {"type": "int", "default": 8},
         "fail_on_customer_error": {"type": "bool", "default": True}},
        supports_check_mode=True, partner_token_resource="partner_center",
    )
    module.run(run)


if __name__ == "__main__":
    main()
