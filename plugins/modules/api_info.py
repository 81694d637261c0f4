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
  - partnercenter.secure_app.attributes.ACTION_GROUP
  - partnercenter.secure_app.attributes.INFO_MODULE
options:
  api:
    description: Which API.
    type: str
    required: true
    choices: [graph, resource_manager, partner_center]
  path:
    description:
      - Path and query after the API's base URL, such as C(/v1.0/organization) or
        C(/subscriptions?api-version=2022-12-01).
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

from ansible_collections.partnercenter.secure_app.plugins.module_utils._errors import SecureAppError
from ansible_collections.partnercenter.secure_app.plugins.module_utils._http import (
    follow_pages, json_body, same_origin_link, service_error)
from ansible_collections.partnercenter.secure_app.plugins.module_utils._module import SecureAppModule
from ansible_collections.partnercenter.secure_app.plugins.module_utils._partner_token import (
    PARTNER_TOKEN_ARGUMENT_SPEC, RESOURCE_OF_API, arguments_from_fact)

BASES = {"graph": "graph", "resource_manager": "resource_manager", "partner_center": "partner_center"}


def run(module: SecureAppModule) -> dict:
    params = module.params
    if params["partner_token"]:  # the action plugin resolves it; this covers a run without it
        params.update(arguments_from_fact(params["partner_token"], RESOURCE_OF_API[params["api"]],
                                          params["customer_tenant_id"]))
    context = module.context
    if not params["path"].startswith("/"):
        raise SecureAppError(f"path {params['path']!r} must start with '/': give the path after the API's base URL.")
    base = getattr(context.cloud, BASES[params["api"]])
    headers = {"Authorization": f"Bearer {context.token(RESOURCE_OF_API[params['api']], 'call ' + params['api'])}",
               "Accept": "application/json"}
    action = f"read {params['api']} {params['path']}"

    def fetch(url: str, _headers: dict) -> object:
        response = context.http.request("GET", url, headers=headers)
        if response.status_code != 200:
            raise service_error(action, response)
        return json_body(response)

    def next_of(body: object) -> tuple[str, dict] | None:
        next_link = (body.get("@odata.nextLink") or body.get("nextLink")) if isinstance(body, dict) else None
        return (same_origin_link(next_link, base), {}) if next_link and params["follow_pages"] else None

    first = fetch(base + params["path"], {})
    entries = [entry for body in follow_pages(context.http, f"{params['api']} {params['path']}", first, next_of, fetch)
               for entry in ((body.get("value") or []) if isinstance(body, dict) else [])]
    return {"changed": False, "json": first, "entries": entries}


def main() -> None:
    module = SecureAppModule(
        {
            "api": {"type": "str", "required": True, "choices": list(BASES)},
            "path": {"type": "str", "required": True},
            "follow_pages": {"type": "bool", "default": True},
            "customer_tenant_id": {"type": "str"},
            **PARTNER_TOKEN_ARGUMENT_SPEC,
        },
        supports_check_mode=True,
        mutually_exclusive=[("partner_token", "access_token")],
    )
    module.run(run)


if __name__ == "__main__":
    main()
