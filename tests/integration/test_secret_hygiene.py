"""No client secret, private key, client assertion, refresh token or access token in what a run
prints, even at -vvv."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest

from conftest import ROOT, PlaybookRun, role_variables
from integration_helpers import vault_client

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")


PEM_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")


def assert_clean(text: str, secrets: list[str]) -> None:
    assert not JWT.search(text), "an access, id or managed identity token, or a client assertion, was printed"
    assert not PEM_KEY.search(text), "a private key was printed"
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


# The run's own system temporary folder: a tmpfs over it in a private mount namespace, so that
# nothing else on the machine writes there and everything found is the run's. pytest's folder
# (the variables files, the sandbox's CA) is bound back in and left out of the snapshot, which is
# written into it when the run ends (the tmpfs goes with the namespace).
PRIVATE_TMP = r"""set -e
tmp=$1 keep=$2 snapshot=$3
shift 3
mount -t tmpfs none /run
mkdir /run/keep
mount --bind "$keep" /run/keep
mount -t tmpfs -o mode=1777 none "$tmp"
mkdir -p "$keep"
mount --bind /run/keep "$keep"
umount /run/keep
umount /run
mkdir -m 700 "$tmp/run-tmp"
set +e
"$@"
rc=$?
tar -C "$tmp" --exclude="./${keep#"$tmp"/}" -cf "$snapshot" .
exit $rc
"""


def _private_tmp_possible(system_tmp: Path, keep: Path) -> bool:
    hidden = [path for path in (ROOT, Path(sys.executable)) if system_tmp in path.parents]
    if os.geteuid() != 0 or not shutil.which("unshare") or keep.parent != system_tmp or hidden:
        return False
    return subprocess.run(["unshare", "-m", "true"], check=False, capture_output=True).returncode == 0


def private_key_lines(pem: str) -> list[str]:
    """The base64 lines of the private key in a PEM (each a secret on its own)."""
    key = pem[pem.index("PRIVATE KEY-----"):pem.index("-----END")]
    return [line for line in key.splitlines()[1:] if len(line) >= 40]


@pytest.mark.parametrize("kind", ["secret", "certificate", "federated"])
def test_demo_at_vvvv_leaves_no_secret_in_output_logs_caches_or_temp_files(run_playbook, ep, api, auto_approve,
                                                                           tmp_path, tmp_path_factory, request, kind):
    """Every place a run writes: output, log, fact cache, Ansible's temporary folders, and HOME,
    TMPDIR and ANSIBLE_HOME of the run itself, and the system's temporary folder, which each run
    gets to itself (broken by: a module that writes a token file to /tmp, to ~/, or to tempfile's
    folder, and so by any file the collection leaves with a secret). Where a private mount
    namespace cannot be made (not root), TMPDIR is a private folder and /tmp is not scanned."""
    names = ("log", "facts", "local-tmp", "remote-tmp", "home", "ansible-home")
    places = {name: tmp_path / name for name in names}
    for place in places.values():
        place.mkdir()
    system_tmp = Path(tempfile.gettempdir())
    basetemp = tmp_path_factory.getbasetemp()
    keep = next((p for p in basetemp.parents if p.name.startswith("pytest-of-")), basetemp)
    private = _private_tmp_possible(system_tmp, keep)
    if private:
        # TMPDIR short: ansible-core 2.21 puts a unix socket there (at most 107 bytes).
        tmpdir = str(system_tmp / "run-tmp")
    else:
        places["tmpdir"] = Path(tempfile.mkdtemp(prefix="hyg-", dir="/tmp"))
        request.addfinalizer(lambda: shutil.rmtree(places["tmpdir"], ignore_errors=True))
        tmpdir = str(places["tmpdir"])
    env = {"ANSIBLE_LOG_PATH": str(places["log"] / "ansible.log"), "ANSIBLE_CACHE_PLUGIN": "jsonfile",
           "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(places["facts"]), "ANSIBLE_LOCAL_TEMP": str(places["local-tmp"]),
           "ANSIBLE_REMOTE_TMP": str(places["remote-tmp"]), "ANSIBLE_GATHERING": "smart",
           "HOME": str(places["home"]), "TMPDIR": tmpdir, "ANSIBLE_HOME": str(places["ansible-home"])}
    prefix = {"secret": "vvvv", "certificate": "vvvc", "federated": "vvvf"}[kind]
    variables = dict(role_variables(ep, prefix), onboard_credential_kind=kind)
    if kind == "federated":  # the run happens where a managed identity is (its tokens are the assertions)
        identity = ep["managed_identities"]["user_assigned"]
        variables.update(onboard_federated_subject=identity["object_id"],
                         onboard_managed_identity_client_id=identity["client_id"],
                         partner_token_managed_identity_client_id=identity["client_id"])
        env.update(IDENTITY_ENDPOINT=ep["cloud"]["login"] + "/msi/token", IDENTITY_HEADER=ep["managed_identities"]["header"])
    snapshots = []

    def run(name):
        if not private:
            return run_playbook(name, variables, verbosity=4, env=env)
        command, environment, record_file = run_playbook.prepare(name, variables, verbosity=4, env=env)
        snapshot = tmp_path / f"system-tmp-{len(snapshots)}.tar"
        snapshots.append(snapshot)
        completed = subprocess.run(["unshare", "-m", "sh", "-c", PRIVATE_TMP, "sh", str(system_tmp), str(keep),
                                    str(snapshot)] + command, capture_output=True, text=True, env=environment,
                                   timeout=600, check=False, stdin=subprocess.DEVNULL, cwd=str(ROOT))
        return PlaybookRun(completed, record_file)

    runs = [run("playbooks/onboard.yml"), run("playbooks/daily.yml")]
    for one in runs:
        assert one.ok, one
    vault = vault_client(ep)
    secrets = [ep["principals"]["automation"]["client_secret"]]
    if kind == "secret":
        secrets.append(vault.get_secret(f"{prefix}-client-secret").value)
    if kind == "certificate":
        secrets += private_key_lines(vault.get_secret(f"{prefix}-client-certificate").value)
    secrets += [vault.get_secret(f"{prefix}-refresh-token", p.version).value
                for p in vault.list_properties_of_secret_versions(f"{prefix}-refresh-token")]
    assert len(secrets) >= 3
    texts = {"stdout/stderr": "".join(r.stdout + r.stderr for r in runs),
             "recorded callback results": json.dumps([r.records for r in runs])}
    for name, place in places.items():
        for path in place.rglob("*"):
            if path.is_file():
                texts[f"{name}: {path.relative_to(place)}"] = path.read_text(errors="replace")
    for number, snapshot in enumerate(snapshots):
        with tarfile.open(snapshot) as archive:
            for member in archive.getmembers():
                if member.isfile():
                    texts[f"system temp of run {number}: {member.name}"] = \
                        archive.extractfile(member).read().decode(errors="replace")
    assert not private or len(snapshots) == 2 and any("run-tmp" in n for s in snapshots
                                                      for n in tarfile.open(s).getnames())
    assert any(name.startswith("log") for name in texts) and len(texts["stdout/stderr"]) > 20000
    for name, text in texts.items():
        try:
            assert_clean(text, secrets)
        except AssertionError as error:
            raise AssertionError(f"{error} in {name}") from None
        # The fact's name in a file means the fact itself was written (a cache), unless the file is
        # the output or the log (task names) or a file another process left in the system's folder.
        assert "partner_token" not in text or name.startswith(("stdout", "log", "recorded")), name
