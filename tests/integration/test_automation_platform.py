"""Automation Platform: the custom credential type the collection ships
(extensions/aap/sam_credential_type.yml), its example project (extensions/aap/project) and
execution environment (extensions/ee). The credential's injectors are rendered as the platform
renders them (Jinja over the credential's inputs, an input left empty renders empty, a file
injector becomes a file named by tower.filename) and daily.yml runs with exactly those extra
variables, beside the job template's own or the inventory's."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import jinja2.sandbox
import pytest
import yaml

from conftest import PlaybookRun, ROOT, role_variables

CREDENTIAL_TYPE = ROOT / "extensions" / "aap" / "sam_credential_type.yml"
PROJECT = ROOT / "extensions" / "aap" / "project"
EE = ROOT / "extensions" / "ee" / "execution-environment.yml"
BIN = Path(sys.executable).parent


def injected(inputs: dict) -> dict:
    """The extra variables a credential of this type gives a job."""
    definition = yaml.safe_load(CREDENTIAL_TYPE.read_text())
    fields = {field["id"]: field for field in definition["inputs"]["fields"]}
    assert set(inputs) <= set(fields), "an input the credential type does not define"
    assert set(definition["inputs"]["required"]) <= set(inputs)
    values = {name: inputs.get(name, field.get("default", "")) for name, field in fields.items()}
    environment = jinja2.sandbox.ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)
    assert set(definition["injectors"]) <= {"extra_vars", "file"}, "the guide documents extra variables and files"
    filenames = {}
    for key, template in definition["injectors"].get("file", {}).items():
        handle = tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False)  # as the platform writes it
        with handle:
            handle.write(environment.from_string(template).render(**values))
        filenames[key.removeprefix("template.")] = handle.name
    values["tower"] = {"filename": filenames}
    return {name: environment.from_string(template).render(**values)
            for name, template in definition["injectors"]["extra_vars"].items()}


def credential_inputs(ep: dict, **given) -> dict:
    """A credential for the sandbox: its vault, its endpoints (as JSON text) and its CA (PEM text)."""
    return dict({"vault_url": ep["vault_url"], "cloud_endpoints": json.dumps(ep["cloud"]),
                 "ca_bundle": Path(ep["ca_file"]).read_text()}, **given)


@pytest.fixture(scope="module")
def onboarded(run_playbook, ep, auto_approve):
    variables = role_variables(ep, "aap")
    run = run_playbook("playbooks/onboard.yml", variables)
    assert run.ok, run
    return variables


def job_template_variables(variables: dict) -> dict:
    """What the job template itself holds: everything but what the credential gives (the vault,
    its identity, the cloud endpoints and CA bundle)."""
    return {name: value for name, value in variables.items()
            if not name.startswith(("partner_token_vault_", "onboard_vault_url", "partner_token_cloud_endpoints",
                                    "partner_token_ca_bundle", "onboard_cloud_endpoints", "onboard_ca_bundle"))}


def test_daily_with_the_credential_types_injection(onboarded, run_playbook, ep):
    """The vault, its service principal, custom endpoints and a CA bundle all from the credential.
    Fails if an injector names a variable the roles do not read (the vault or the endpoints would
    be unknown), or the CA bundle's file is not passed on."""
    principal = ep["principals"]["automation"]
    extra = injected(credential_inputs(ep, vault_tenant_id=principal["tenant_id"], vault_client_id=principal["client_id"],
                                       vault_client_secret=principal["client_secret"]))
    run = run_playbook("playbooks/daily.yml", dict(job_template_variables(onboarded), **extra))
    assert run.ok, run
    assert "reachable" in run.task("Summary (counts and names, never tokens)")["msg"]["customer_tokens"]
    assert principal["client_secret"] not in json.dumps(run.records) + run.stdout


def test_empty_inputs_never_override_the_inventory(onboarded, run_playbook, ep, tmp_path):
    """The vault identity in the inventory, a credential without one: its empty inputs must not
    replace the inventory's values (extra variables win over every other variable). Fails with
    injectors that set the roles' variables themselves."""
    principal = ep["principals"]["automation"]
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "partner_token_vault_tenant_id": principal["tenant_id"],
        "partner_token_vault_client_id": principal["client_id"],
        "partner_token_vault_client_secret": principal["client_secret"]}}}}))
    extra = injected(credential_inputs(ep))
    command, environment, record_file = run_playbook.prepare("playbooks/daily.yml",
                                                             dict(job_template_variables(onboarded), **extra))
    command[command.index("localhost,")] = str(inventory)
    for name in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"):
        environment.pop(name, None)
    completed = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=300, check=False,
                               stdin=subprocess.DEVNULL, cwd=str(tmp_path))
    run = PlaybookRun(completed, record_file)
    assert run.ok, run


