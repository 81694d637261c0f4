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
    """A Context for one plugin call; any SecureAppError leaves as an AnsibleError."""
    context = None
    try:
        context = Context(get_option)
        yield context
    except SecureAppError as error:
        raise AnsibleError(error.message) from None
    finally:
        if context is not None:
            context.close()
