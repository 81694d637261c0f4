# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: customers
short_description: The partner's customers as an inventory, grouped by their GDAP situation
version_added: 1.1.0
description:
  - One host per customer that Partner Center lists for the partner (all pages, through the continuation token), with
    its tenant id, name and domain, and its GDAP situation from the partner's relationships in Microsoft Graph.
  - The SAM credentials come from Key Vault as the C(partner_token) role reads them (app id, tenant id, client
    secret, refresh token, with the vault's own identity); the refresh token is exchanged for Partner Center and
    Graph tokens of the partner tenant, and the rotated refresh token is written back before anything else is done.
  - No token is ever put into a host variable, a group or the inventory cache. Tasks in a customer's play get their
    token from the C(partner_token) fact (see the collection's guide to running plays over customers).
  - Requests do not grow with the number of customers (pages of 500 customers, pages of 300 relationships) unless
    O(gdap_details) is on.
  - Groups are C(customers) (every host), one group per GDAP situation (C(gdap_active), C(gdap_expiring),
    C(gdap_pending), C(gdap_ended), C(dap), C(no_relationship)), C(gdap_usable) (the active and expiring ones) and,
    with O(gdap_details), C(sam_consented), C(sam_not_consented) and C(gdap_uncovered).
  - The source file's name must end in C(.partnercenter.yml) or C(.partnercenter.yaml).
  - Without O(vault_tenant_id), O(vault_client_id) and O(vault_client_secret), azure-identity's chain reads the vault
    (environment, workload or managed identity, Azure CLI); prefer it, or the environment, to a client secret written
    in the source file.
author:
  - partnercenter.secure_app developers (@partnercenter)
extends_documentation_fragment:
  - partnercenter.secure_app.common.CONNECTION
  - partnercenter.secure_app.keyvault.VAULT
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
options:
  plugin:
    description: The name of this plugin, so that the file is read by it.
    type: str
    required: true
    choices: [partnercenter.secure_app.customers]
  secret_names:
    description: The names of the secrets in the vault, as the C(partner_token) role's C(partner_token_secret_names).
    type: dict
    default:
      app_id: sam-app-id
      tenant_id: sam-tenant-id
      client_secret: sam-client-secret
      refresh_token: sam-refresh-token
  gdap:
    description:
      - Read the partner's GDAP relationships (Graph, delegated C(DelegatedAdminRelationship.Read.All)). Without them,
        a customer is C(dap) or C(no_relationship) as Partner Center says.
    type: bool
    default: true
  gdap_details:
    description:
      - Also read the access assignments of each active relationship (which roles the service account holds, through
        the groups it is in) and the SAM app's consent in each customer that has an active relationship or DAP.
      - One request per such relationship and per such customer, sent O(concurrency) at a time.
    type: bool
    default: false
  concurrency:
    description: How many requests O(gdap_details) sends at once.
    type: int
    default: 8
  expiring_days:
    description: A usable relationship that ends in fewer days than this is C(gdap_expiring).
    type: int
    default: 30
  hostname:
    description: What names a host.
    type: str
    default: domain
    choices: [domain, tenant_id]
  filters:
    description:
      - Conditionals (as in C(when)) over the host's variables; a customer becomes a host only when all are true.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
# customers.partnercenter.yml: every customer, grouped by its GDAP situation
plugin: partnercenter.secure_app.customers
vault_url: https://contoso-sam.vault.azure.net

# customers.partnercenter.yml: details, the inventory cache, and groups of your own
# plugin: partnercenter.secure_app.customers
# vault_url: https://contoso-sam.vault.azure.net
# gdap_details: true
# cache: true
# cache_plugin: ansible.builtin.jsonfile
# cache_connection: ~/.cache/partnercenter-inventory
# cache_timeout: 3600
# filters:
#   - partnercenter_gdap.situation != 'no_relationship'
# compose:
#   relationship_ends: partnercenter_gdap.end_date
# groups:
#   can_consent: "'Cloud Application Administrator' in partnercenter_gdap.roles"
# keyed_groups:
#   - key: partnercenter_gdap.status | default('none', true)
#     prefix: status
"""

import os

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.partnercenter.secure_app.plugins.module_utils._context import COMMON_ARGUMENT_SPEC
from ansible_collections.partnercenter.secure_app.plugins.module_utils._customer_inventory import (
    SITUATIONS, customer_records)
from ansible_collections.partnercenter.secure_app.plugins.module_utils._keyvault import KeyVault
from ansible_collections.partnercenter.secure_app.plugins.module_utils._vault_exchange import exchange_from_vault
from ansible_collections.partnercenter.secure_app.plugins.plugin_utils._base import secure_app_context

SOURCE_ENDINGS = (".partnercenter.yml", ".partnercenter.yaml")
# The options that Context reads; the others it may ask for (credentials) the inventory never has.
CONTEXT_OPTIONS = ("cloud", "cloud_endpoints", "ca_bundle", "timeout", "retries", "max_retry_wait", "deadline")


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "partnercenter.secure_app.customers"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(SOURCE_ENDINGS)

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache")
        records = None
        if use_cache and cache:
            try:
                records = self._cache[cache_key]
            except KeyError:
                records = None
        if records is None:
            records = self._fetch()
            if use_cache:
                self._cache[cache_key] = records
        self._populate(records)

    # Reading ------------------------------------------------------------------------------------
    def _context_option(self, name):
        """The connection options as the modules read them (doc fragment common.CONNECTION): one left
        at its default takes the environment variable the modules' argument spec names."""
        if name not in CONTEXT_OPTIONS:
            return None
        value, origin = self.get_option_and_origin(name)
        if value is None or origin == "default":
            fallback = COMMON_ARGUMENT_SPEC.get(name, {}).get("fallback")
            for variable in fallback[1] if fallback else ():
                if os.environ.get(variable):
                    return os.environ[variable]
        return value

    def _fetch(self):
        with secure_app_context(self._context_option, "the customers inventory",
                                option_names=self.get_option("option_names")) as context:
            tokens = self._partner_tokens(context)
            return customer_records(
                context.http, context.cloud, partner_center_token=tokens["partner_center"]["access_token"],
                graph_token=tokens["graph"]["access_token"] if "graph" in tokens else None,
                application_id=tokens["app_id"], details=self.get_option("gdap_details"),
                concurrency=self.get_option("concurrency"), expiring_days=self.get_option("expiring_days"))

    def _partner_tokens(self, context):
        """The partner_token step: the SAM credentials from Key Vault, the exchange, the rotated
        refresh token written back before the tokens are used."""
        vault = KeyVault(context.http, context.cloud, self.get_option("vault_url"),
                         tenant_id=self.get_option("vault_tenant_id"), client_id=self.get_option("vault_client_id"),
                         client_secret=self.get_option("vault_client_secret"))
        resources = ["partner_center", "graph"] if self.get_option("gdap") else ["partner_center"]
        result = exchange_from_vault(context, vault, secret_names=self.get_option("secret_names"),
                                     resources=resources)
        return dict(result["tokens"], app_id=result["app_id"])

    # Building -----------------------------------------------------------------------------------
    def _populate(self, records):
        strict = self.get_option("strict")
        details = self.get_option("gdap_details")
        self.inventory.add_group("customers")
        for situation in SITUATIONS:
            self.inventory.add_group(situation)
        self.inventory.add_group("gdap_usable")
        for child in ("gdap_active", "gdap_expiring"):
            self.inventory.add_child("gdap_usable", child)
        for record in records:
            variables = host_variables(record)
            if not self._passes_filters(variables, record):
                continue
            host = record["tenant_id"] if self.get_option("hostname") == "tenant_id" else record["domain"] or \
                record["tenant_id"]
            self.inventory.add_host(host, group="customers")
            for name, value in variables.items():
                self.inventory.set_variable(host, name, value)
            gdap = record["gdap"]
            self.inventory.add_child(gdap["situation"], host)
            if details and gdap["consented"] is not None:
                self.inventory.add_child(self.inventory.add_group("sam_consented" if gdap["consented"]
                                                                  else "sam_not_consented"), host)
            if details and gdap["covered"] is False:
                self.inventory.add_child(self.inventory.add_group("gdap_uncovered"), host)
            self._set_composite_vars(self.get_option("compose"), variables, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), variables, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), variables, host, strict=strict)

    def _passes_filters(self, variables, record):
        for condition in self.get_option("filters") or []:
            try:
                if not self._condition(condition, variables):
                    return False
            except Exception as exc:  # pylint: disable=broad-exception-caught
                raise AnsibleParserError(f"The filter {condition!r} could not be evaluated for customer "
                                         f"{record['tenant_id']}: {exc}") from None
        return True

    def _condition(self, condition, variables):
        """A conditional as 'when' evaluates it (its trust as a template kept: it comes from the
        source file); ansible-core before 2.19 renders it as an expression."""
        self.templar.available_variables = variables
        if hasattr(self.templar, "evaluate_conditional"):
            return self.templar.evaluate_conditional(condition)
        return self._compose(condition, variables) in (True, "True", "true")


def host_variables(record):
    return {
        "partnercenter_customer_tenant_id": record["tenant_id"],
        "partnercenter_customer_name": record["name"],
        "partnercenter_customer_domain": record["domain"],
        "partnercenter_customer_domains": record["domains"],
        "partnercenter_relationship_to_partner": record["relationship_to_partner"],
        "partnercenter_gdap": record["gdap"],
    }
