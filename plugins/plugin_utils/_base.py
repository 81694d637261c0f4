# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

What lookups and action plugins share with the modules: the same Context over get_option, and
SecureAppError turned into AnsibleError, every sentence without a credential value (see _redact)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

from ansible.errors import AnsibleError

from ansible_collections.partnercenter.secure_app.plugins.module_utils._context import Context
from ansible_collections.partnercenter.secure_app.plugins.module_utils._errors import (
    SecureAppError, unexpected_error_sentence)
from ansible_collections.partnercenter.secure_app.plugins.module_utils._option_names import in_callers_terms
from ansible_collections.partnercenter.secure_app.plugins.module_utils._redact import redact, redact_result


@contextmanager
def secure_app_context(get_option: Callable[[str], Any], where: str,
                       option_names: dict[str, Any] | None = None) -> Iterator[Context]:
    """A Context for one lookup call; any failure leaves as an AnsibleError with one sentence (in
    the caller's terms, when the plugin takes option_names)."""
    try:
        with _context(get_option) as context:
            yield context
    except SecureAppError as error:
        raise AnsibleError(redact(in_callers_terms(error.message, option_names))) from None
    except AnsibleError as error:
        cleaned = redact(str(error.message))
        if cleaned != str(error.message):
            raise AnsibleError(cleaned) from None
        raise
    except Exception as exc:  # pylint: disable=broad-exception-caught
        raise AnsibleError(unexpected_error_sentence(exc, where)) from None


@contextmanager
def _context(get_option: Callable[[str], Any]) -> Iterator[Context]:
    context = Context(get_option)
    try:
        yield context
    finally:
        context.close()


def action_result(get_option: Callable[[str], Any], work: Callable[[Context], dict[str, Any]],
                  where: str) -> dict[str, Any]:
    """Run an action's work with a Context; a failure becomes a failed result whose msg is one
    sentence, as a module's fail_json would give."""
    try:
        with _context(get_option) as context:
            return redact_result(work(context))
    except SecureAppError as error:
        return redact_result(dict(error.secret_result or {}, failed=True,
                                  msg=in_callers_terms(error.message, get_option("option_names")), **error.result()))
    except Exception as exc:  # pylint: disable=broad-exception-caught
        return dict(failed=True, msg=unexpected_error_sentence(exc, where))
