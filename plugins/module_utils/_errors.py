# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

The one error type the shared layer raises. Modules turn it into fail_json, plugins into
AnsibleError. Its message is one sentence naming the cause and the fix, and never holds a
secret: callers build it from ids, codes and the service's own error text only, and what a
service quotes of a credential is masked as the message is set (see _redact)."""

from __future__ import annotations

from typing import Any

from ._redact import redact


class SecureAppError(Exception):
    """A failure a user can act on."""

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 details: dict[str, Any] | None = None, secret_result: dict[str, Any] | None = None) -> None:
        super().__init__(redact(message))
        self.message = message
        self.code = code
        self.status = status
        self.details = details or {}
        # What the work produced before it failed and that must not be lost (a rotated refresh
        # token). It is secret: only a result hidden from output may carry it.
        self.secret_result = secret_result

    @property
    def message(self) -> str:
        return self._message

    @message.setter
    def message(self, text: str) -> None:
        # Built from a service's error text, it may quote a credential the service was sent.
        self._message = redact(text)

    def result(self) -> dict[str, Any]:
        """Extra keys for a failed task: the code and ids that help support, nothing secret."""
        extra: dict[str, Any] = {}
        if self.code:
            extra["error_code"] = self.code
        if self.status:
            extra["status_code"] = self.status
        extra.update(self.details)
        return extra


class MissingLibraryError(SecureAppError):
    """A Python package the collection needs is not installed where the task runs."""


def unexpected_error_sentence(exc: BaseException, where: str) -> str:
    """The fixed sentence for an exception that is not a SecureAppError. Only the exception's type
    is named: its text may quote a value given to the task, a token or a secret among them."""
    return (f"{where} stopped on an unexpected {type(exc).__name__}; its details are withheld because they may "
            "hold a value given to the task. Check the task's values (a token or secret with extra characters, "
            "a malformed URL); if they are right, report this with the task, without its secrets.")


# The ids Microsoft support asks for, in the order they are named when a service gave several.
SUPPORT_IDS = ("request-id", "x-ms-request-id", "MS-CorrelationId", "correlation_id")


def with_support_id(message: str, details: dict[str, Any]) -> str:
    """The sentence with the service's request or correlation id before its final period, so a
    user can quote it to Microsoft support."""
    for key in SUPPORT_IDS:
        if details.get(key):
            label = "correlation id" if "orrelation" in key else "request id"
            return f"{message.rstrip('.')} ({label} {details[key]})."
    return message
