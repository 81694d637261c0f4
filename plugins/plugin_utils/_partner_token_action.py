# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

The action in front of the modules that take the partner_token fact: it picks the token (and the
cloud settings) on the controller and sends the module only those, never the whole fact."""

from __future__ import annotations

from typing import Any

from ansible.plugins.action import ActionBase

from ansible_collections.partnercenter.secure_app.plugins.module_utils._errors import SecureAppError
from ansible_collections.partnercenter.secure_app.plugins.module_utils._partner_token import arguments_from_fact

# The host variable the customers inventory sets on each customer's host.
CUSTOMER_HOST_VARIABLE = "partnercenter_customer_tenant_id"


class PartnerTokenAction(ActionBase):
    TRANSFERS_FILES = False
    # Whether the module has customer_tenant_id: its default is then the host's customer (a task on
    # a host of the customers inventory works in that customer); an empty value is the partner tenant.
    TAKES_CUSTOMER_TENANT = False

    def resource(self, args: dict[str, Any]) -> str:
        raise NotImplementedError

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        if self.TAKES_CUSTOMER_TENANT and args.get("customer_tenant_id") is None:
            host_customer = (task_vars or {}).get(CUSTOMER_HOST_VARIABLE)
            if host_customer:
                args["customer_tenant_id"] = str(host_customer)
        fact = args.pop("partner_token", None)
        if fact is not None:
            if args.get("access_token"):
                return dict(result, failed=True, msg="Give partner_token or access_token, not both.")
            try:
                # What the task names itself (a ca_bundle, a cloud) wins over what the fact holds.
                chosen = arguments_from_fact(fact, self.resource(args), args.get("customer_tenant_id"))
            except SecureAppError as error:
                return dict(result, failed=True, msg=error.message, error_code=error.code)
            args = dict(chosen, **args)
        result.update(self._execute_module(module_name=self._task.resolved_action or self._task.action,
                                           module_args=args, task_vars=task_vars))
        return result
