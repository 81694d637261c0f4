"""Run a command as a child subreaper (Linux): every process it starts, however deep and even
when its parent is gone, stays below this one. When the command ends, any of them still running
is named, ended (they were all started by the command) and the exit status is 1: a test that
leaves a server behind fails the run. Usage: python3 scripts/reap.py COMMAND [ARG ...]."""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def children(parent: int) -> list[int]:
    """The live processes whose parent is `parent` (zombies are reaped, not listed)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent and fields[0] != "Z":
            found.append(int(entry))
    return found


def command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace").strip()[:200]
    except OSError:
        return "?"


def reap_exited() -> None:
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("note: this system cannot make a child subreaper; processes left behind are not checked",
              file=sys.stderr)
        return subprocess.call(argv)
    command = subprocess.Popen(argv)
    # Interrupting the run stops the command; its leftovers are ended below all the same.
    signal.signal(signal.SIGINT, lambda *_: command.send_signal(signal.SIGINT))
    signal.signal(signal.SIGTERM, lambda *_: command.send_signal(signal.SIGTERM))
    while command.poll() is None:
        reap_exited()  # orphans that end during the run become zombies of ours
        time.sleep(0.5)
    status = command.returncode
    left = children(os.getpid())
    if not left:
        return status
    print(f"error: {len(left)} process(es) the test command started were still running after it ended "
          "(a test left them behind); ending them:", file=sys.stderr)
    for pid in left:
        print(f"  {pid}: {command_line(pid)}", file=sys.stderr)
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and children(os.getpid()):
        reap_exited()
        time.sleep(0.2)
    for pid in children(os.getpid()):
        os.kill(pid, signal.SIGKILL)
    reap_exited()
    return status or 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
