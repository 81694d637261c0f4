#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gdap_access_assignment
short_description: Give security groups roles of active GDAP relationships, or take them away
version_added: 1.1.0
description:
  - Brings the access assignment of a security group of the partner tenant in a GDAP relationship to the desired
    state through Microsoft Graph (C(delegatedAdminRelationships/{id}/accessAssignments)); the assignment is
    identified by its relationship and group. One (O(relationship_id) and O(group_id)) or many (O(assignments), one
    relationship each, concurrently, a result each in RV(assignments)).
  - O(state=present) creates it with O(roles) (default, all the relationship's roles) or changes its roles;
    O(state=absent) deletes it. The same roles is unchanged.
  - Changes and deletions send If-Match with the assignment's etag (O(etag) when given, else the one just read);
    when it changed meanwhile, Graph refuses and the task fails with one sentence, nothing written.
  - Graph applies a new or changed assignment over a while (C(pending), then C(active)); O(wait) waits for it, at most
    O(wait_timeout) seconds.
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
    description: The GDAP relationship's id (an active one for O(state=present)). With O(group_id); or O(assignments).
    type: str
  group_id:
    description: The object id of the partner tenant's security group.
    type: str
  assignments:
    description:
      - Many assignments in one task, instead of O(relationship_id) and O(group_id).
      - A failed one is its entry's error; the others go on (see O(fail_on_customer_error)).
    type: list
    elements: dict
    suboptions:
      relationship_id:
        description: The GDAP relationship's id.
        type: str
        required: true
      group_id:
        description: The object id of the partner tenant's security group.
        type: str
        required: true
      roles:
        description: As O(roles).
        type: list
        elements: str
      etag:
        description: As O(etag).
        type: str
      state:
        description: As O(state); defaults to the task's O(state).
        type: str
        choices: [present, absent]
  concurrency:
    description: How many of O(assignments) are handled at once.
    type: int
    default: 8
  fail_on_customer_error:
    description: With O(assignments), fail the task when one of them gave an error (after all were handled).
    type: bool
    default: true
  wait:
    description:
      - Wait until Graph reports each assignment the task created or changed as C(active) (a deleted one as gone)
        before returning. One still pending after O(wait_timeout) is an error.
    type: bool
    default: false
  wait_timeout:
    description: How many seconds O(wait) waits at most.
    type: int
    default: 300
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

# Many relationships in one task; wait returns once Graph made the new assignments active.
- name: The first group in every active relationship
  ansible.builtin.set_fact:
    wanted: "{{ wanted | default([]) + [{'relationship_id': item.id, 'group_id': (gdap.my_groups | first).id}] }}"
  loop: "{{ gdap.relationships | selectattr('status', 'eq', 'active') }}"
  loop_control:
    label: "{{ item.display_name }}"

- name: What giving it all their roles would do
  partnercenter.secure_app.gdap_access_assignment:
    partner_token: "{{ partner_token }}"
    assignments: "{{ wanted | default([]) }}"
    wait: true
    wait_timeout: 120
  check_mode: true
  register: assignments
"""

RETURN = r"""
action:
  description: C(none), C(create), C(update) or C(delete).
  returned: with O(relationship_id)
  type: str
  sample: create
assignment:
  description: The assignment after the task (null once deleted).
  returned: with O(relationship_id)
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
assignments:
  description: One entry per assignment given (one with O(relationship_id)), in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    relationship_id:
      description: The relationship.
      type: str
    group_id:
      description: The security group.
      type: str
    tenant_id:
      description: The relationship's customer (null when the relationship could not be read).
      type: str
    changed:
      description: Whether this assignment was (or, in check mode, would be) changed.
      type: bool
    action:
      description: As RV(action).
      type: str
    assignment:
      description: As RV(assignment).
      type: dict
    error:
      description: Why this assignment failed, in one sentence; null when it did not.
      type: str
    error_code:
      description: A short code for the failure.
      type: str
"""

from ansible_collections.partnercenter.secure_app.plugins.module_utils._gdap_assignments import run_assignments
from ansible_collections.partnercenter.secure_app.plugins.module_utils._module import SecureAppModule


def run(module: SecureAppModule) -> dict:
    return run_assignments(module.context, module.params, check_mode=module.check_mode)


def main() -> None:
    module = SecureAppModule(
        {"relationship_id": {"type": "str"},
         "group_id": {"type": "str"},
         "roles": {"type": "list", "elements": "str"},
         "etag": {"type": "str"},
         "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
         "assignments": {"type": "list", "elements": "dict", "options": {
             "relationship_id": {"type": "str", "required": True},
             "group_id": {"type": "str", "required": True},
             "roles": {"type": "list", "elements": "str"},
             "etag": {"type": "str"},
             "state": {"type": "str", "choices": ["present", "absent"]}}},
         "concurrency": {"type": "int", "default": 8},
         "fail_on_customer_error": {"type": "bool", "default": True},
         "wait": {"type": "bool", "default": False},
         "wait_timeout": {"type": "int", "default": 300}},
        supports_check_mode=True, partner_token_resource="graph",
        required_one_of=[("relationship_id", "assignments")], required_together=[("relationship_id", "group_id")],
        mutually_exclusive=[("relationship_id", "assignments")],
    )
    module.run(run)


if __name__ == "__main__":
    main()
