#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: keyvault_secret
short_description: Set or delete an Azure Key Vault secret
version_added: 0.1.0
description:
  - Sets (O(state=present)) or deletes (O(state=absent)) a Key Vault secret with azure-keyvault-secrets. To read
    secrets, use M(partnercenter.secure_app.keyvault_secret_info).
  - Setting writes a new version only when the value changes; a change of content type, tags or expiry alone
    updates the current version's properties.
author:
  - partnercenter.secure_app developers (@partnercenter)
extends_documentation_fragment:
  - partnercenter.secure_app.common
  - partnercenter.secure_app.common.CONNECTION
  - partnercenter.secure_app.common.PARTNER_TOKEN
  - partnercenter.secure_app.attributes.ACTION_GROUP
  - partnercenter.secure_app.keyvault
  - partnercenter.secure_app.keyvault.VAULT
attributes:
  check_mode:
    support: full
    description: Reads the secret and reports what would change; nothing is written.
  diff_mode:
    support: full
    description: Shows changes of content type, tags and expiry, and whether the value changes (never the value).
options:
  name:
    description: The secret's name.
    type: str
    required: true
  value:
    description: The secret's value, for O(state=present).
    type: str
  content_type:
    description: Content type of the secret.
    type: str
  tags:
    description: Tags of the secret. Unset keeps the current tags.
    type: dict
  expires_on:
    description: Expiry, as Unix seconds or an ISO 8601 date and time.
    type: str
  state:
    description: C(present) sets, C(absent) deletes (soft delete).
    type: str
    default: present
    choices: [present, absent]
  recover_deleted:
    description: When the secret is soft-deleted, recover it before setting it.
    type: bool
    default: true
  purge:
    description: With O(state=absent), also purge the deleted secret.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Store a secret (a new version only when the value changes)
  partnercenter.secure_app.keyvault_secret:
    vault_url: "{{ partner_token_vault_url }}"
    name: example-secret
    value: "{{ lookup('ansible.builtin.password', '/dev/null', length=32) }}"
    content_type: text/plain
    tags: {purpose: example}
    vault_tenant_id: "{{ partner_token_vault_tenant_id | default(omit, true) }}"
    vault_client_id: "{{ partner_token_vault_client_id | default(omit, true) }}"
    vault_client_secret: "{{ partner_token_vault_client_secret | default(omit, true) }}"
  no_log: true

- name: Delete and purge it
  partnercenter.secure_app.keyvault_secret:
    vault_url: "{{ partner_token_vault_url }}"
    name: example-secret
    state: absent
    purge: true
    vault_tenant_id: "{{ partner_token_vault_tenant_id | default(omit, true) }}"
    vault_client_id: "{{ partner_token_vault_client_id | default(omit, true) }}"
    vault_client_secret: "{{ partner_token_vault_client_secret | default(omit, true) }}"
"""

RETURN = r"""
secret:
  description:
    - The secret after the task (null when absent), without its value.
  returned: always
  type: dict
  contains:
    name:
      description: Name.
      type: str
    version:
      description: Current version.
      type: str
    id:
      description: Id of the version.
      type: str
    content_type:
      description: Content type.
      type: str
    tags:
      description: Tags, names to values (free-form; the collection's own are listed in the onboard role's README).
      type: dict
      sample: {"app_id": "...", "key_id": "...", "expires": "2027-11-27T08:28:18Z"}
    enabled:
      description: Whether it is enabled.
      type: bool
    expires_on:
      description: Expiry as Unix seconds.
      type: int
