"""No client secret, refresh token or access token in what a run prints, even at -vvv."""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from integration_helpers import vault_client

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")


def assert_clean(text: str, secrets: list[str]) -> None:
    assert not JWT.search(text), "an access or id token was printed"
    for secret in secrets:
        assert secret not in text, "a secret was printed"
    assert "1.AS" not in text, "a sandbox refresh token was printed"


def test_onboarding_steps_at_vvv_print_no_secret(run_playbook, ep, auto_approve):
    run = run_playbook("setup_sam.yml", {"app_name": "SAM hygiene", "secret_prefix": "hygiene"}, verbosity=3)
    assert run.ok, run
    vault = vault_client(ep)
    secrets = [vault.get_secret("hygiene-client-secret").value, vault.get_secret("hygiene-refresh-token").value]
    assert len(run.stdout) > 5000  # -vvv really printed the invocations
    assert_clean(run.stdout + run.stderr, secrets)


def test_exchange_at_vvv_prints_no_secret(run_playbook, ep, sam):
    customers = [c["tenant_id"] for c in ep["customers"]]
    run = run_playbook("access_token_quiet.yml", {"client_id": sam["app_id"], "client_secret": sam["secret"],
                                                  "refresh_token": sam["refresh_token"], "customers": customers},
                       verbosity=3)
    assert run.ok, run
    assert_clean(run.stdout + run.stderr, [sam["secret"], sam["refresh_token"]])
    assert "the output has been hidden" in run.stdout


def test_demo_at_vvvv_leaves_no_secret_in_output_logs_caches_or_temp_files(run_playbook, ep, api, auto_approve,
                                                                           tmp_path, tmp_path_factory, request):
    """Every place a run writes: output, log, fact cache, Ansible's temporary folders, and HOME,
    TMPDIR and ANSIBLE_HOME of the run itself, plus whatever appeared in the system's temporary
    folder meanwhile (broken by: a module that writes a token file to /tmp, to ~/, or to
    tempfile's folder, and so by any file the collection leaves with a secret)."""
    from conftest import role_variables
    names = ("log", "facts", "local-tmp", "remote-tmp", "home", "tmpdir", "ansible-home")
    places = {name: tmp_path / name for name in names}
    for place in places.values():
        place.mkdir()
    # TMPDIR short: ansible-core 2.21 puts a unix socket there, and a socket path is at most 107
    # bytes (pytest-xdist's folders are deep). Scanned like the others, removed at the end.
    places["tmpdir"] = Path(tempfile.mkdtemp(prefix="hyg-", dir="/tmp"))
    request.addfinalizer(lambda: shutil.rmtree(places["tmpdir"], ignore_errors=True))
    env = {"ANSIBLE_LOG_PATH": str(places["log"] / "ansible.log"), "ANSIBLE_CACHE_PLUGIN": "jsonfile",
           "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(places["facts"]), "ANSIBLE_LOCAL_TEMP": str(places["local-tmp"]),
           "ANSIBLE_REMOTE_TMP": str(places["remote-tmp"]), "ANSIBLE_GATHERING": "smart",
           "HOME": str(places["home"]), "TMPDIR": str(places["tmpdir"]), "ANSIBLE_HOME": str(places["ansible-home"])}
    variables = role_variables(ep, "vvvv")
    system_tmp = Path(tempfile.gettempdir())
    started = time.time() - 1
    runs = [run_playbook("playbooks/onboard.yml", variables, verbosity=4, env=env),
            run_playbook("playbooks/daily.yml", variables, verbosity=4, env=env)]
    for run in runs:
        assert run.ok, run
    vault = vault_client(ep)
    secrets = [vault.get_secret("vvvv-client-secret").value, ep["principals"]["automation"]["client_secret"]]
    secrets += [vault.get_secret("vvvv-refresh-token", p.version).value
                for p in vault.list_properties_of_secret_versions("vvvv-refresh-token")]
    assert len(secrets) >= 4
    texts = {"stdout/stderr": "".join(r.stdout + r.stderr for r in runs),
             "recorded callback results": json.dumps([r.records for r in runs])}
    for name, place in places.items():
        for path in place.rglob("*"):
            if path.is_file():
                texts[f"{name}: {path.relative_to(place)}"] = path.read_text(errors="replace")
    # pytest's own folders are left out: they hold sandboxes' state and the tests' variables files
    # (this run's, other workers', and those of any other pytest run on the machine).
    basetemp = tmp_path_factory.getbasetemp()
    skip = next((p for p in basetemp.parents if p.name.startswith("pytest-of-")), basetemp)
    for path in _new_files(system_tmp, started, skip=skip):
        try:
            texts[f"system temp: {path}"] = path.read_text(errors="replace")
        except OSError:
            continue  # another process's file, gone meanwhile (concurrent test workers)
    assert any(name.startswith("log") for name in texts) and len(texts["stdout/stderr"]) > 20000
    for name, text in texts.items():
        try:
            assert_clean(text, secrets)
        except AssertionError as error:
            raise AssertionError(f"{error} in {name}") from None
        # The fact's name in a file means the fact itself was written (a cache), unless the file is
        # the output or the log (task names) or a file another process left in the system's folder.
        assert "partner_token" not in text or name.startswith(("stdout", "log", "recorded", "system temp")), name


def _new_files(folder: Path, since: float, skip: Path) -> list[Path]:
    """Files under folder changed since the run began, except under skip."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not Path(root, d).is_symlink() and Path(root, d) != skip]
        for name in files:
            path = Path(root, name)
            try:
                if path.is_file() and not path.is_symlink() and path.stat().st_mtime >= since \
                        and path.stat().st_size < 5_000_000:
                    found.append(path)
            except OSError:
                continue  # gone meanwhile
    return found
