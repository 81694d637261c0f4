# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

A module cannot hide its own result; an action plugin in front of it can. The modules that may
return a secret run through this action, which marks a successful result that holds one as
no_log. A failure stays visible: its message never holds a secret, and a task-level no_log would
hide the sentence that says what went wrong."""

from __future__ import annotations

from typing import Any

from ansible.plugins.action import ActionBase


class SecretResultAction(ActionBase):
    TRANSFERS_FILES = False

    def holds_secret(self, result: dict[str, Any]) -> bool:
        raise NotImplementedError

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        result.update(self._execute_module(module_name=self._task.resolved_action or self._task.action,
                                           module_args=self._task.args, task_vars=task_vars))
        if not result.get("failed") and self.holds_secret(result):
            result["_ansible_no_log"] = True
        return result
