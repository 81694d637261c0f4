"""Every plugin's EXAMPLES run as written against the sandbox, in the play the README documents
("Running the examples"): the sandbox's variables.yml, the partner_token role first, the example's
tasks unchanged. The plugins are discovered from plugins/modules, plugins/lookup and
plugins/filter, so a plugin added later is run too. Fails when an example names a variable the
documented play does not set, reaches the public cloud instead of the sandbox, or fails."""
from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from sandbox import catalog
from sandbox.testing import SandboxProcess
from sandbox.testing import TestApi as SandboxApi

BIN = Path(sys.executable).parent
PLUGIN_FILES = sorted([*(ROOT / "plugins" / "modules").glob("*.py"), *(ROOT / "plugins" / "lookup").glob("*.py"),
                       *(ROOT / "plugins" / "filter").glob("*.py"), *(ROOT / "plugins" / "filter").glob("*.yml")])


def examples_of(path: Path) -> str | None:
    if path.suffix == ".yml":
        return (yaml.safe_load(path.read_text()) or {}).get("EXAMPLES")
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "EXAMPLES" for t in node.targets):
            return node.value.value
    return None


EXAMPLES = {f"{path.parent.name}/{path.name}": examples_of(path) for path in PLUGIN_FILES
            if path.name != "__init__.py" and examples_of(path)}


def documented_play() -> list:
    """The README's example play, as written."""
    section = (ROOT / "README.md").read_text().split("## Running the examples", 1)[1]
    return yaml.safe_load(re.search(r"```yaml\n(.*?)```", section, re.S).group(1))


def test_every_plugin_has_examples():
    # A filter documented in a .yml beside its .py is one plugin: compare by folder and stem.
    plugins = {f"{p.parent.name}/{p.stem}" for p in PLUGIN_FILES if p.name != "__init__.py"}
    with_examples = {name.rsplit(".", 1)[0] for name in EXAMPLES}
    assert plugins == with_examples, f"plugins without EXAMPLES: {sorted(plugins - with_examples)}"


@pytest.fixture(scope="module")
def world(tmp_path_factory, collections_path):
    """A sandbox of its own (the examples create and delete apps and secrets), onboarded with its
    variables.yml by playbooks/onboard.yml."""
    state = tmp_path_factory.mktemp("examples-sandbox")
    process = SandboxProcess(state, "--customers", "3")
    process.start()
    ep = process.endpoints
    SandboxApi(ep).call("PUT", "/auto-approve", [
        {"upn": ep["accounts"]["admin"]["upn"], "client_id": catalog.AZURE_CLI_APP_ID},
        {"upn": ep["accounts"]["service"]["upn"]},
    ])
    work = tmp_path_factory.mktemp("examples")
    (work / "sandbox-state").symlink_to(state)
    environment = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections_path), ANSIBLE_NOCOLOR="1",
                       ANSIBLE_HOME=str(work / "home"), ANSIBLE_LOCAL_TEMP=str(work / "tmp"),
                       ANSIBLE_DEPRECATION_WARNINGS="0")
    environment.pop("REQUESTS_CA_BUNDLE", None)
    environment.pop("ANSIBLE_PYTHON_INTERPRETER", None)
    onboard = subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", str(ROOT / "playbooks" / "onboard.yml"),
                              "-e", "@sandbox-state/variables.yml"], cwd=work, env=environment, capture_output=True,
                             text=True, timeout=300, check=False, stdin=subprocess.DEVNULL)
    assert onboard.returncode == 0, onboard.stdout[-3000:]
    try:
        # Each plugin's examples in a playbook of their own (nothing registered leaks from one to
        # another), three at a time: most of a run is Ansible starting and the partner_token role.
        with ThreadPoolExecutor(max_workers=3) as pool:
            yield dict(zip(EXAMPLES, pool.map(lambda plugin: run_examples(plugin, ep, work, environment), EXAMPLES)))
    finally:
        process.stop()


def run_examples(plugin: str, ep: dict, work: Path, environment: dict) -> subprocess.CompletedProcess:
    tasks = yaml.safe_load(EXAMPLES[plugin])
    if not isinstance(tasks, list) or not tasks:
        raise AssertionError(f"{plugin}: EXAMPLES is not a list of tasks")
    [play] = documented_play()
    play["tasks"] = tasks
    playbook = work / f"example-{plugin.replace('/', '-')}.yml"
    playbook.write_text(yaml.safe_dump([play], sort_keys=False))
    customers = json.dumps({"partner_token_customer_tenants": [c["tenant_id"] for c in ep["customers"]]})
    return subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", str(playbook), "-e", customers,
                           "--skip-tags", "interactive"],
                          cwd=work, env=environment, capture_output=True, text=True, timeout=300, check=False,
                          stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("plugin", sorted(EXAMPLES))
def test_examples_run_as_written(world, plugin):
    completed = world[plugin]
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, f"{plugin}'s examples failed:\n{output[-4000:]}"
    assert "[WARNING]" not in output, [line for line in output.splitlines() if "WARNING" in line]
