"""What every benchmark shares: running a child with its output drained while it runs (a child that
prints more than a pipe holds never blocks), its own wall time, CPU and peak memory (os.wait4 gives
the rusage of that child and the children it waited for, never the parent's), the SAM set-up in a
sandbox, and interleaved rounds with the median kept. Speeds are ratios of runs made side by side:
the machine is shared and noisy."""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "sandbox"))


def measured(command: list[str], env: dict | None = None, *, check: bool = True) -> dict[str, Any]:
    """Runs command; its output is read by a thread while it runs and its rusage taken with wait4."""
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=str(ROOT))
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: process.stdout.read(65536), b"")))
    reader.start()
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    seconds = time.monotonic() - started
    reader.join()
    process.stdout.close()
    output = b"".join(chunks).decode(errors="replace")
    if check and process.returncode != 0:
        raise SystemExit(f"{command[:3]} failed ({process.returncode}):\n{output[-3000:]}")
    # ru_maxrss is in KiB on Linux: the largest resident set of the child (or a child it waited for).
    return {"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024,
            "output": output}


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]


def interleaved(rounds: int, work: dict[str, Callable[[], dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Each round runs every piece of work once, in turn, so a noisy moment hits all of them; the
    median run of each is kept (with every round's seconds)."""
    samples: dict[str, list] = {name: [] for name in work}
    for _round in range(rounds):
        for name, function in work.items():
            samples[name].append(function())
    return {name: dict(median_run(runs), rounds=[r["seconds"] for r in runs])
            for name, runs in samples.items()}


def ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 2) if denominator else float("nan")


def median(values: list[float]) -> float:
    return statistics.median(values)


def collections_root(workdir: Path) -> Path:
    parent = workdir / "collections"
    link = parent / "ansible_collections" / "partnercenter" / "secure_app"
    if not link.exists():
        link.parent.mkdir(parents=True)
        link.symlink_to(ROOT)
    return parent


def ansible_env(workdir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections_root(workdir)), ANSIBLE_NOCOLOR="1",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="0", **extra)
    env.pop("REQUESTS_CA_BUNDLE", None)
    return env


def playbook(workdir: Path, name: str, plays: list[dict], variables: dict, **env: str) -> dict[str, Any]:
    """ansible-playbook on a generated playbook with a variables file (mode 0600), measured."""
    path = workdir / f"{name}.yml"
    path.write_text(json.dumps(plays))
    return measured([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                     str(path), "-e", f"@{_variables_file(workdir, name, variables)}"], ansible_env(workdir, **env))


def sandbox_process(state: Path, customers: int, latency_ms: int = 0):
    from sandbox.testing import SandboxProcess
    return SandboxProcess(state, "--customers", str(customers), "--latency-ms", str(latency_ms),
                          "--log-level", "WARNING")


def set_up_sam(sandbox, api, workdir: Path, prefix: str = "bench") -> dict[str, Any]:
    """The SAM app as a partner gets it: playbooks/onboard.yml with unattended sign-ins, its
    secrets in the sandbox's vault as PREFIX-*. Returns what the measured programs need."""
    from sandbox import catalog
    ep = sandbox.endpoints
    api.call("PUT", "/auto-approve", [{"upn": ep["accounts"]["admin"]["upn"], "client_id": catalog.AZURE_CLI_APP_ID},
                                      {"upn": ep["accounts"]["service"]["upn"]}])
    variables = partner_token_variables(ep, prefix, onboard_cloud_endpoints=ep["cloud"], onboard_ca_bundle=ep["ca_file"],
                                        onboard_tenant_id=ep["partner_tenant_id"], onboard_vault_url=ep["vault_url"],
                                        onboard_app_name=f"SAM {prefix}")
    variables["onboard_secret_names"] = variables["partner_token_secret_names"]
    workdir.mkdir(parents=True, exist_ok=True)
    result = measured([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                       str(ROOT / "playbooks" / "onboard.yml"), "-e", f"@{_variables_file(workdir, 'onboard', variables)}"],
                      ansible_env(workdir))
    del result
    vault = vault_client(ep)
    secret = {name: vault.get_secret(f"{prefix}-{name}").value
              for name in ("app-id", "client-secret", "refresh-token")}
    return {"login": ep["cloud"]["login"], "cloud": ep["cloud"], "ca_file": ep["ca_file"],
            "tenant_id": ep["partner_tenant_id"], "client_id": secret["app-id"], "client_secret": secret["client-secret"],
            "refresh_token": secret["refresh-token"], "scope": ep["cloud"]["graph"] + "/.default",
            "all_customers": [c["tenant_id"] for c in ep["customers"]], "prefix": prefix}


def _variables_file(workdir: Path, name: str, variables: dict) -> Path:
    path = workdir / f"{name}.vars.json"
    path.write_text(json.dumps(variables))
    path.chmod(0o600)
    return path


def vault_client(ep):
    from azure.core.pipeline.transport import RequestsTransport
    from azure.identity import ClientSecretCredential
    from azure.keyvault.secrets import SecretClient
    spec = ep["principals"]["automation"]
    credential = ClientSecretCredential(spec["tenant_id"], spec["client_id"], spec["client_secret"],
                                        authority=ep["cloud"]["login"], disable_instance_discovery=True,
                                        transport=RequestsTransport(connection_verify=ep["ca_bundle"]))
    return SecretClient(ep["vault_url"], credential, transport=RequestsTransport(connection_verify=ep["ca_bundle"]))


def partner_token_variables(ep: dict, prefix: str = "bench", **extra: Any) -> dict[str, Any]:
    """The partner_token role's variables for the sandbox and the secrets set_up_sam stored."""
    vault = ep["principals"]["automation"]
    return {
        "partner_token_cloud_endpoints": ep["cloud"], "partner_token_ca_bundle": ep["ca_file"],
        "partner_token_vault_url": ep["vault_url"], "partner_token_vault_tenant_id": vault["tenant_id"],
        "partner_token_vault_client_id": vault["client_id"], "partner_token_vault_client_secret": vault["client_secret"],
        "partner_token_secret_names": {key: f"{prefix}-{key.replace('_', '-')}"
                                       for key in ("app_id", "tenant_id", "client_secret", "refresh_token")},
        **extra}
