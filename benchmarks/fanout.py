"""The customer fan-out against its floor: python benchmarks/fanout.py [--sizes 10 100 1000]

Starts its own sandbox (with --latency-ms on every request), sets up a SAM app and its refresh
token, then for each number of customer tenants runs, side by side and interleaved:

- floor: a bare script doing the same token POSTs (one per tenant) with the same concurrency over
  one requests session: what no implementation can beat;
- exchange: the collection's shared layer (what the access_token action runs), in its own process;
- playbook: ansible-playbook with one access_token task over the same tenants (start-up included);
- loop: an Ansible loop of single-tenant access_token tasks over a small sample (per tenant);
- the exchange at --sweep-size tenants with each of --concurrencies, interleaved (the default
  concurrency is chosen from it).

Each runs in its own process (its output drained while it runs), measured with os.wait4: wall
time, CPU, the child's own peak memory. It prints a table, writes benchmarks/fanout.json and a PNG
plot of time against tenants (benchmarks/fanout.png).
Only 127.0.0.1 is contacted. Speeds are ratios of runs made side by side, never absolute figures."""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _measure import ROOT, collections_root, measured, set_up_sam


# The measured programs (each run as `python fanout.py --role NAME --job FILE`) -----------------
def run_floor(job: dict) -> None:
    import requests
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=job["concurrency"], pool_maxsize=job["concurrency"])
    session.mount("https://", adapter)
    session.verify = job["ca_file"]
    session.trust_env = False  # the leanest requests can be: no environment lookups per call

    def one(tenant: str) -> int:
        return session.post(f"{job['login']}/{tenant}/oauth2/v2.0/token", data={
            "client_id": job["client_id"], "client_secret": job["client_secret"], "grant_type": "refresh_token",
            "refresh_token": job["refresh_token"], "scope": job["scope"] + " offline_access openid profile",
            "client_info": "1"}, timeout=60).status_code

    with ThreadPoolExecutor(job["concurrency"]) as pool:
        list(pool.map(one, job["customers"]))


def run_exchange(job: dict) -> None:
    from ansible_collections.partnercenter.secure_app.plugins.module_utils._context import Context
    from ansible_collections.partnercenter.secure_app.plugins.module_utils._tokens import exchange
    options = {"cloud_endpoints": job["cloud"], "ca_bundle": job["ca_file"], "tenant_id": job["tenant_id"],
               "retries": 6, "timeout": 60}
    context = Context(options.get)
    try:
        exchange(context, client_id=job["client_id"], client_secret=job["client_secret"], tenant=job["tenant_id"],
                 refresh_token=job["refresh_token"], resources=["graph"], customer_tenants=job["customers"],
                 concurrency=job["concurrency"])
    finally:
        context.close()


ROLES = {"floor": run_floor, "exchange": run_exchange}


def role_run(name: str, job: dict, workdir: Path) -> dict:
    job_file = workdir / f"{name}.json"
    job_file.write_text(json.dumps(job))
    job_file.chmod(0o600)
    env = dict(os.environ, PYTHONPATH=str(collections_root(workdir)))
    return measured([sys.executable, __file__, "--role", name, "--job", str(job_file)], env)


def playbook_run(job: dict, workdir: Path, loop: bool) -> dict:
    playbook = workdir / ("loop.yml" if loop else "fanout.yml")
    task = {
        "name": "Exchange", "partnercenter.secure_app.access_token": {
            "cloud_endpoints": "{{ cloud }}", "ca_bundle": "{{ ca_file }}", "tenant_id": "{{ tenant_id }}",
            "client_id": "{{ client_id }}", "client_secret": "{{ client_secret }}",
            "refresh_token": "{{ refresh_token }}", "resources": ["graph"],
            "customer_tenants": ["{{ item }}"] if loop else "{{ customers }}", "concurrency": job["concurrency"]}}
    if loop:
        task["loop"] = "{{ customers }}"
    playbook.write_text(json.dumps([{"name": "Fan-out", "hosts": "localhost", "gather_facts": False,
                                     "vars": {"ansible_pipelining": True}, "tasks": [task]}]))
    variables = workdir / "vars.json"
    variables.write_text(json.dumps(job))
    variables.chmod(0o600)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections_root(workdir)), ANSIBLE_NOCOLOR="1",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="0")
    env.pop("REQUESTS_CA_BUNDLE", None)
    return measured([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                     str(playbook), "-e", f"@{variables}"], env)


