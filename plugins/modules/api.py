#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: api
short_description: Write to Microsoft Graph, Resource Manager or Partner Center with a partner token
version_added: 1.1.0
description:
  - One POST, PATCH, PUT or DELETE against one of the cloud's APIs, in the partner tenant or a customer tenant, over
    the collection's HTTP session (TLS verification, the cloud's endpoints, bounded retries that honour
    C(Retry-After)).
  - Only requests that are safe to repeat are sent again after a failure the service may have acted on. PUT and DELETE
    are, by HTTP's definition; a POST or PATCH is resent only when the service said it did not act (429, 503), so a
    create is never made twice. Set O(idempotent) to say otherwise for one request.
  - The module does not read before it writes, so it cannot know whether the write changes anything; O(changed) says
    what it reports. For idempotence, read first with M(partnercenter.secure_app.api_info) and write only when needed,
    or use a PUT.
  - Errors name the method, the path, the service's code and message, and its request id for support.
  - M(partnercenter.secure_app.api_info) reads; this module writes.
author:
  - partnercenter.secure_app developers (@partnercenter)
extends_documentation_fragment:
  - partnercenter.secure_app.common
  - partnercenter.secure_app.common.CONNECTION
  - partnercenter.secure_app.api_request
  - partnercenter.secure_app.attributes.ACTION_GROUP
attributes:
  check_mode:
    support: full
    description: Nothing is sent; the result reports O(changed) as given, and no answer.
  diff_mode:
    support: none
    description: Returns no diff (the module does not read the resource before it writes).
options:
  method:
    description: The HTTP method.
    type: str
    required: true
    choices: [POST, PATCH, PUT, DELETE]
  body:
    description:
      - The JSON body (a dictionary or a list). None for a request without a body. A DELETE has none.
    type: raw
  secret_body:
    description:
      - Parts of the body that are secret (a new user's password), merged into O(body) key by key (nested dictionaries
        are merged, other values replace). Their values never show in output, C(-v) included.
    type: dict
  headers:
    description:
      - Extra request headers, such as C(If-Match) or C(ConsistencyLevel). C(Authorization), C(Host) and
        C(Content-Length) are the collection's and are refused.
    type: dict
    default: {}
  status_code:
    description: The statuses that mean success. Any other fails the task with the service's error.
    type: list
    elements: int
    default: [200, 201, 202, 204]
  idempotent:
    description:
      - Whether the request may be sent again after a dropped connection or a 5xx (when the service may have acted).
      - Default V(true) for PUT and DELETE, V(false) for POST and PATCH.
    type: bool
  changed:
    description: What the task reports as C(changed) when the write succeeds, and in check mode.
    type: bool
    default: true
notes:
  - Graph answers a create with 201, an update or delete with 204; Resource Manager a PUT with 200 or 201 and a DELETE
    with 200, 202 (accepted, still running) or 204 (nothing there); Partner Center a create with 201.
"""

EXAMPLES = r"""
- name: A customer the partner_token fact holds tokens for, and its subscriptions
  partnercenter.secure_app.api_info:
    api: resource_manager
    path: /subscriptions?api-version=2022-12-01
    partner_token: "{{ partner_token }}"
    customer_tenant_id: "{{ customer_id }}"
  vars:
    customer_id: "{{ partner_token.customers.keys() | first }}"
  register: subscriptions

- name: The customer's domains
  partnercenter.secure_app.api_info:
    api: graph
    path: /v1.0/domains
    partner_token: "{{ partner_token }}"
    customer_tenant_id: "{{ partner_token.customers.keys() | first }}"
  register: domains

- name: Create a user in the customer tenant (its password never shows in output)
  partnercenter.secure_app.api:
    api: graph
    method: POST
    path: /v1.0/users
    body:
      accountEnabled: true
      displayName: Helpdesk Temp
      mailNickname: helpdesk-temp
      userPrincipalName: "helpdesk-temp@{{ domains.entries | selectattr('isDefault') | map(attribute='id') | first }}"
    secret_body:
      passwordProfile:
        password: "{{ lookup('ansible.builtin.password', '/dev/null', length=24) }}"
    status_code: [201]
    partner_token: "{{ partner_token }}"
    customer_tenant_id: "{{ partner_token.customers.keys() | first }}"
  register: created_user

- name: Change the user's job title
  partnercenter.secure_app.api:
    api: graph
    method: PATCH
    path: "/v1.0/users/{{ created_user.json.id }}"
    body:
      jobTitle: Helpdesk
    status_code: [204]
    partner_token: "{{ partner_token }}"
    customer_tenant_id: "{{ partner_token.customers.keys() | first }}"

- name: A resource group in the customer's subscription (PUT is idempotent)
  partnercenter.secure_app.api:
    api: resource_manager
    method: PUT
    path: "/subscriptions/{{ subscriptions.entries[0].subscriptionId }}/resourcegroups/rg-monitoring?api-version=2021-04-01"
    body:
      location: westeurope
    partner_token: "{{ partner_token }}"
    customer_tenant_id: "{{ partner_token.customers.keys() | first }}"

- name: Delete the user; a user already gone is fine
  partnercenter.secure_app.api:
    api: graph
    method: DELETE
    path: "/v1.0/users/{{ created_user.json.id }}"
    status_code: [204, 404]
    partner_token: "{{ partner_token }}"
    customer_tenant_id: "{{ partner_token.customers.keys() | first }}"
"""

RETURN = r"""
status_code:
  description: The HTTP status of the answer.
  returned: when the request was sent
  type: int
  sample: 201
json:
  description: The answer's JSON body; None for an answer without one (204), and in check mode.
  returned: always
  type: raw
  sample: {"id": "6e1c2b8a-8d0e-4a51-9f7a-3b9b0f0d4c11", "userPrincipalName": "helpdesk-temp@contoso.onmicrosoft.com"}
location:
  description: The C(Location) header of the answer (a created object, or an operation to poll), if any.
  returned: when the request was sent
  type: str
  sample: https://graph.microsoft.com/v1.0/users/6e1c2b8a-8d0e-4a51-9f7a-3b9b0f0d4c11
request_id:
  description: The service's request id (C(request-id), C(x-ms-request-id) or C(MS-RequestId)), for support.
  returned: when the request was sent
  type: str
  sample: 0d1c6f3e-5b8e-4bb9-9a57-52f5d7f0b1a2
"""

from ansible_collections.partnercenter.secure_app.plugins.module_utils._api import token_resource
from ansible_collections.partnercenter.secure_app.plugins.module_utils._api_write import (
    API_WRITE_ARGUMENT_SPEC, check_request, send)
from ansible_collections.partnercenter.secure_app.plugins.module_utils._module import SecureAppModule


def run(module: SecureAppModule) -> dict:
    check_request(module.params)
    if module.check_mode:
        return {"changed": module.params["changed"], "json": None}
    return dict(send(module.context, module.params), changed=module.params["changed"])


def main() -> None:
    module = SecureAppModule(API_WRITE_ARGUMENT_SPEC, supports_check_mode=True, partner_token_resource=token_resource,
                             partner_token_in_customer=True)
    module.run(run)


if __name__ == "__main__":
    main()
