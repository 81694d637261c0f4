# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The exchange runs on the controller: a fan-out over a thousand customer tenants takes long
enough that the user must see it progress, and only the controller can print while a task runs.
It also saves starting a module process. Results hold tokens and are hidden from output."""

from __future__ import annotations

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.partnercenter.secure_app.plugins.module_utils._context import COMMON_ARGUMENT_SPEC
from ansible_collections.partnercenter.secure_app.plugins.module_utils._redact import redact
from ansible_collections.partnercenter.secure_app.plugins.module_utils._tokens import (
    ACCESS_TOKEN_ARGUMENT_SPEC, ACCESS_TOKEN_CHECKS, exchange)
from ansible_collections.partnercenter.secure_app.plugins.plugin_utils._base import action_result
from ansible_collections.partnercenter.secure_app.plugins.plugin_utils._progress import Progress

display = Display()


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, params = self.validate_argument_spec(
            argument_spec=dict(COMMON_ARGUMENT_SPEC, **ACCESS_TOKEN_ARGUMENT_SPEC), **ACCESS_TOKEN_CHECKS)
        progress = Progress(self._task.get_name())

        def work(context):
            return dict(exchange(
                context, client_id=context.option("client_id"), client_secret=context.client_credential(),
                tenant=context.tenant(), refresh_token=context.option("refresh_token"), resources=params["resources"],
                scopes=params["scopes"], customer_tenants=params["customer_tenants"],
                concurrency=params["concurrency"], fail_on_customer_error=params["fail_on_customer_error"],
                progress=progress), changed=False)

        outcome = action_result(params.get, work, "partnercenter.secure_app.access_token")
        if outcome.get("failed") and outcome.get("refresh_token"):
            # A fan-out failure carries the rotated refresh token: hidden, its sentence a warning.
            display.warning(f"{redact(self._task.get_name())}: {redact(outcome['msg'])} (the failed result is hidden because it "
                            "holds the rotated refresh token, which must be stored)")
            outcome["_ansible_no_log"] = True
        elif not outcome.get("failed"):
            outcome["_ansible_no_log"] = True  # every successful result holds tokens
        result.update(outcome)
        return result
