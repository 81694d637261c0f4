# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The partner_token step on the controller: the vault read, the exchange, the write-back and the
customers in one process with one Key Vault credential and one HTTP session, instead of three
module processes that each import azure-identity and build a credential. Only the controller can
print the fan-out's progress. The result holds access tokens (hidden from output), never the
refresh token or the app's credential, which stay inside this step."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.partnercenter.secure_app.plugins.module_utils._vault_exchange import (
    PARTNER_TOKEN_STEP_ARGUMENT_SPEC, run_step)
from ansible_collections.partnercenter.secure_app.plugins.plugin_utils._base import action_result
from ansible_collections.partnercenter.secure_app.plugins.plugin_utils._progress import Progress


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    # Also in check mode: the exchange rotates the refresh token, and not storing it would lose it.
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, params = self.validate_argument_spec(argument_spec=PARTNER_TOKEN_STEP_ARGUMENT_SPEC)
        progress = Progress(self._task.get_name())
        outcome = action_result(params.get, lambda context: run_step(context, params, progress),
                                "partnercenter.secure_app.partner_token")
        if not outcome.get("failed"):
            outcome["_ansible_no_log"] = True  # it holds access tokens
        result.update(outcome)
        return result
