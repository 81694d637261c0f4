#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: admin_agents
short_description: Pre-consent the SAM app by putting its service principal in the AdminAgents group
version_added: 0.1.0
description:
  - Adds (or removes) the service principal of the Secure Application Model app to the partner tenant's
    C(AdminAgents) group, through Microsoft Graph. Under DAP this lets the app act in customer tenants.
  - A tenant without the group is not a Partner Center partner tenant; the task then fails and says so.
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
    description: Reports whether the membership would change; nothing is written.
  diff_mode:
    support: full
    description: Shows the membership before and after.
options:
  app_id:
    description: The app whose service principal is meant. Either this or O(service_principal_id).
    type: str
  service_principal_id:
    description: Object id of the service principal.
    type: str
  group_name:
    description: Display name of the group.
    type: str
    default: AdminAgents
  state:
    description: Whether the service principal should be a member.
    type: str
    default: present
    choices: [present, absent]
"""

EXAMPLES = r"""
- name: Sign the partner admin in for Graph (Azure CLI's public client, device code)
  partnercenter.secure_app.consent:
    tenant_id: "{{ partner_token.tenant_id }}"
    client_id: 04b07795-8ddb-461a-bbee-02f9e1bf7b46
    resource: graph
    require_mfa: false
  register: admin
  no_log: true

- name: Pre-consent the SAM app (its service principal into AdminAgents)
  partnercenter.secure_app.admin_agents:
    app_id: "{{ partner_token.app_id }}"
    access_token: "{{ admin.access_token }}"
"""

RETURN = r"""
group_id:
  description: Object id of the group.
  returned: always
  type: str
service_principal_id:
  description: Object id of the service principal.
  returned: always
  type: str
member:
  description: Whether the service principal is a member after the task.
  returned: always
  type: bool
"""

from ansible_collections.partnercenter.secure_app.plugins.module_utils._errors import SecureAppError
from ansible_collections.partnercenter.secure_app.plugins.module_utils._graph import Graph
from ansible_collections.partnercenter.secure_app.plugins.module_utils._module import SecureAppModule


def run(module: SecureAppModule) -> dict:
    params = module.params
    graph = Graph(module.context.http, module.context.cloud,
                  module.context.token("graph", "manage the AdminAgents membership"))
    groups = graph.find_group(params["group_name"])
    if not groups:
        raise SecureAppError(f"The tenant has no {params['group_name']!r} group, so it is not a Partner Center partner "
                             "tenant: sign in to the partner tenant (or give group_name).", code="group_not_found")
    if len(groups) > 1:
        raise SecureAppError(f"{len(groups)} groups are named {params['group_name']!r}: remove the duplicates.",
                             code="ambiguous_group")
    group_id = groups[0]["id"]
    sp_id = params["service_principal_id"]
    if not sp_id:
        sp = graph.find_service_principal(params["app_id"])
        if sp is None:
            raise SecureAppError(f"App {params['app_id']} has no service principal in this tenant: run app_registration "
                                 "first.", code="service_principal_not_found")
        sp_id = sp["id"]
    member = sp_id in graph.group_member_ids(group_id)
    wanted = params["state"] == "present"
    changed = member != wanted
    if changed and not module.check_mode:
        if wanted:
            graph.add_member(group_id, sp_id)
        else:
            graph.remove_member(group_id, sp_id)
    return {"changed": changed, "group_id": group_id, "service_principal_id": sp_id, "member": wanted,
            "diff": {"before": {"member": member}, "after": {"member": wanted}}}


def main() -> None:
    module = SecureAppModule(
        {
            "app_id": {"type": "str"},
            "service_principal_id": {"type": "str"},
            "group_name": {"type": "str", "default": "AdminAgents"},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        },
        required_one_of=[("app_id", "service_principal_id")],
        mutually_exclusive=[("app_id", "service_principal_id")],
        supports_check_mode=True, partner_token_resource="graph",
    )
    module.run(run)


if __name__ == "__main__":
    main()
