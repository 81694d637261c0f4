"""The built collection as a user gets it: ansible-galaxy builds the tarball, installs it into an
empty collections path, and the playbooks run by their fully qualified names from a folder outside
the repository (broken by: a file the playbooks need left out of the build, a playbook that reaches
into the repository, or a role path that only works from a checkout)."""
from __future__ import annotations

import os
import re
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
    assert not [n for n in names if n.startswith(("tests/sandbox/", "scripts/", ".venv"))]
    # the sandbox ships, so that an installed collection's user can try it (README "Try it on the sandbox")
    assert {"sandbox/__main__.py", "sandbox/variables.py", "sandbox/requirements.txt"} <= set(names)
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


def readme_sandbox_quick_start() -> str:
    """The README's shell block under "Try it on the sandbox", as written."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Try it on the sandbox", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def test_the_readme_sandbox_quick_start_as_written(tmp_path):
    """The README block run by bash in an empty folder with an empty HOME, with two changes only:
    the install takes the tarball built here instead of Galaxy's, and pip is not run (the test's
    environment has the requirements; the files it names are checked). Fails if the sandbox does
    not run from the installed collection, its variables file is missing or not enough for one of
    the playbooks, or a command prints a warning (the inventory ones)."""
    block = readme_sandbox_quick_start()
    build = tmp_path / "build"
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", str(ROOT), "--output-path", str(build)],
                   check=True, capture_output=True, text=True)
    [tarball] = build.glob("partnercenter-secure_app-*.tar.gz")
    install, pip = block.splitlines()[0], block.splitlines()[2]
    assert install.startswith("ansible-galaxy collection install partnercenter.secure_app")
    assert pip.startswith("python3 -m pip install -r")
    script = block.replace(install, f"ansible-galaxy collection install --offline {tarball}", 1)
    script = script.replace(pip, ": " + pip, 1)
    home, folder = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    folder.mkdir()
    environment = {"HOME": str(home), "PATH": f"{BIN}:/usr/bin:/bin", "ANSIBLE_NOCOLOR": "1", "LANG": "C.UTF-8",
                   "ANSIBLE_DEPRECATION_WARNINGS": "0", "TMPDIR": os.environ.get("TMPDIR", "/tmp")}
    completed = subprocess.run(["bash", "-c", "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null' EXIT\n" + script],
                               cwd=folder, env=environment, capture_output=True, text=True, timeout=400,
                               stdin=subprocess.DEVNULL, check=False)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-4000:]
    installed = home / ".ansible/collections/ansible_collections/partnercenter/secure_app"
    assert (installed / "requirements.txt").exists() and (installed / "sandbox/requirements.txt").exists()
    assert "[WARNING]" not in output, [line for line in output.splitlines() if "WARNING" in line]
    recaps = re.findall(r"^localhost\s+: ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=0", completed.stdout, re.M)
    assert len(recaps) == 3, completed.stdout[-3000:]
    assert (folder / "customer-access" / "customer-access.html").exists()
    [partner] = re.findall(r'"partner": "([^"]*)",\s*"signed_in_as"', completed.stdout)
    assert partner.count("Contoso") == 1, partner  # daily's summary names the partner once
    assert not (folder / "sandbox-state" / "variables.yml").exists(), "the stopped sandbox left its variables file"
