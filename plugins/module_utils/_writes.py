# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

What a task has written so far. One task's write can take several requests (an application, then
its service principal, then its secret); when a later one fails, the earlier ones stay done in the
tenant. Every step that changes something records it here as it goes through, and
SecureAppModule.run puts the record into the failed result: changed stays true, the failure keeps
what now exists (the app's ids, the diff), and the sentence says what was done before it."""

from __future__ import annotations

from typing import Any


class Writes:
    """The writes of one task run that went through."""

    def __init__(self) -> None:
        self.changed = False
        self.done: list[str] = []
        self.facts: dict[str, Any] = {}
        # What to do after a failure once something was written, said once at the end of the sentence.
        self.advice: str | None = None

    def wrote(self, done: str | None = None, **facts: Any) -> None:
        """Record one write that went through: done, a clause for a later failure's sentence (what
        the tenant holds now); facts, result keys a failed task keeps. Neither may hold a secret:
        a failure is shown."""
        self.changed = True
        if done:
            self.done.append(done)
        self.facts.update(facts)

    def failure(self, failure: dict[str, Any]) -> dict[str, Any]:
        """A failed task's result, with what was written before it failed."""
        if not self.changed:
            return failure
        message = str(failure.get("msg") or "")
        if self.done:
            message = f"{message.rstrip('.')}; {'; '.join(self.done)}"
            message += f": {self.advice}." if self.advice else "."
        return dict(failure, **self.facts, changed=True, msg=message)
