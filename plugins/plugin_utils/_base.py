# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

What lookups and action plugins share with the modules: the same Context over get_option, and
SecureAppError turned into AnsibleError."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

from ansible.errors import AnsibleError

from ansible_collections.partnercenter.secure_app.plugins.module_utils._context import Context
from ansible_collections.partnercenter.secure_app.plugins.module_utils._errors import SecureAppError


@contextmanager
def secure_app_context(get_option: Callable[[str], Any]) -> Iterator[Context]:
    """A Context for one lookup call; any SecureAppError leaves as an AnsibleError."""
    try:
        with _context(get_option) as context:
            yield context
    except SecureAppError as error:
        raise AnsibleError(error.message) from None


@contextmanager
def _context(get_option: Callable[[str], Any]) -> Iterator[Context]:
    context = Context(get_option)
    try:
        yield context
    finally:
        context.close()


def action_result(get_option: Callable[[str], Any], work: Callable[[Context], dict[str, Any]]) -> dict[str, Any]:
    """Run an action's work with a Context; a SecureAppError becomes a failed result whose msg is
    the sentence itself, as a module's fail_json would give."""
    try:
        with _context(get_option) as context:
            return work(context)
    except SecureAppError as error:
        return dict(failed=True, msg=error.message, **error.result())
