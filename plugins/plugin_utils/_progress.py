# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

The progress line of a customer fan-out that runs on the controller: only the controller can
print while a task runs, and a thousand customers take long enough that the user must see them
move. Counts only, never a token."""

from __future__ import annotations

import threading
import time

from ansible.utils.display import Display

display = Display()
PROGRESS_EVERY_SECONDS = 5


class Progress:
    """Prints done / total / failed at most every PROGRESS_EVERY_SECONDS, from the worker threads."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.started = time.monotonic()
        self.last_shown = self.started
        self.shown = False
        self.lock = threading.Lock()

    def __call__(self, done: int, failed: int, total: int) -> None:
        now = time.monotonic()
        with self.lock:
            if now - self.last_shown < PROGRESS_EVERY_SECONDS and not (self.shown and done == total):
                return
            self.last_shown, self.shown = now, True
        display.display(f"{self.label}: {done}/{total} customer tenants done, {failed} without a token so far "
                        f"({now - self.started:.0f} s)")
