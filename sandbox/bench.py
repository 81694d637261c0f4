"""Token responses per second: python -m sandbox.bench [--seconds N] [--clients N]

Starts a sandbox, then drives its token endpoint (client credentials and refresh-token grants,
each a signed RS256 JWT) from client processes over keep-alive connections. Beside it, as a
baseline on the same machine and moment, the same clients call a route that does no work; the
ratio says how much of the budget token issuance itself takes."""
from __future__ import annotations

import argparse
import json
import multiprocessing
import tempfile
import time
from pathlib import Path

import requests

from .testing import SandboxProcess


def _worker(args: tuple[str, dict, str, float, int]) -> int:
    url, form, bundle, seconds, threads = args
    import concurrent.futures

    def loop() -> int:
        session = requests.Session()
        session.trust_env = False
        session.verify = bundle
        done, deadline = 0, time.monotonic() + seconds
        while time.monotonic() < deadline:
            response = session.post(url, data=form) if form else session.get(url)
            response.raise_for_status()
            done += 1
        return done

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        return sum(pool.map(lambda _index: loop(), range(threads)))


def measure(url: str, form: dict | None, bundle: str, seconds: float, clients: int, threads: int) -> float:
    with multiprocessing.Pool(clients) as pool:
        started = time.monotonic()
        total = sum(pool.map(_worker, [(url, form, bundle, seconds, threads)] * clients))
        return total / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per client process")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state, SandboxProcess(Path(state), "--log-level", "WARNING") as sandbox:
        ep = sandbox.endpoints
        principal = ep["principals"]["automation"]
        token_url = f"{ep['cloud']['login']}/{ep['partner_tenant_id']}/oauth2/v2.0/token"
        client_credentials = {"grant_type": "client_credentials", "client_id": principal["client_id"],
                              "client_secret": principal["client_secret"],
                              "scope": ep["cloud"]["keyvault_resource"] + "/.default"}
        baseline_url = f"{ep['cloud']['login']}/{ep['partner_tenant_id']}/v2.0/.well-known/openid-configuration"
        results = {}
        for name, url, form in (("baseline_discovery_get", baseline_url, None),
                                ("token_client_credentials", token_url, client_credentials)):
            results[name] = round(measure(url, form, ep["ca_bundle"], args.seconds, args.clients, args.threads), 1)
        results["token_to_baseline_ratio"] = round(results["token_client_credentials"] / results["baseline_discovery_get"], 3)
        results["clients"] = f"{args.clients} processes x {args.threads} threads, keep-alive, {args.seconds:g} s each"
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
