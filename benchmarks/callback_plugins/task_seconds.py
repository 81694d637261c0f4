# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark helper: the seconds each task took, written to TASK_SECONDS_FILE (JSON)."""

from __future__ import annotations

DOCUMENTATION = r"""
name: task_seconds
type: aggregate
short_description: Seconds per task, for the benchmarks
description:
  - Writes a JSON object of task name to seconds to the file named by E(TASK_SECONDS_FILE).
options: {}
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_seconds"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seconds, self.current, self.started = {}, None, None

    def _close(self):
        if self.current is not None:
            self.seconds[self.current] = self.seconds.get(self.current, 0) + time.monotonic() - self.started
            self.current = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close()
        self.current, self.started = task.get_name(), time.monotonic()

    def v2_playbook_on_stats(self, stats):
        self._close()
        path = os.environ.get("TASK_SECONDS_FILE")
        if path:
            with open(path, "w") as handle:
                json.dump(self.seconds, handle)
