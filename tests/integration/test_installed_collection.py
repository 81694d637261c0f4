"""The built collection as a user gets it: ansible-galaxy builds the tarball, installs it into an
empty collections path, and the playbooks run by their fully qualified names from a folder outside
the repository (broken by: a file the playbooks need left out of the build, a playbook that reaches
into the repository, or a role path that only works from a checkout)."""
from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from conftest import PlaybookRun, ROOT, role_variables

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    build = tmp_path_factory.mktemp("build")
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", str(ROOT), "--output-path", str(build)],
                   check=True, capture_output=True, text=True)
    [tarball] = build.glob("partnercenter-secure_app-*.tar.gz")
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    path = tmp_path_factory.mktemp("installed")
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "--offline", str(tarball), "-p", str(path)],
                   check=True, capture_output=True, text=True)
    return {"path": path, "names": names}


def test_the_tarball_leaves_out_what_needs_the_repository(installed):
    names = installed["names"]
    assert "playbooks/customers.yml" in names and "roles/customer_access/templates/customer-access.html.j2" in names
    assert "tests/integration/targets/setup_sandbox/tasks/main.yml" in names
    assert "extensions/aap/sam_credential_type.yml" in names and "docs/docsite/links.yml" in names
    assert not [n for n in names if n.startswith(("sandbox/", "tests/sandbox/", "scripts/", ".venv"))]
    assert not [n for n in names if n.startswith("tests/integration/") and n.endswith(".py")]


def test_playbooks_by_name_from_outside_the_repository(installed, run_playbook, ep, auto_approve, tmp_path):
    variables = role_variables(ep, "installed")
    for playbook in ("partnercenter.secure_app.onboard", "partnercenter.secure_app.daily",
                     "partnercenter.secure_app.customers"):
        command, environment, record_file = run_playbook.prepare("token_only.yml", variables)
        command[command.index(next(c for c in command if c.endswith("token_only.yml")))] = playbook
        environment["ANSIBLE_COLLECTIONS_PATH"] = str(installed["path"])
        environment["PWD"] = str(tmp_path)  # as a shell started in that folder sets it
        completed = subprocess.run(command, capture_output=True, text=True, env=environment, cwd=str(tmp_path),
                                   timeout=300, check=False, stdin=subprocess.DEVNULL)
        run = PlaybookRun(completed, record_file)
        assert run.ok, (playbook, run)
    assert (tmp_path / "customer-access" / "customer-access.html").exists()