def counted(api, work) -> tuple[dict, dict]:
    before = api.get("/counters")["counters"]
    result = work()
    after = api.get("/counters")["counters"]
    return result, {key: after.get(key, 0) - before.get(key, 0) for key in ("token_requests", "discovery_requests")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000, 5000])
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--concurrencies", type=int, nargs="+", default=[8, 16, 32, 64],
                        help="the exchange at --sweep-size tenants with each, side by side")
    parser.add_argument("--sweep-size", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the median is kept")
    parser.add_argument("--loop-sample", type=int, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks")
    parser.add_argument("--role", choices=list(ROLES), help=argparse.SUPPRESS)
    parser.add_argument("--job", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role:
        ROLES[args.role](json.loads(Path(args.job).read_text()))
        return

    from sandbox.testing import SandboxProcess, TestApi
    with tempfile.TemporaryDirectory() as state, SandboxProcess(
            Path(state) / "sandbox", "--customers", str(max(args.sizes)), "--latency-ms", str(args.latency_ms),
            "--log-level", "WARNING") as sandbox:
        api = TestApi(sandbox.endpoints)
        workdir = Path(state)
        base = set_up_sam(sandbox, api, workdir / "onboard")
        rows = []
        for size in args.sizes:
            job = dict(base, customers=base["all_customers"][:size], concurrency=args.concurrency)
            samples: dict[str, list] = {"floor": [], "exchange": [], "playbook": []}
            requests_seen: dict[str, dict] = {}
            for _round in range(args.rounds):  # interleaved, so a noisy moment hits all of them
                for name in samples:
                    work = (lambda n=name: playbook_run(job, workdir, False)) if name == "playbook" else \
                        (lambda n=name: role_run(n, job, workdir))
                    result, seen = counted(api, work)
                    samples[name].append(result)
                    requests_seen[name] = seen
            row = {"tenants": size}
            for name, results in samples.items():
                middle = sorted(results, key=lambda r: r["seconds"])[len(results) // 2]
                row[name] = dict(middle, requests_per_tenant=round(
                    requests_seen[name]["token_requests"] / size, 2), discovery=requests_seen[name]["discovery_requests"])
            rows.append(row)
            print(f"{size} tenants: " + ", ".join(f"{n} {row[n]['seconds']:.2f} s" for n in samples), flush=True)
        sample = dict(base, customers=base["all_customers"][:args.loop_sample], concurrency=args.concurrency)
        loop = playbook_run(sample, workdir, True)
        single = playbook_run(sample, workdir, False)
        sweep = {}
        for _round in range(args.rounds):  # interleaved: every concurrency in each round
            for concurrency in args.concurrencies:
                job = dict(base, customers=base["all_customers"][:args.sweep_size], concurrency=concurrency)
                sweep.setdefault(concurrency, []).append(role_run("exchange", job, workdir))
        sweep = {c: sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2] for c, runs in sweep.items()}
    report(rows, loop, single, sweep, args)


def report(rows: list[dict], loop: dict, single: dict, sweep: dict, args) -> None:
    biggest = rows[-1]
    cpu_per_tenant = {}
    if len(rows) > 1:  # marginal CPU per tenant, so start-up (imports) does not count
        for name in ("floor", "exchange", "playbook"):
            cpu_per_tenant[name] = (rows[-1][name]["cpu"] - rows[0][name]["cpu"]) / (rows[-1]["tenants"] - rows[0]["tenants"])
    summary = {
        "latency_ms": args.latency_ms, "concurrency": args.concurrency, "rows": rows,
        "exchange_to_floor": round(biggest["exchange"]["seconds"] / biggest["floor"]["seconds"], 2),
        "playbook_to_floor": round(biggest["playbook"]["seconds"] / biggest["floor"]["seconds"], 2),
        "cpu_ms_per_tenant": {k: round(v * 1000, 2) for k, v in cpu_per_tenant.items()},
        "loop_seconds_per_tenant": round(loop["seconds"] / args.loop_sample, 3),
        "fanout_seconds_per_tenant_same_sample": round(single["seconds"] / args.loop_sample, 3),
        "concurrency_sweep": {"tenants": args.sweep_size, "seconds": {
            str(c): round(run["seconds"], 2) for c, run in sweep.items()},
            "to_fastest": {str(c): round(run["seconds"] / min(r["seconds"] for r in sweep.values()), 2)
                           for c, run in sweep.items()}},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    for row in rows:  # the children's output is not part of the figures
        for name in ("floor", "exchange", "playbook"):
            row[name].pop("output", None)
    (args.out / "fanout.json").write_text(json.dumps(summary, indent=2) + "\n")
    print("\n| tenants | floor s | exchange s | playbook s | exchange/floor | token requests per tenant "
          "| discovery requests | peak MB (floor/exchange/playbook) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---|")
    for row in rows:
        print(f"| {row['tenants']} | {row['floor']['seconds']:.2f} | {row['exchange']['seconds']:.2f} | "
              f"{row['playbook']['seconds']:.2f} | {row['exchange']['seconds'] / row['floor']['seconds']:.2f} | "
              f"{row['exchange']['requests_per_tenant']} | {row['exchange']['discovery']} | "
              f"{row['floor']['peak_mb']:.0f}/{row['exchange']['peak_mb']:.0f}/{row['playbook']['peak_mb']:.0f} |")
    print("\nCPU per tenant (marginal): " + ", ".join(f"{k} {v:.2f} ms" for k, v in summary["cpu_ms_per_tenant"].items()))
    print(f"Ansible loop of single-tenant tasks: {summary['loop_seconds_per_tenant']:.3f} s per tenant; one fan-out "
          f"task over the same {args.loop_sample}: {summary['fanout_seconds_per_tenant_same_sample']:.3f} s per tenant")
    print(f"Concurrency at {args.sweep_size} tenants (exchange s, and against the fastest): " + ", ".join(
        f"{c}: {summary['concurrency_sweep']['seconds'][str(c)]:.2f} s ({summary['concurrency_sweep']['to_fastest'][str(c)]}x)"
        for c in sweep))
    plot(rows, args.out / "fanout.png", args)


def plot(rows: list[dict], path: Path, args) -> None:
    try:
        import matplotlib
    except ImportError:
        print("no plot: matplotlib is missing (pip install -r benchmarks/requirements.txt)")
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(figsize=(7, 4.5), dpi=100)
    tenants = [row["tenants"] for row in rows]
    for name, style in (("floor", "k--o"), ("exchange", "b-o"), ("playbook", "g-s")):
        axes.plot(tenants, [row[name]["seconds"] for row in rows], style, label=name)
    axes.set_xscale("log")
    axes.set_xlabel("customer tenants (one resource each)")
    axes.set_ylabel("seconds")
    axes.set_title(f"Token fan-out, {args.latency_ms} ms latency, concurrency {args.concurrency}")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    print(f"plot: {path}")


if __name__ == "__main__":
    main()
