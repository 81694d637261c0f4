# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

The one action in front of every module that calls an API. On the controller, before the module
runs:
- partner_token (the fact the partner_token role sets) becomes the access token for the module's
  resource and the cloud settings; only those go to the module, never the whole fact. The
  customer tenant, for a module that works in one, defaults to the host variable
  partnercenter_customer_tenant_id (the customers inventory plugin sets it).
- A token-holding structure given under any other option (the fact passed where it is not
  expected, a part of it) is refused with a sentence naming the option: the module never runs, so
  its invocation (printed at -vvv) never shows the tokens.
After it: every sentence of the result is redacted with the credentials the task was given, and a
successful result that holds a secret (a new client secret, secret values) is hidden from output.
A failure stays visible: its message never holds a secret."""

from __future__ import annotations

from typing import Any

from ansible.plugins.action import ActionBase

from ansible_collections.partnercenter.secure_app.plugins.module_utils._context import CREDENTIAL_OPTIONS
from ansible_collections.partnercenter.secure_app.plugins.module_utils._errors import SecureAppError
from ansible_collections.partnercenter.secure_app.plugins.module_utils._partner_token import arguments_from_fact
from ansible_collections.partnercenter.secure_app.plugins.module_utils._redact import (
    redact_result, remember, remember_fact_tokens)

# The host variable the customers inventory sets on each customer's host.
CUSTOMER_HOST_VARIABLE = "partnercenter_customer_tenant_id"
# Keys that mark a structure as holding tokens (the fact, one of its parts, a token result).
TOKEN_KEYS = frozenset({"access_token", "refresh_token"})


def holds_tokens(value: Any) -> bool:
    if isinstance(value, dict):
        return any(key in TOKEN_KEYS or holds_tokens(item) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return any(holds_tokens(item) for item in value)
    return False


def refused_options(args: dict[str, Any], allowed: frozenset[str]) -> list[str]:
    """The options, other than those allowed, whose value is a structure holding tokens."""
    return sorted(name for name, value in args.items() if name not in allowed and holds_tokens(value))


class PartnerTokenAction(ActionBase):
    TRANSFERS_FILES = False
    # The partner_token resource whose token the module needs (None: resource() decides).
    RESOURCE: str | None = None
    # Whether the module has customer_tenant_id: its default is then the host's customer (a task on
    # a host of the customers inventory works in that customer); an empty value is the partner tenant.
    TAKES_CUSTOMER_TENANT = False

    def resource(self, args: dict[str, Any]) -> str:
        if self.RESOURCE is None:
            raise NotImplementedError
        return self.RESOURCE

    def holds_secret(self, result: dict[str, Any]) -> bool:
        return False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        for value in args.values():
            remember_fact_tokens(value)
        remember(*(args.get(name) for name in CREDENTIAL_OPTIONS))
        refused = refused_options(args, frozenset({"partner_token"}))
        if refused:
            return dict(result, failed=True, error_code="tokens_in_option", msg=(
                f"{', '.join(refused)} holds tokens (the partner_token fact or a part of it), which that option "
                "never takes: pass the fact as partner_token: \"{{ partner_token }}\", or a single token as "
                "access_token; the task did not run, so its values were not shown."))
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
        result = redact_result(result)
        if not result.get("failed") and self.holds_secret(result):
            result["_ansible_no_log"] = True
        return result
