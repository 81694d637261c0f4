"""`python -m sandbox wait`: what a README reader runs between starting the sandbox and reading
its endpoints.json."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def wait(state, timeout):
    return subprocess.run([sys.executable, "-m", "sandbox", "wait", "--state", str(state), "--timeout", str(timeout)],
                          cwd=str(ROOT), capture_output=True, text=True, check=False)


def test_wait_returns_once_the_sandbox_answers(sandbox):
    done = wait(sandbox.state_dir, 10)
    assert done.returncode == 0 and done.stdout.strip() == str(sandbox.state_dir / "endpoints.json")


def test_wait_fails_clearly_when_nothing_serves(tmp_path):
    done = wait(tmp_path, 0.5)
    assert done.returncode == 1 and "nothing answers" in done.stderr
