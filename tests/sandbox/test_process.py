"""The sandbox a test starts ends with the process that started it, however that process ends:
a forked test child that leaves without its fixtures' teardown (ansible-test units runs each test
so), or one that is killed. Broken by: SandboxProcess without --exit-with-stdin, or a sandbox that
ignores the end of its input."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STARTER = """
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
from sandbox.testing import SandboxProcess
sandbox = SandboxProcess(sys.argv[2]).start()
print(json.dumps({"pid": sandbox.process.pid}), flush=True)
if sys.argv[3] == "exit":
    os._exit(0)  # as a forked test child does: no teardown, no atexit
time.sleep(600)
"""


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("how", ["exit", "kill"])
def test_the_sandbox_ends_with_its_starter(tmp_path, how):
    sandbox_pid = None
    starter = subprocess.Popen([sys.executable, "-c", STARTER, str(ROOT), str(tmp_path / "state"), how],
                               stdout=subprocess.PIPE, text=True)
    try:
        sandbox_pid = json.loads(starter.stdout.readline())["pid"]
        if how == "kill":
            starter.send_signal(signal.SIGKILL)
        starter.wait(timeout=30)
        deadline = time.monotonic() + 20
        while alive(sandbox_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(sandbox_pid), f"the sandbox {sandbox_pid} outlived the process that started it"
    finally:
        if starter.poll() is None:
            starter.kill()
            starter.wait()
        if sandbox_pid and alive(sandbox_pid):  # the test's own leftover, even when it fails
            os.kill(sandbox_pid, signal.SIGKILL)
