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


def role_examples() -> dict[str, str]:
    """The plays of the roles' READMEs (yaml blocks with hosts) and argument_specs examples."""
    found = {}
    for readme in sorted((ROOT / "roles").glob("*/README.md")):
        for number, block in enumerate(re.findall(r"```yaml\n(.*?)```", readme.read_text(), re.S)):
            if "hosts:" in block:
                found[f"roles/{readme.parent.name}/README.md#{number}"] = block
    for spec in sorted((ROOT / "roles").glob("*/meta/argument_specs.yml")):
        for entry, details in (yaml.safe_load(spec.read_text())["argument_specs"] or {}).items():
            if "hosts:" in (details.get("examples") or ""):
                found[f"roles/{spec.parts[-3]}/meta/argument_specs.yml#{entry}"] = details["examples"]
    return found


ROLE_EXAMPLES = role_examples()
HEADER = {"hosts": "localhost", "connection": "local", "gather_facts": False}


@pytest.mark.parametrize("where", sorted(ROLE_EXAMPLES))
def test_role_examples_show_the_header_that_works_everywhere(where):
    """With -i localhost, (or any inventory) a play needs connection: local (else SSH) and the
    Python that runs ansible-playbook (else a discovered interpreter without the requirements)."""
    for play in yaml.safe_load(ROLE_EXAMPLES[where]):
        assert {key: play.get(key) for key in HEADER} == HEADER, where
        assert play.get("vars", {}).get("ansible_python_interpreter") == "{{ ansible_playbook_python }}", where


def test_every_role_has_an_example_play():
    roles = {path.name for path in (ROOT / "roles").iterdir() if path.is_dir()}
    assert {where.split("/")[1] for where in ROLE_EXAMPLES if "README" in where} >= roles - {"partner_token"}
    assert {where.split("/")[1] for where in ROLE_EXAMPLES if "argument_specs" in where} == roles


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
            runs = pool.map(lambda plugin: run_examples(plugin, ep, work, environment), EXAMPLES)
            readme_plays = [where for where in ROLE_EXAMPLES if "README" in where]
            role_runs = pool.map(lambda where: run_role_example(where, ep, work, environment), readme_plays)
            yield dict(zip(EXAMPLES, runs)) | dict(zip(readme_plays, role_runs))
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


def run_role_example(where: str, ep: dict, work: Path, environment: dict) -> subprocess.CompletedProcess:
    """A role README's play as written, with -i localhost, and the sandbox's variables.yml as extra
    variables (what a user's -e @file gives: it wins over the example's placeholders such as
    contoso's vault URL)."""
    playbook = work / f"role-example-{where.replace('/', '-').replace('#', '-')}.yml"
    playbook.write_text(ROLE_EXAMPLES[where])
    return subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", str(playbook),
                           "-e", "@sandbox-state/variables.yml"],
                          cwd=work, env=environment, capture_output=True, text=True, timeout=300, check=False,
                          stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("where", sorted(where for where in ROLE_EXAMPLES if "README" in where))
def test_role_readme_examples_run_with_an_explicit_localhost(world, where):
    completed = world[where]
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, f"{where}'s play failed:\n{output[-4000:]}"
    assert "[WARNING]" not in output, [line for line in output.splitlines() if "WARNING" in line]


@pytest.mark.parametrize("plugin", sorted(EXAMPLES))
def test_examples_run_as_written(world, plugin):
    completed = world[plugin]
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, f"{plugin}'s examples failed:\n{output[-4000:]}"
    assert "[WARNING]" not in output, [line for line in output.splitlines() if "WARNING" in line]
