#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gdap_access_assignment
short_description: Give a security group roles of an active GDAP relationship, or take them away
version_added: 1.1.0
description:
  - Brings the access assignment of one security group of the partner tenant in one GDAP relationship to the desired
    state through Microsoft Graph (C(delegatedAdminRelationships/{id}/accessAssignments)); the assignment is
    identified by its relationship and group.
  - O(state=present) creates it with O(roles) (default, all the relationship's roles) or changes its roles;
    O(state=absent) deletes it. The same roles is unchanged.
  - Changes and deletions send If-Match with the assignment's etag (O(etag) when given, else the one just read);
    when it changed meanwhile, Graph refuses and the task fails with one sentence, nothing written.
  - Graph applies a new or changed assignment over a while (C(pending), then C(active)).
  - Needs a delegated Microsoft Graph token of the partner tenant with C(DelegatedAdminRelationship.ReadWrite.All) of
    an admin agent; the SAM app requests only C(DelegatedAdminRelationship.Read.All), enough for check mode.
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
    description: Reads the relationship and its assignments and reports what would be done; nothing is written.
  diff_mode:
    support: full
    description: The assignment before and after.
options:
  relationship_id:
    description: The GDAP relationship's id (an active one for O(state=present)).
    type: str
    required: true
  group_id:
    description: The object id of the partner tenant's security group.
    type: str
    required: true
  roles:
    description:
      - The roles the group's members get, by name or role template id; each must be a role of the relationship.
        Defaults to all the relationship's roles.
    type: list
    elements: str
  etag:
    description: The assignment's etag as read earlier; a change since then fails the task instead of overwriting it.
    type: str
  state:
    description: Whether the group has the assignment.
    type: str
    default: present
    choices: [present, absent]
seealso:
  - module: partnercenter.secure_app.gdap_relationship
  - module: partnercenter.secure_app.gdap_relationship_info
"""

EXAMPLES = r"""
- name: GDAP relationships and the service account's groups
  partnercenter.secure_app.gdap_relationship_info:
    partner_token: "{{ partner_token }}"
  register: gdap

# Check mode needs only the SAM app's read permission; writing needs DelegatedAdminRelationship.ReadWrite.All.
- name: What giving the first group the first active relationship's roles would do
  partnercenter.secure_app.gdap_access_assignment:
    partner_token: "{{ partner_token }}"
    relationship_id: "{{ (gdap.relationships | selectattr('status', 'eq', 'active') | first).id }}"
    group_id: "{{ (gdap.my_groups | first).id }}"
  check_mode: true
  register: assignment
"""

RETURN = r"""
action:
  description: C(none), C(create), C(update) or C(delete).
  returned: always
  type: str
  sample: create
assignment:
  description: The assignment after the task (null once deleted).
  returned: always
  type: dict
  sample: {"id": "2e7b-91ff", "status": "pending", "group_id": "b22a39f3-ffa7-5482-b6d4-6cccd143b44e",
           "roles": ["Directory Readers"], "etag": "W/\"JyI0NzAwNjg0Mi0wMDAwLTE5MDAtMDAwMC02MGY0Yjg4MzAwMDAiJw==\""}
  contains:
    id:
      description: The assignment's id.
      type: str
    status:
      description: As Graph gives it (C(pending), C(active), C(deleting), ...).
      type: str
    group_id:
      description: The security group.
      type: str
    roles:
      description: Its roles, by name.
      type: list
      elements: str
    etag:
      description: Its etag, as Graph gave it when read (null after a change).
      type: str
"""

from ansible_collections.partnercenter.secure_app.plugins.module_utils._gdap_assignments import run_assignment
from ansible_collections.partnercenter.secure_app.plugins.module_utils._module import SecureAppModule


def run(module: SecureAppModule) -> dict:
    return run_assignment(module.context, module.params, check_mode=module.check_mode)


def main() -> None:
    module = SecureAppModule(
        {"relationship_id": {"type": "str", "required": True},
         "group_id": {"type": "str", "required": True},
         "roles": {"type": "list", "elements": "str"},
         "etag": {"type": "str"},
         "state": {"type": "str", "default": "present", "choices": ["present", "absent"]}},
        supports_check_mode=True, partner_token_resource="graph",
    )
    module.run(run)


if __name__ == "__main__":
    main()
