"""The customers inventory against a bare client: python benchmarks/inventory.py [--customers 5000]

Starts its own sandbox with that many customers (and --latency-ms on every request), registers a
SAM app with the GDAP read permission and the service account's consent, then, side by side and
interleaved, builds the customer list with:

- bare: a plain requests script that pages Partner Center's customers (continuation token) and
  Graph's GDAP relationships, with the same tokens: what no implementation can beat;
- inventory: the records the inventory plugin builds (plugins/module_utils/_customer_inventory.py,
  without the vault steps, which cost the same at any size);
- details: the same with gdap_details (access assignments and consents per customer).

It reports the wall time (median of the rounds) and the requests each sent, and writes
benchmarks/inventory.json. Only 127.0.0.1 is contacted."""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "sandbox"))
GDAP_READ = "0c0064ea-477b-4130-82a5-4c2cc4ff68aa"  # DelegatedAdminRelationship.Read.All


def set_up(sandbox, api) -> dict:
    """Partner Center and Graph tokens of the service account through a fresh SAM app."""
    import msal
    from conformance_helpers import consent, create_app, device_code_token, graph_session
    from sandbox import catalog
    ep = sandbox.endpoints
    authority = f"{ep['cloud']['login']}/{ep['partner_tenant_id']}"
    os.environ["REQUESTS_CA_BUNDLE"] = ep["ca_bundle"]
    admin = device_code_token(api, authority, catalog.AZURE_CLI_APP_ID, [ep["cloud"]["graph"] + "/.default"],
                              ep["accounts"]["admin"]["upn"])
    graph = graph_session(ep, admin["access_token"])
    app = create_app(graph, "SAM inventory benchmark")
    access = graph.get(f"/applications/{app['object_id']}").json()["requiredResourceAccess"]
    for entry in access:
        if entry["resourceAppId"] == catalog.GRAPH_APP_ID:
            entry["resourceAccess"].append({"id": GDAP_READ, "type": "Scope"})
    graph.patch(f"/applications/{app['object_id']}", json={"requiredResourceAccess": access}).raise_for_status()
    result, client = consent(ep, authority, app)
    assert "refresh_token" in result, result
    tokens = {}
    for name, scope in (("partner_center", ep["cloud"]["partner_center"] + "/user_impersonation"),
                        ("graph", ep["cloud"]["graph"] + "/.default")):
        answer = client.acquire_token_by_refresh_token(result["refresh_token"], [scope])
        assert "access_token" in answer, answer
        tokens[name] = answer["access_token"]
    del msal
    return {"tokens": tokens, "app_id": app["app_id"]}


def bare(ep: dict, tokens: dict) -> int:
    """The same two listings with requests and nothing else; returns the requests sent."""
    import requests
    session = requests.Session()
    session.verify = ep["ca_file"]
    session.trust_env = False
    sent = 0
    pc = ep["cloud"]["partner_center"]
    headers = {"Authorization": "Bearer " + tokens["partner_center"]}
    page = session.get(f"{pc}/v1/customers", params={"size": 500}, headers=headers, timeout=60).json()
    sent += 1
    customers = list(page["items"])
    while page.get("links", {}).get("next"):
        link = page["links"]["next"]
        continuation = {h["key"]: h["value"] for h in link["headers"]}
        page = session.get(pc + link["uri"] if link["uri"].startswith("/v1") else f"{pc}/v1{link['uri']}",
                           headers=dict(headers, **continuation), timeout=60).json()
        sent += 1
        customers += page["items"]
    url = f"{ep['cloud']['graph']}/v1.0/tenantRelationships/delegatedAdminRelationships?$top=300"
    relationships = []
    while url:
        page = session.get(url, headers={"Authorization": "Bearer " + tokens["graph"]}, timeout=60).json()
        sent += 1
        relationships += page["value"]
        url = page.get("@odata.nextLink")
    assert customers and relationships
    return sent


def layer(ep: dict, tokens: dict, app_id: str, details: bool) -> int:
    from ansible_collections.partnercenter.secure_app.plugins.module_utils._clouds import resolve_cloud
    from ansible_collections.partnercenter.secure_app.plugins.module_utils._customer_inventory import (
        customer_records)
    from ansible_collections.partnercenter.secure_app.plugins.module_utils._http import HttpClient
    http = HttpClient(ep["ca_file"], 60, 6)
    sent = []
    http.session.hooks["response"].append(lambda response, *args, **kwargs: sent.append(1))
    try:
        records = customer_records(http, resolve_cloud("AzureCloud", ep["cloud"]),
                                   partner_center_token=tokens["partner_center"], graph_token=tokens["graph"],
                                   application_id=app_id, details=details, concurrency=16)
    finally:
        http.close()
    assert len(records) == len(ep["customers"])
    return len(sent)


def collections_root(workdir: Path) -> Path:
    target = workdir / "ansible_collections" / "partnercenter"
    target.mkdir(parents=True, exist_ok=True)
    if not (target / "secure_app").exists():
        (target / "secure_app").symlink_to(ROOT)
    return workdir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--latency-ms", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the median is kept")
    parser.add_argument("--no-details", action="store_true", help="leave out the gdap_details run")
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "inventory.json"))
    args = parser.parse_args()
    from sandbox.testing import SandboxProcess, TestApi
    with tempfile.TemporaryDirectory() as state:
        sys.path.insert(0, str(collections_root(Path(state))))
        with SandboxProcess(Path(state) / "sandbox", "--customers", str(args.customers), "--latency-ms",
                            str(args.latency_ms), "--log-level", "WARNING") as sandbox:
            ep = sandbox.endpoints
            job = set_up(sandbox, TestApi(ep))
            kinds = {"bare": lambda: bare(ep, job["tokens"]),
                     "inventory": lambda: layer(ep, job["tokens"], job["app_id"], False)}
            if not args.no_details:
                kinds["details"] = lambda: layer(ep, job["tokens"], job["app_id"], True)
            times: dict[str, list[float]] = {name: [] for name in kinds}
            requests_sent: dict[str, int] = {}
            for _round in range(args.rounds):
                for name, work in kinds.items():
                    started = time.monotonic()
                    requests_sent[name] = work()
                    times[name].append(time.monotonic() - started)
    results = {"customers": args.customers, "latency_ms": args.latency_ms, "rounds": args.rounds,
               "runs": {name: {"seconds": round(statistics.median(values), 3), "requests": requests_sent[name]}
                        for name, values in times.items()}}
    results["inventory_to_bare"] = round(results["runs"]["inventory"]["seconds"] / results["runs"]["bare"]["seconds"], 2)
    print(f"{'run':<10} {'seconds':>8} {'requests':>9}")
    for name, run in results["runs"].items():
        print(f"{name:<10} {run['seconds']:>8} {run['requests']:>9}")
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
