"""python -m sandbox serve --state DIR [--port N] [--seed FILE] [--customers N] [--latency-ms N]
[--auto-approve UPN[=CLIENT_ID]]

python -m sandbox wait --state DIR [--timeout SECONDS]: until the sandbox serving DIR answers (its
endpoints.json is written and its test API responds); exit 1 on time-out."""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import ssl
import sys
import threading
import time
import urllib.request
from pathlib import Path

from .seed import DEFAULT_SEED
from .server import serve


def parse_auto_approve(values: list[str]) -> list[dict[str, str]]:
    rules = []
    for value in values:
        upn, _equals, client_id = value.partition("=")
        rules.append({"upn": upn, "client_id": client_id or None})
    return rules


def wait_until_ready(state: Path, timeout: float) -> bool:
    """endpoints.json appears once the listeners are bound; the test API answering proves it serves."""
    deadline = time.monotonic() + timeout
    endpoints_file = state / "endpoints.json"
    while time.monotonic() < deadline:
        try:
            endpoints = json.loads(endpoints_file.read_text())
            context = ssl.create_default_context(cafile=endpoints["ca_file"])
            with urllib.request.urlopen(endpoints["test_api"] + "/sandbox/health", context=context, timeout=2):
                return True
        except (OSError, ValueError, KeyError):
            time.sleep(0.1)
    return False


def stop_at_end_of_input() -> None:
    """SIGTERM to this process once standard input ends, from a thread that only waits for it: the
    same stop as a SIGTERM from outside."""
    def wait_for_end() -> None:
        while sys.stdin.buffer.read(4096):
            pass
        os.kill(os.getpid(), signal.SIGTERM)
    threading.Thread(target=wait_for_end, name="exit-with-stdin", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Local Microsoft cloud sandbox.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="serve the sandbox until SIGTERM")
    run.add_argument("--state", required=True, type=Path, help="state directory (SQLite, CA, endpoints.json)")
    run.add_argument("--port", type=int, default=0,
                     help="first of six consecutive ports (login, graph, management, partner center, vault, "
                          "test API); 0 picks free ports")
    run.add_argument("--seed", help="seed file (JSON or YAML) overriding the built-in seed")
    run.add_argument("--customers", type=int,
                     help=f"number of customer tenants (default {DEFAULT_SEED['customers']}, one of each GDAP situation)")
    run.add_argument("--latency-ms", type=int, default=0, help="latency added to every emulated request")
    run.add_argument("--auto-approve", action="append", default=[], metavar="UPN[=CLIENT_ID]",
                     help="sign pending device codes in as UPN (for CLIENT_ID only, if given); repeatable")
    run.add_argument("--log-level", default="INFO")
    run.add_argument("--exit-with-stdin", action="store_true",
                     help="stop when standard input reaches its end: a starter that keeps a pipe open as the "
                          "sandbox's input ends it by ending itself, however it ends (a test process killed, or "
                          "one that exits without its cleanup)")
    wait = commands.add_parser("wait", help="wait until the sandbox serving --state answers")
    wait.add_argument("--state", required=True, type=Path)
    wait.add_argument("--timeout", type=float, default=30)
    args = parser.parse_args(argv)
    if args.command == "wait":
        if wait_until_ready(args.state, args.timeout):
            print(args.state / "endpoints.json")
            return 0
        print(f"sandbox: nothing answers for {args.state} after {args.timeout:g} s; is it running?", file=sys.stderr)
        return 1
    if args.exit_with_stdin:
        stop_at_end_of_input()
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("aiohttp.server").setLevel(logging.ERROR)
    try:
        # endpoints.json and variables.yml name files of the state: absolute, for any working folder
        asyncio.run(serve(args.state.resolve(), args.port, args.seed, args.customers, args.latency_ms,
                          parse_auto_approve(args.auto_approve)))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
