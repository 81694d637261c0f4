# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The consent runs on the controller: it must show the sign-in URL or device code to the user
while the task waits, which a module cannot do."""

from __future__ import annotations

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.partnercenter.secure_app.plugins.module_utils._consent import MODES, Consent
from ansible_collections.partnercenter.secure_app.plugins.module_utils._context import COMMON_ARGUMENT_SPEC
from ansible_collections.partnercenter.secure_app.plugins.module_utils._tokens import RESOURCES
from ansible_collections.partnercenter.secure_app.plugins.plugin_utils._base import action_result

display = Display()

ARGUMENT_SPEC = dict(COMMON_ARGUMENT_SPEC, **{
    "client_id": dict(COMMON_ARGUMENT_SPEC["client_id"], required=True),
    "mode": {"type": "str", "default": "device_code", "choices": list(MODES)},
    "scopes": {"type": "list", "elements": "str"},
    "resource": {"type": "str", "default": "partner_center", "choices": list(RESOURCES)},
    "redirect_uri": {"type": "str", "default": "http://localhost:8400"},
    "open_browser": {"type": "bool", "default": True},
    "code": {"type": "str", "no_log": True},
    "require_mfa": {"type": "bool", "default": True},
    "sign_in_timeout": {"type": "int", "default": 900},
    "login_hint": {"type": "str"},
    "prompt": {"type": "str", "choices": ["login", "consent", "select_account"]},
    "state_dir": {"type": "path", "default": "~/.ansible/partnercenter_secure_app"},
})


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, params = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        if self._task.check_mode:
            result.update(skipped=True, changed=False,
                          msg="The consent needs an interactive sign-in; it is skipped in check mode.")
            return result
        outcome = action_result(params.get, lambda context: self._consent(context, params),
                                "partnercenter.secure_app.consent")
        if not outcome.get("failed"):
            # Everything a successful consent returns is a credential: keep it out of output
            # whatever the task says (a failure carries only the message, which is shown).
            result["_ansible_no_log"] = True
        result.update(outcome)
        return result

    @staticmethod
    def _consent(context, params):
        token = Consent(context, params, display.display).run()
        return {"changed": True, "refresh_token": token.refresh_token, "access_token": token.access_token,
                "expires_on": token.expires_on, "scope": token.scope, "identity": token.identity()}
