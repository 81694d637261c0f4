"""Unattended runs against throttled, failing APIs: the fault soak, concurrent token runs, and
recovery from a playbook killed between two steps. Bounded in time, 127.0.0.1 only."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import msal
import pytest

from conftest import ROOT, role_variables
from integration_helpers import vault_client

REPORTS = ROOT / "tests" / "output" / "reliability"
SOAK_RUNS = int(os.environ.get("SOAK_RUNS", "10"))
SOAK_LANES = int(os.environ.get("SOAK_LANES", "5"))
# Rules apply in order and the first that answers wins, so the later probabilities are conditional:
# overall 20% 429 (Retry-After 1 s), 5% 503, 2% dropped connections, and latency on every call.
SOAK_FAULTS = [
    {"service": "*", "latency_ms": 15},
    {"service": "*", "status": 429, "retry_after": 1, "probability": 0.20},
    {"service": "*", "status": 503, "probability": 0.05 / 0.80},
    {"service": "*", "drop": True, "probability": 0.02 / 0.75},
]


def summary_of(api, ep, prefix):
    """What must hold after onboarding and daily use, whatever failed on the way."""
    state = api.state()
    apps = [a for a in state["applications"] if a["displayName"] == f"SAM {prefix}"]
    admin_agents = next(g for g in state["groups"] if g["displayName"] == "AdminAgents")
    sps = [s["id"] for s in state["service_principals"] if apps and s["appId"] == apps[0]["appId"]]
    vault = vault_client(ep)
    client = msal.ConfidentialClientApplication(
        vault.get_secret(f"{prefix}-app-id").value, client_credential=vault.get_secret(f"{prefix}-client-secret").value,
        authority=f"{ep['cloud']['login']}/{ep['partner_tenant_id']}", instance_discovery=False,
        http_client=_session(ep))
    works = "access_token" in client.acquire_token_by_refresh_token(
        vault.get_secret(f"{prefix}-refresh-token").value, [ep["cloud"]["partner_center"] + "/user_impersonation"])
    return {
        "apps": len(apps),
        "managed_secrets": len([p for p in apps[0]["passwords"] if p["displayName"] == "partnercenter.secure_app"]),
        "service_principals": len(sps),
        "admin_agents_memberships": sum(admin_agents["members"].count(sp) for sp in sps),
        "vault_secrets": sorted(s["name"][len(prefix) + 1:] for s in state["secrets"]
                                if s["name"].startswith(prefix + "-") and not s["deleted"]
                                and s["version"] == _latest(state, s["name"])),
        "refresh_token_works": works,
    }


def _latest(state, name):
    return [s for s in state["secrets"] if s["name"] == name][-1]["version"]


def _session(ep):
    import requests
    session = requests.Session()
    session.trust_env = False
    session.verify = ep["ca_bundle"]
    return session


def onboard_and_daily(run_playbook, variables):
    onboard = run_playbook("playbooks/onboard.yml", variables)
    daily = run_playbook("playbooks/daily.yml", variables) if onboard.ok else None
    return onboard, daily


def test_fault_soak(run_playbook, api, ep, auto_approve):
    calm = role_variables(ep, "calm")
    onboard, daily = onboard_and_daily(run_playbook, calm)
    assert onboard.ok and daily.ok, (onboard, daily)
    expected = summary_of(api, ep, "calm")
    assert expected == {"apps": 1, "managed_secrets": 1, "service_principals": 1, "admin_agents_memberships": 1,
                        "vault_secrets": ["app-id", "client-secret", "refresh-token", "tenant-id"],
                        "refresh_token_works": True}

    # The runs go in SOAK_LANES lanes at once, each lane its own app and secrets (two onboardings
    # of one app at the same moment would race, as they would in production): the same faults and
    # the same number of onboard+daily pairs, in a third of the time, as most of it is waiting.
    lanes = [dict(role_variables(ep, f"soak{lane}"), onboard_retries=10, partner_token_retries=10)
             for lane in range(SOAK_LANES)]
    api.call("PUT", "/faults", SOAK_FAULTS)
    report = {"runs": [], "faults": SOAK_FAULTS, "lanes": SOAK_LANES}

    def lane_runs(lane: int) -> list[dict]:
        runs = []
        for number in range(lane, SOAK_RUNS, SOAK_LANES):
            started = time.monotonic()
            onboard, daily = onboard_and_daily(run_playbook, lanes[lane])
            assert onboard.ok, (number, onboard)
            assert daily.ok, (number, daily)
            runs.append({"run": number + 1, "lane": lane, "seconds": round(time.monotonic() - started, 1),
                         "first_of_lane": number < SOAK_LANES, "onboard_changed": onboard.changed_count,
                         "partner_token_http_retries": int(
                             daily.task("Summary (counts and names, never tokens)")["msg"]["token_http_retries"])})
        return runs

    try:
        with ThreadPoolExecutor(max_workers=SOAK_LANES) as pool:
            for runs in pool.map(lane_runs, range(SOAK_LANES)):
                report["runs"].extend(runs)
    finally:
        report["fault_hits"] = dict(zip(("latency", "429", "503", "dropped"),
                                        [rule.get("hits", 0) for rule in api.get("/faults")["faults"]]))
        api.call("DELETE", "/faults")
        REPORTS.mkdir(parents=True, exist_ok=True)
        (REPORTS / "soak.json").write_text(json.dumps(report, indent=2))
    retries = sum(run["partner_token_http_retries"] for run in report["runs"])
    print(f"\nfault soak: {json.dumps(report['fault_hits'])} over {SOAK_RUNS} onboard+daily runs in {SOAK_LANES} "
          f"lanes; partner_token alone retried {retries} requests")
    assert len(report["runs"]) == SOAK_RUNS
    assert report["fault_hits"]["429"] > 0 and report["fault_hits"]["503"] > 0
    for lane in range(SOAK_LANES):
        assert summary_of(api, ep, f"soak{lane}") == expected, lane
    assert all(run["onboard_changed"] == 0 for run in report["runs"] if not run["first_of_lane"]), report["runs"]


def test_two_token_runs_at_once(run_playbook, api, ep, collections_path, tmp_path, auto_approve):
    """Two daily runs at once from the same stored refresh token: each must write back the token its
    own exchange returned (broken by: writing back the token it read, or losing one run's write),
    and the token they started from must have been used by both."""
    variables = role_variables(ep, "twins")
    assert run_playbook("playbooks/onboard.yml", variables).ok
    before = len([s for s in api.state()["secrets"] if s["name"] == "twins-refresh-token"])
    started_from = vault_client(ep).get_secret("twins-refresh-token").value
    started = api.state()["now"]
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps(variables))
    environment = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections_path),
                       ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    environment.pop("REQUESTS_CA_BUNDLE", None)
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
               str(Path(__file__).parent / "playbooks" / "token_only.yml"), "-e", f"@{vars_file}"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment,
                             stdin=subprocess.DEVNULL, cwd=str(ROOT)) for _copy in range(2)]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    versions = [s for s in api.state()["secrets"] if s["name"] == "twins-refresh-token"]
    assert len(versions) == before + 2, "each run wrote its rotated refresh token back"
    vault = vault_client(ep)
    client = msal.ConfidentialClientApplication(
        vault.get_secret("twins-app-id").value, client_credential=vault.get_secret("twins-client-secret").value,
        authority=f"{ep['cloud']['login']}/{ep['partner_tenant_id']}", instance_discovery=False,
        http_client=_session(ep))
    written = [vault.get_secret("twins-refresh-token", version["version"]).value for version in versions[-2:]]
    assert started_from not in written and written[0] != written[1], "each run stored its own rotated token"
    for value in written:  # issued during the runs, and working
        [info] = api.call("POST", "/refresh-tokens/info", {"refresh_token": value})["tokens"]
        assert info["issued"] >= started and not info["revoked"]
        assert "access_token" in client.acquire_token_by_refresh_token(value, [ep["cloud"]["graph"] + "/.default"])
    [origin] = api.call("POST", "/refresh-tokens/info", {"refresh_token": started_from})["tokens"]
    assert origin["last_used"] >= started
    assert run_playbook("token_only.yml", variables).ok


def kill_when_reached(collections_path, tmp_path, api, variables, fault):
    """Run onboard.yml, hold the request the fault names, and kill the playbook while it waits."""
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps(variables))
    environment = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections_path),
                       ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    environment.pop("REQUESTS_CA_BUNDLE", None)
    api.call("PUT", "/faults", [dict(fault, latency_ms=120_000, count=1)])
    playbook = subprocess.Popen(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
         str(ROOT / "playbooks" / "onboard.yml"), "-e", f"@{vars_file}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=environment,
        cwd=str(ROOT), start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while api.get("/faults")["faults"][0].get("hits", 0) == 0:
            assert playbook.poll() is None, "the playbook ended before reaching the step"
            assert time.monotonic() < deadline, "the playbook never reached the step"
            time.sleep(0.1)
        os.killpg(playbook.pid, signal.SIGKILL)
        playbook.wait(30)
    finally:
        api.call("DELETE", "/faults")
        if playbook.poll() is None:
            os.killpg(playbook.pid, signal.SIGKILL)


@pytest.mark.parametrize("step,fault", [
    ("after the app is created, before its secret is stored",
     {"service": "vault", "method": "PUT", "path": "^/secrets/crash1-client-secret$"}),
    ("after the consent, before the refresh token is stored",
     {"service": "vault", "method": "PUT", "path": "^/secrets/crash2-refresh-token$"}),
])
def test_recovery_after_a_crash(step, fault, run_playbook, api, ep, collections_path, tmp_path, auto_approve):
    prefix = "crash1" if "crash1" in fault["path"] else "crash2"
    variables = role_variables(ep, prefix)
    kill_when_reached(collections_path, tmp_path, api, variables, fault)
    half = [a for a in api.state()["applications"] if a["displayName"] == f"SAM {prefix}"]
    assert len(half) == 1, f"the app exists after the crash ({step})"
    recovered = run_playbook("playbooks/onboard.yml", variables)
    assert recovered.ok, recovered
    assert summary_of(api, ep, prefix) == {
        "apps": 1, "managed_secrets": 1, "service_principals": 1, "admin_agents_memberships": 1,
        "vault_secrets": ["app-id", "client-secret", "refresh-token", "tenant-id"], "refresh_token_works": True}
    again = run_playbook("playbooks/onboard.yml", variables)
    # changed_count is 0 for a run that recorded nothing too: the summary must be there.
    assert again.ok and again.changed_count == 0
    assert again.task("Summary")["msg"]["consent"] == "stored refresh token works"
