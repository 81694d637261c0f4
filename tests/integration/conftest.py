"""Integration tests: real ansible-playbook runs against a sandbox on 127.0.0.1.

Each test runs playbooks from playbooks/ with the json stdout callback, so results can be read
back, and checks the sandbox's state through its test API."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sandbox import catalog  # noqa: E402
from sandbox.testing import SandboxProcess, TestApi  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.append(str(ROOT / "tests"))  # ca_bundles, also when only integration tests are collected
from integration_helpers import vault_client  # noqa: E402

PLAYBOOKS = Path(__file__).parent / "playbooks"


@pytest.fixture(scope="session")
def collections_path(tmp_path_factory):
    """ansible finds the collection as ansible_collections/partnercenter/secure_app."""
    parent = tmp_path_factory.mktemp("collections")
    target = parent / "ansible_collections" / "partnercenter"
    target.mkdir(parents=True)
    (target / "secure_app").symlink_to(ROOT)
    return parent


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    process = SandboxProcess(tmp_path_factory.mktemp("sandbox"), "--customers", "3")
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def ep(sandbox):
    return sandbox.endpoints


@pytest.fixture(scope="session")
def api(ep):
    return TestApi(ep)


class PlaybookRun:
    def __init__(self, completed: subprocess.CompletedProcess, record_file: Path) -> None:
        self.returncode = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        lines = record_file.read_text().splitlines() if record_file.exists() else []
        self.records = [json.loads(line) for line in lines]

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def __repr__(self) -> str:  # what pytest shows when an assertion about a run fails
        failures = [f"{r['task']}: {r['result'].get('msg')}" for r in self.records if r["status"] == "failed"]
        return f"ansible-playbook rc={self.returncode} failed={failures} stderr={self.stderr[-1500:]!r}"

    def task(self, name: str) -> dict:
        for record in self.records:
            # newer ansible-core names role tasks "namespace.collection.role : name"
            if record["task"] == name or record["task"].endswith(" : " + name):
                return record["result"]
        raise KeyError(f"no task named {name!r}; tasks: {[r['task'] for r in self.records]}")

    def failed_task(self) -> dict:
        for record in self.records:
            if record["status"] == "failed" and not record["result"].get("_ansible_ignore_errors"):
                return record["result"]
        raise AssertionError(f"no task failed: {self!r}")

    @property
    def changed_count(self) -> int:
        return sum(1 for r in self.records if r["result"].get("changed"))


@pytest.fixture(scope="session")
def run_playbook(ep, collections_path, tmp_path_factory):
    return playbook_runner(ep, collections_path, tmp_path_factory.mktemp("runs"))


def playbook_runner(ep, collections_path, workdir):
    """run(name, extra_vars, ...) -> PlaybookRun, against the sandbox of ep (its endpoints are the
    variable 'sandbox')."""
    counter = iter(range(1_000_000))

    def prepare(name: str, extra: dict | None = None, *, check: bool = False, verbosity: int = 0,
                env: dict | None = None) -> tuple[list[str], dict, Path]:
        variables = {"sandbox": ep, **(extra or {})}
        number = next(counter)
        vars_file = workdir / f"vars-{number}.json"  # mode 0600: it may hold credentials
        record_file = workdir / f"results-{number}.jsonl"
        fd = os.open(vars_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(variables, handle)
        command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                   str(ROOT / name if name.startswith("playbooks/") else PLAYBOOKS / name), "-e", f"@{vars_file}"]
        if check:
            command.append("--check")
        if verbosity:
            command.append("-" + "v" * verbosity)
        environment = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections_path),
                           ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_NOCOLOR="1",
                           ANSIBLE_LOCAL_TEMP=str(workdir / "tmp"), ANSIBLE_HOME=str(workdir / "home"),
                           ANSIBLE_DEPRECATION_WARNINGS="0",
                           ANSIBLE_CALLBACK_PLUGINS=str(Path(__file__).parent / "callback_plugins"),
                           ANSIBLE_CALLBACKS_ENABLED="record_results", RECORD_RESULTS_FILE=str(record_file))
        environment.pop("REQUESTS_CA_BUNDLE", None)  # the collection must pass its CA bundle itself
        for name, value in (env or {}).items():  # None takes a variable away
            if value is None:
                environment.pop(name, None)
            else:
                environment[name] = value
        return command, environment, record_file

    def run(name: str, extra: dict | None = None, *, check: bool = False, verbosity: int = 0,
            env: dict | None = None, timeout: int = 300) -> PlaybookRun:
        command, environment, record_file = prepare(name, extra, check=check, verbosity=verbosity, env=env)
        completed = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=timeout, check=False,
                                   stdin=subprocess.DEVNULL, cwd=str(ROOT))
        return PlaybookRun(completed, record_file)
    run.prepare = prepare
    return run


@pytest.fixture(scope="session")
def auto_approve(api, ep):
    """Sign-ins complete unattended: Azure CLI as the admin, everything else as the service account."""
    api.call("PUT", "/auto-approve", [
        {"upn": ep["accounts"]["admin"]["upn"], "client_id": catalog.AZURE_CLI_APP_ID},
        {"upn": ep["accounts"]["service"]["upn"]},
    ])
    yield
    api.call("PUT", "/auto-approve", [])


@pytest.fixture()
def http(ep):
    session = requests.Session()
    session.trust_env = False
    session.verify = ep["ca_bundle"]
    return session


@pytest.fixture(scope="session")
def sam(run_playbook, api, ep, auto_approve):
    run = run_playbook("setup_sam.yml", {"app_name": "SAM flows", "secret_prefix": "flows"})
    assert run.ok, run
    vault = vault_client(ep)
    report = run.task("Report")["msg"]
    return {"app_id": report["app_id"], "sp_id": report["service_principal_id"],
            "secret": vault.get_secret("flows-client-secret").value,
            "refresh_token": vault.get_secret("flows-refresh-token").value,
            "report": report}


def role_variables(ep, prefix):
    """What a partner would put in their variables file, for the sandbox; secrets named PREFIX-*."""
    vault = ep["principals"]["automation"]
    names = {key: f"{prefix}-{key.replace('_', '-')}" for key in ("app_id", "tenant_id", "client_secret", "refresh_token")}
    return {
        "onboard_cloud_endpoints": ep["cloud"], "onboard_ca_bundle": ep["ca_file"],
        "onboard_tenant_id": ep["partner_tenant_id"], "onboard_vault_url": ep["vault_url"],
        "onboard_app_name": f"SAM {prefix}", "onboard_secret_names": names,
        "partner_token_cloud_endpoints": ep["cloud"], "partner_token_ca_bundle": ep["ca_file"],
        "partner_token_vault_url": ep["vault_url"], "partner_token_vault_tenant_id": vault["tenant_id"],
        "partner_token_vault_client_id": vault["client_id"], "partner_token_vault_client_secret": vault["client_secret"],
        "partner_token_secret_names": names,
        "partner_token_customer_tenants": [c["tenant_id"] for c in ep["customers"]],
    }
