"""What a run costs: python benchmarks/runs.py [--rounds 3] [--customers 1000 5000] [--named 100] [--baseline DIR]

Two measurements, each side by side in interleaved rounds (median kept), each child measured on
its own (wall time, CPU, its own peak memory) with its output drained while it runs:

- fixed cost, in a sandbox with 3 customers: the partner_token role with its 3 customers against a
  playbook with one debug task and one with a single module task (keyvault_secret_info), all three
  ansible-playbook runs started the same way (goal: partner_token at most 2x the module task);
- customers.yml (the customer_access role, no consent) in a sandbox with each --customers count:
  --named customers given by tenant id against every customer, with the requests each run made
  (the sandbox counts them per service) per customer, and against the fan-out alone (the
  partner_token role getting the same tokens in every customer; goal: within 2x); with --baseline
  FOLDER, the same run of every customer with another version of the collection (FOLDER holds
  ansible_collections/partnercenter/secure_app, say main's), in the same rounds: before and after side by side.

Writes benchmarks/runs.json. Ratios only: the machine is shared and noisy."""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from _measure import (ROOT, _variables_file as variables_file, ansible_env, interleaved, measured,
                      partner_token_variables, playbook, ratio, sandbox_process, set_up_sam)

PLAY = {"hosts": "localhost", "gather_facts": False,
        "vars": {"ansible_pipelining": True, "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}


def fixed_cost(state: Path, rounds: int) -> dict:
    from sandbox.testing import TestApi
    with sandbox_process(state / "sandbox-3", 3) as sandbox:
        ep = sandbox.endpoints
        work = state / "fixed"
        set_up_sam(sandbox, TestApi(ep), work)
        variables = partner_token_variables(ep, partner_token_customer_tenants=[c["tenant_id"] for c in ep["customers"]])
        vault = ep["principals"]["automation"]
        module_task = {"name": "One module task", "partnercenter.secure_app.keyvault_secret_info": {
            "vault_url": ep["vault_url"], "names": ["bench-app-id"], "ca_bundle": ep["ca_file"],
            "cloud_endpoints": ep["cloud"], "vault_tenant_id": vault["tenant_id"],
            "vault_client_id": vault["client_id"], "vault_client_secret": vault["client_secret"]}}
        results = interleaved(rounds, {
            "debug task": lambda: playbook(work, "debug", [dict(PLAY, name="debug", tasks=[
                {"name": "One debug task", "ansible.builtin.debug": {"msg": "hello"}}])], variables),
            "module task": lambda: playbook(work, "module", [dict(PLAY, name="module", tasks=[module_task])], variables),
            "partner_token, 3 customers": lambda: playbook(work, "partner_token", [dict(
                PLAY, name="partner_token", roles=[{"role": "partnercenter.secure_app.partner_token"}])], variables),
        })
    role, module, debug = (results[k]["seconds"] for k in ("partner_token, 3 customers", "module task", "debug task"))
    return {"runs": {name: summary(run) for name, run in results.items()},
            "partner_token_to_module_task": ratio(role, module), "partner_token_to_debug_task": ratio(role, debug)}


def customers_run(state: Path, customers: int, named: int, rounds: int, baseline: Path | None = None) -> dict:
    from sandbox.testing import TestApi
    with sandbox_process(state / f"sandbox-{customers}", customers) as sandbox:
        ep = sandbox.endpoints
        api = TestApi(ep)
        work = state / "customers"
        set_up_sam(sandbox, api, work)
        everyone = [c["tenant_id"] for c in ep["customers"]]
        # The named ones spread over every kind of customer, as the whole set is.
        chosen = everyone[::max(1, len(everyone) // named)][:named]
        requests: dict[str, list] = {}

        def counted(name: str, variables: dict, role: str = "customer_access", collections: Path | None = None):
            def run():
                before = api.get("/counters")["counters"]
                plays = [dict(PLAY, name=name, roles=[{"role": f"partnercenter.secure_app.{role}"}])]
                slug = name.replace(" ", "-").replace(",", "").replace("(", "").replace(")", "")
                result = (playbook(work, slug, plays, variables) if collections is None else
                          playbook_with(collections, work, slug, plays, variables))
                after = api.get("/counters")["counters"]
                requests.setdefault(name, []).append(sum(after[k] - before.get(k, 0) for k in after
                                                         if k.startswith("requests_")))
                return result
            return run

        base = partner_token_variables(ep, customer_access_concurrency=32,
                                       customer_access_report_dir=str(work / "report"))
        # The fan-out alone: the same tokens in every customer Partner Center lists, nothing else.
        fanout = partner_token_variables(ep, partner_token_customers="all", partner_token_resources=["graph", "azure"],
                                         partner_token_concurrency=32, partner_token_customer_summary=False)
        work_items = {
            f"{len(chosen)} named": counted(f"{len(chosen)} named", dict(base, customer_access_customers=chosen)),
            f"all {len(everyone)}": counted(f"all {len(everyone)}", base),
            FANOUT: counted(FANOUT, fanout, role="partner_token"),
        }
        if baseline is not None:  # the same run with another version of the collection, in the same rounds
            name = f"all {len(everyone)}, baseline"
            work_items[name] = counted(name, base, collections=baseline)
        results = interleaved(rounds, work_items)
    sizes = {name: len(chosen) if name.endswith("named") else len(everyone) for name in results}
    rows = {}
    for name, run in results.items():
        seen = sorted(requests[name])[len(requests[name]) // 2]
        rows[name] = dict(summary(run), customers=sizes[name], requests=seen,
                          requests_per_customer=round(seen / sizes[name], 2),
                          seconds_per_customer=round(run["seconds"] / sizes[name], 4))
    named_row, all_row = rows[f"{len(chosen)} named"], rows[f"all {len(everyone)}"]
    report = {"runs": rows, "named_time_to_all": ratio(named_row["seconds"], all_row["seconds"]),
              "all_time_to_fanout_alone": ratio(all_row["seconds"], rows[FANOUT]["seconds"]),
              "tokens_asked_per_customer": 2}
    if baseline is not None:
        report["baseline_all_time_to_fanout_alone"] = ratio(rows[f"all {len(everyone)}, baseline"]["seconds"],
                                                            rows[FANOUT]["seconds"])
    return report


def playbook_with(collections: Path, workdir: Path, name: str, plays: list[dict], variables: dict) -> dict:
    """playbook() with the collection found in collections (an ansible_collections parent folder). The
    playbook goes to a folder of its own: Ansible would take the collections folder beside it first."""
    folder = workdir / "baseline"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.yml"
    path.write_text(json.dumps(plays))
    env = dict(ansible_env(workdir), ANSIBLE_COLLECTIONS_PATH=str(collections))
    return measured([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                     str(path), "-e", f"@{variables_file(workdir, name, variables)}"], env)


FANOUT = "fan-out alone (partner_token, all)"


def summary(run: dict) -> dict:
    return {"seconds": round(run["seconds"], 2), "cpu": round(run["cpu"], 2), "peak_mb": round(run["peak_mb"]),
            "rounds": [round(s, 2) for s in run["rounds"]]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--customers", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--named", type=int, default=100)
    parser.add_argument("--skip", choices=["fixed", "customers"], action="append", default=[])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks")
    parser.add_argument("--baseline", type=Path, help="a folder holding ansible_collections/partnercenter/secure_app "
                        "of another version (say, main's): its customers.yml runs in the same rounds")
    args = parser.parse_args()
    report = {}
    with tempfile.TemporaryDirectory() as state:
        if "fixed" not in args.skip:
            report["fixed_cost"] = fixed_cost(Path(state), args.rounds)
            print(json.dumps(report["fixed_cost"], indent=2), flush=True)
        if "customers" not in args.skip:
            report["customers_yml"] = {}
            for customers in args.customers:
                report["customers_yml"][str(customers)] = customers_run(
                    Path(state), customers, args.named, args.rounds, args.baseline)
                print(json.dumps(report["customers_yml"][str(customers)], indent=2), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "runs.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