"""

from ansible_collections.partnercenter.secure_app.plugins.module_utils._errors import SecureAppError
from ansible_collections.partnercenter.secure_app.plugins.module_utils._keyvault import KEYVAULT_ARGUMENT_SPEC, KeyVault, secret_view
from ansible_collections.partnercenter.secure_app.plugins.module_utils._module import SecureAppModule
from ansible_collections.partnercenter.secure_app.plugins.module_utils._times import parse_time


def parse_expiry(value: str | None) -> int | None:
    if value in (None, ""):
        return None
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    moment = parse_time(text)
    if moment is None:
        raise SecureAppError(f"expires_on {value!r} is neither Unix seconds nor an ISO 8601 date: give, for example, "
                             "2027-01-31T00:00:00Z.")
    return int(moment.timestamp())


def run(module: SecureAppModule) -> dict:
    params = module.params
    name, state = params["name"], params["state"]
    vault = KeyVault.from_options(module.context)
    current = vault.get(name)
    if state == "absent":
        if current is None:
            if params["purge"] and vault.deleted(name) is not None:
                if not module.check_mode:
                    vault.purge(name)
                return {"changed": True, "secret": None}
            return {"changed": False, "secret": None}
        diff = {"before": {"name": name}, "after": {}}
        if not module.check_mode:
            vault.delete(name)
            # A failure from here on says changed (module.writes) and what the vault holds now.
            module.writes.wrote(f"secret {name!r} was deleted first, so it is soft-deleted (recoverable) and not "
                                "purged: run the task again to purge it" if params["purge"] else None, diff=diff)
            if params["purge"]:
                vault.purge(name)
        return {"changed": True, "secret": None, "diff": diff}
    return present(module, vault, current)


def present(module: SecureAppModule, vault: KeyVault, current) -> dict:
    params = module.params
    name = params["name"]
    if params["value"] is None:
        raise SecureAppError("value is required with state=present: give the secret's value.")
    expires_on = parse_expiry(params["expires_on"])
    recovered = False
    if current is None and vault.deleted(name) is not None:
        if not params["recover_deleted"]:
            raise SecureAppError(f"Secret {name!r} is soft-deleted in {vault.vault_url}: set recover_deleted: true, or "
                                 "purge it first.", code="ObjectIsDeletedButRecoverable")
        if module.check_mode:
            return {"changed": True, "secret": None, "diff": {"before": {"deleted": True}, "after": {"deleted": False}}}
        vault.recover(name)
        recovered = True  # a change, even when the recovered secret already has the wanted value
        module.writes.wrote(f"secret {name!r} had been recovered from soft-delete first, so it exists again with its "
                            "previous value", diff={"before": {"deleted": True}, "after": {"deleted": False}})
        current = vault.get(name)
    before = secret_view(current, with_value=False) if current else None
    wanted = {
        "content_type": params["content_type"] if params["content_type"] is not None else (before or {}).get("content_type"),
        "tags": params["tags"] if params["tags"] is not None else (before or {}).get("tags") or {},
        "expires_on": expires_on if expires_on is not None else (before or {}).get("expires_on"),
    }
    value_changes = current is None or current.value != params["value"]
    metadata_changes = before is not None and any(wanted[k] != before.get(k) for k in wanted)
    changed = value_changes or metadata_changes
    diff = {"before": dict({k: before.get(k) for k in wanted} if before else {}),
            "after": dict(wanted)}
    if recovered:
        diff["before"]["deleted"], diff["after"]["deleted"] = True, False
    if value_changes:
        diff["after"]["value"] = "(changed)" if current else "(set)"
    if not changed:
        return {"changed": recovered, "secret": before, **({"diff": diff} if recovered else {})}
    if module.check_mode:
        return {"changed": True, "secret": before, "diff": diff}
    if recovered:
        module.writes.wrote(diff=diff)  # a failure from here on keeps the whole diff
    if value_changes:
        written = vault.set(name, params["value"], content_type=wanted["content_type"], tags=wanted["tags"],
                            expires_on=wanted["expires_on"])
        return {"changed": True, "secret": secret_view(written, with_value=False), "diff": diff}
    vault.update_properties(name, before["version"], content_type=wanted["content_type"], tags=wanted["tags"],
                            expires_on=wanted["expires_on"])
    module.writes.wrote(diff=diff)  # the read below is only the result's view
    return {"changed": True, "secret": secret_view(vault.get(name), with_value=False), "diff": diff}


def main() -> None:
    module = SecureAppModule(
        {
            **KEYVAULT_ARGUMENT_SPEC,
            "name": {"type": "str", "required": True},
            "value": {"type": "str", "no_log": True},
            "content_type": {"type": "str"},
            "tags": {"type": "dict"},
            "expires_on": {"type": "str"},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
            "recover_deleted": {"type": "bool", "default": True},
            "purge": {"type": "bool", "default": False},
        },
        supports_check_mode=True, partner_token_resource="keyvault",
    )
    module.run(run)


if __name__ == "__main__":
    main()
