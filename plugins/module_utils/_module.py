# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

The thin wrapper every module uses: the shared options merged into its argument spec, one
Context per run, and SecureAppError turned into fail_json with one sentence (and, after a write
that went through, changed and what it left: see _writes); every sentence that leaves (msg, a
customer's error, a warning) without a credential value (see _redact)."""

from __future__ import annotations

from typing import Any, Callable

from ansible.module_utils.basic import AnsibleModule

from ._context import COMMON_ARGUMENT_SPEC, CREDENTIAL_OPTIONS, Context, clean_credential
from ._errors import SecureAppError, unexpected_error_sentence
from ._option_names import in_callers_terms
from ._partner_token import PARTNER_TOKEN_ARGUMENT_SPEC, arguments_from_fact
from ._redact import redact, redact_result
from ._writes import Writes


class SecureAppModule:
    def __init__(self, argument_spec: dict[str, Any], *, common: bool = True,
                 partner_token_resource: str | Callable[[dict[str, Any]], str] | None = None,
                 partner_token_in_customer: bool = False, **kwargs: Any) -> None:
        spec = dict(COMMON_ARGUMENT_SPEC) if common else {}
        spec.update(argument_spec)
        # The module takes partner_token as every API module does (doc fragment common.PARTNER_TOKEN):
        # its action picks the token on the controller; a run without the action picks it here.
        # The resource may depend on the task (api: the API it calls); with partner_token_in_customer,
        # the module's customer_tenant_id names the tenant whose token it takes (as its action's).
        self.partner_token_resource = partner_token_resource
        self.partner_token_in_customer = partner_token_in_customer
        if partner_token_resource:
            spec.update(PARTNER_TOKEN_ARGUMENT_SPEC)
            kwargs["mutually_exclusive"] = list(kwargs.get("mutually_exclusive") or []) + [("partner_token", "access_token")]
        self.module = AnsibleModule(argument_spec=spec, **kwargs)
        self.params = self.module.params
        self.check_mode = self.module.check_mode
        self._context: Context | None = None
        # The writes that went through: a failure after one keeps changed and what now exists.
        self.writes = Writes()

    @property
    def context(self) -> Context:
        if self._context is None:
            self._context = Context(self.params.get)
        return self._context

    def run(self, work: Callable[["SecureAppModule"], dict[str, Any]]) -> None:
        failure: dict[str, Any] | None = None
        try:
            if self.partner_token_resource and self.params.get("partner_token"):
                resource = self.partner_token_resource
                if callable(resource):
                    resource = resource(self.params)
                customer = self.params.get("customer_tenant_id") if self.partner_token_in_customer else None
                self.params.update(arguments_from_fact(self.params.pop("partner_token"), resource, customer))
            for name in CREDENTIAL_OPTIONS & set(self.params):
                cleaned = clean_credential(self.params[name], name)
                if cleaned:
                    # The result's invocation shows params masked by the values given; the
                    # cleaned value differs from the given one, so it is masked too.
                    self.module.no_log_values.add(cleaned)
                self.params[name] = cleaned
            result = work(self)
        except SecureAppError as error:
            failure = dict(error.secret_result or {}, msg=in_callers_terms(error.message, self.params.get("option_names")),
                           **error.result())
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # Not the collection's own: its text may quote a value given to the task (a token).
            failure = dict(msg=unexpected_error_sentence(exc, self.module._name))
        finally:
            if self._context is not None:
                self._context.close()
        _redact_warnings()
        if failure is not None:
            self.module.fail_json(**redact_result(self.writes.failure(failure)))
        self.module.exit_json(**redact_result(result))


def _redact_warnings() -> None:
    """Warnings and deprecations leave with the result, added by exit_json itself."""
    try:
        from ansible.module_utils.common import warnings as collected
    except ImportError:  # pragma: no cover - every supported ansible-core has it
        return
    for name in ("_global_warnings", "_global_deprecations"):
        entries = getattr(collected, name, None)
        if isinstance(entries, list):
            entries[:] = [redact(e) if isinstance(e, str) else e for e in entries]