def test_empty_vault_identity_falls_to_the_managed_identity(onboarded, run_playbook, ep):
    """A credential without a vault identity (the execution node's managed identity): the empty
    injected values must read as not given. Fails if an empty value is used as an identity."""
    identities = ep["managed_identities"]
    extra = injected(credential_inputs(ep))
    env = {"IDENTITY_ENDPOINT": ep["cloud"]["login"] + "/msi/token", "IDENTITY_HEADER": identities["header"],
           "AZURE_CLIENT_ID": identities["user_assigned"]["client_id"]}
    for name in ("AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_SECRET", "AZURE_TENANT"):
        env[name] = None
    run = run_playbook("playbooks/daily.yml", dict(job_template_variables(onboarded), **extra), env=env)
    assert run.ok, run


def test_the_credential_types_comment_says_what_the_guides_say():
    """Its comment names the job templates' playbooks, which are the project's wrappers, and says
    onboard runs from a terminal, as the README and the guide do."""
    comment = " ".join(line.lstrip("# ") for line in CREDENTIAL_TYPE.read_text().splitlines() if line.startswith("#"))
    wrappers = sorted(path.name for path in PROJECT.glob("*.yml"))
    assert wrappers == ["customers.yml", "daily.yml", "rotate_secret.yml"]
    assert "job templates of daily.yml, customers.yml and rotate_secret.yml" in comment
    assert "onboard.yml runs once from a terminal" in comment
    readme = " ".join((ROOT / "README.md").read_text().split())
    guide = " ".join((ROOT / "docs/docsite/rst/automation_platform.rst").read_text().split())
    for text in (readme, guide):
        assert "onboard.yml" in text and "from a terminal" in text
        assert "extensions/aap/project" in text and "extensions/ee/execution-environment.yml" in text


def test_a_job_template_run_of_the_projects_wrapper_playbook(onboarded, run_playbook, ep, tmp_path):
    """As a job template runs: the project's root is the working folder, the playbook is the
    project's daily.yml, the collection is the one the project sync installed from
    collections/requirements.yml (here the tarball built from this checkout, into the project's
    collections/ folder), and no other collections path holds it."""
    requirements = yaml.safe_load((PROJECT / "collections" / "requirements.yml").read_text())
    assert [c["name"] for c in requirements["collections"]] == ["partnercenter.secure_app"]
    project = tmp_path / "project"
    shutil.copytree(PROJECT, project)
    build = tmp_path / "build"
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", str(ROOT), "--output-path", str(build)],
                   check=True, capture_output=True, text=True)
    [tarball] = build.glob("partnercenter-secure_app-*.tar.gz")
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "--offline", str(tarball),
                    "-p", str(project / "collections")], check=True, capture_output=True, text=True)
    principal = ep["principals"]["automation"]
    extra = injected(credential_inputs(ep, vault_tenant_id=principal["tenant_id"], vault_client_id=principal["client_id"],
                                       vault_client_secret=principal["client_secret"]))
    command, environment, record_file = run_playbook.prepare("playbooks/daily.yml",
                                                             dict(job_template_variables(onboarded), **extra))
    command[command.index(str(ROOT / "playbooks/daily.yml"))] = "daily.yml"
    empty = tmp_path / "no-collections"
    empty.mkdir()
    environment["ANSIBLE_COLLECTIONS_PATH"] = str(empty)
    completed = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=300, check=False,
                               stdin=subprocess.DEVNULL, cwd=str(project))
    run = PlaybookRun(completed, record_file)
    assert run.ok, run
    assert "reachable" in run.task("Summary (counts and names, never tokens)")["msg"]["customer_tokens"]


def test_the_example_execution_environment(tmp_path):
    """ansible-builder (no container engine needed) makes a build context of the example
    definition, with the collection in its requirements; and it finds the collection's Python
    packages (requirements.txt) in the installed collection, as the build does. Fails if a path
    of the definition resolves elsewhere than beside it, or the collection's meta/execution-environment.yml
    no longer names requirements.txt."""
    context = tmp_path / "context"
    subprocess.run([str(BIN / "ansible-builder"), "create", "-f", str(EE), "--context", str(context)],
                   check=True, capture_output=True, text=True, cwd=tmp_path)
    galaxy = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    assert [c["name"] for c in galaxy["collections"]] == ["partnercenter.secure_app"]
    [containerfile] = [p for p in (context / "Containerfile", context / "Dockerfile") if p.exists()]
    assert "ansible-galaxy collection install" in containerfile.read_text()
    build = tmp_path / "build"
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", str(ROOT), "--output-path", str(build)],
                   check=True, capture_output=True, text=True)
    [tarball] = build.glob("partnercenter-secure_app-*.tar.gz")
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "--offline", str(tarball),
                    "-p", str(tmp_path / "collections")], check=True, capture_output=True, text=True)
    introspected = subprocess.run([str(BIN / "ansible-builder"), "introspect", str(tmp_path / "collections")],
                                  check=True, capture_output=True, text=True).stdout
    wanted = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    found = yaml.safe_load(introspected)["python"]
    assert wanted and [entry.split("#")[0].strip() for entry in found] == wanted
