"""The sandbox's cost per request against its size: python benchmarks/sandbox_scale.py [--sizes 3 5000]

Starts one sandbox per size (customer tenants), sets up a SAM app in each, then measures, in
interleaved rounds (median kept), refresh-token grants per second in customer tenants (the
request a fan-out sends a thousand times: tenant lookup, refresh token, GDAP roles, consent,
a signed token) and one listing of every GDAP relationship (Graph's pages of 300). The test bed
is fair when a grant costs the same whatever the sandbox holds (goal: the biggest within 0.9x of
the smallest) and the listing grows linearly. Writes benchmarks/sandbox_scale.json."""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from _measure import ROOT, interleaved, median, sandbox_process, set_up_sam


def grant_rate(job: dict, seconds: float, clients: int, threads: int) -> dict:
    from sandbox.bench import measure
    url = f"{job['login']}/{job['customer']}/oauth2/v2.0/token"
    form = {"client_id": job["client_id"], "client_secret": job["client_secret"], "grant_type": "refresh_token",
            "refresh_token": job["refresh_token"], "scope": job["scope"] + " offline_access openid profile",
            "client_info": "1"}
    return {"seconds": 1 / measure(url, form, job["ca_file"], seconds, clients, threads)}


def listing(job: dict) -> dict:
    import requests
    session = requests.Session()
    session.trust_env = False
    session.verify = job["ca_file"]
    token = session.post(f"{job['login']}/{job['tenant_id']}/oauth2/v2.0/token", data={
        "client_id": job["client_id"], "client_secret": job["client_secret"], "grant_type": "refresh_token",
        "refresh_token": job["refresh_token"], "scope": job["scope"]}).json()["access_token"]
    url = f"{job['cloud']['graph']}/v1.0/tenantRelationships/delegatedAdminRelationships?$top=300"
    started, count, pages = time.monotonic(), 0, 0
    while url:
        body = session.get(url, headers={"Authorization": f"Bearer {token}"}).json()
        if "value" not in body:
            raise SystemExit(f"listing failed: {body}")
        count, pages, url = count + len(body["value"]), pages + 1, body.get("@odata.nextLink")
    return {"seconds": time.monotonic() - started, "relationships": count, "pages": pages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3, 5000])
    parser.add_argument("--seconds", type=float, default=5, help="seconds of grants per measurement")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per client process")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks")
    args = parser.parse_args()
    from sandbox.testing import TestApi
    with tempfile.TemporaryDirectory() as state, ExitStack() as stack:
        jobs = {}
        for size in args.sizes:
            sandbox = stack.enter_context(sandbox_process(Path(state) / f"sandbox-{size}", size))
            job = set_up_sam(sandbox, TestApi(sandbox.endpoints), Path(state) / f"work-{size}")
            # A customer that gives tokens (DAP is reachable at every size), the same kind everywhere.
            job["customer"] = next(c["tenant_id"] for c in sandbox.endpoints["customers"] if c["kind"] == "dap")
            jobs[size] = job
        work = {f"grants {size}": (lambda j=job: grant_rate(j, args.seconds, args.clients, args.threads))
                for size, job in jobs.items()}
        work.update({f"listing {size}": (lambda j=job: listing(j)) for size, job in jobs.items()})
        results = interleaved(args.rounds, work)
    smallest, biggest = min(args.sizes), max(args.sizes)
    summary = {
        "grants_per_second": {size: round(1 / results[f"grants {size}"]["seconds"], 1) for size in args.sizes},
        "grants_per_second_rounds": {size: [round(1 / s, 1) for s in results[f"grants {size}"]["rounds"]]
                                     for size in args.sizes},
        "listing_seconds": {size: round(results[f"listing {size}"]["seconds"], 3) for size in args.sizes},
        "listing_relationships": {size: results[f"listing {size}"]["relationships"] for size in args.sizes},
        "clients": f"{args.clients} processes x {args.threads} threads, {args.seconds:g} s per measurement, "
                   f"median of {args.rounds} interleaved rounds",
    }
    rates = summary["grants_per_second"]
    summary["biggest_to_smallest"] = round(rates[biggest] / rates[smallest], 2)
    summary["listing_seconds_per_relationship_ms"] = {
        size: round(1000 * summary["listing_seconds"][size] / max(1, summary["listing_relationships"][size]), 3)
        for size in args.sizes}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "sandbox_scale.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    per_round = summary["grants_per_second_rounds"]
    print(f"median of the per-round ratios: {median([b / a for a, b in zip(per_round[smallest], per_round[biggest])]):.2f}")


if __name__ == "__main__":
    main()
