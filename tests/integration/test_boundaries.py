"""What a hostile or broken server may answer instead of the service, for every API the
collection reads (Graph, Partner Center, Resource Manager, Key Vault): a next-page link that
points at itself, a redirect to another origin. Each answer is injected through the sandbox's
fault API; the real service is never reached, so a token of no value is enough. Also what the
collection writes on the machine: modes only on what it creates."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, role_variables
from integration_helpers import failure

TOKEN = "not-a-real-token-the-fault-answers-first"


@pytest.fixture()
def faults(api):
    yield api
    api.call("DELETE", "/faults")


def _readers(ep):
    """(playbook, variables, service, path pattern, the service's base URL) for each API."""
    return {
        "graph": ("api_info.yml", {"api": "graph", "path": "/v1.0/groups"}, "graph", "^/v1.0/groups$",
                  ep["cloud"]["graph"] + "/v1.0/groups"),
        "resource_manager": ("api_info.yml", {"api": "resource_manager", "path": "/subscriptions"}, "management",
                             "^/subscriptions$", ep["cloud"]["resource_manager"] + "/subscriptions"),
        "partner_center": ("partner_center_info.yml", {}, "partner_center", "^/v1/customers$",
                           ep["cloud"]["partner_center"] + "/v1/customers"),
    }


def _self_pointing_page(api_name, url):
    if api_name == "partner_center":
        return {"totalCount": 1, "items": [{"id": "c"}], "links": {"next": {
            "uri": "/customers?size=500&seekOperation=Next", "method": "GET",
            "headers": [{"key": "MS-ContinuationToken", "value": "the-same-every-time"}]}}}
    key = "@odata.nextLink" if api_name == "graph" else "nextLink"
    return {"value": [{"id": "x"}], key: url}


@pytest.mark.parametrize("api_name", ["graph", "resource_manager", "partner_center"])
def test_a_next_link_pointing_at_itself_ends_the_listing(run_playbook, ep, faults, api_name):
    """Broken by: following next links without remembering them (2,608 requests in 20 s)."""
    playbook, variables, service, path, url = _readers(ep)[api_name]
    faults.call("POST", "/faults", {"service": service, "path": path, "body": _self_pointing_page(api_name, url)})
    faults.call("POST", "/faults", {"service": "partner_center", "path": "^/v1/profiles/organization$",
                                    "body": {"companyName": "Contoso"}})
    run = run_playbook(playbook, dict(variables, token=TOKEN), timeout=60)
    assert "sent the same next-page link again, which would repeat the listing without end" in failure(run)
    hits = next(rule["hits"] for rule in faults.get("/faults")["faults"] if rule["path"] == path)
    assert hits <= 3


@pytest.mark.parametrize("api_name", ["graph", "resource_manager", "partner_center", "vault"])
def test_a_redirect_to_another_origin_is_refused(run_playbook, ep, faults, api_name):
    """Broken by: following the redirect (requests drops the token, but the other server's answer
    is returned as if it were the service's)."""
    elsewhere = ep["cloud"]["login"]  # another origin that answers
    if api_name == "vault":
        playbook, service, path = "keyvault_info.yml", "vault", "^/secrets/"
        variables = {"names": ["anything"], "principal": ep["principals"]["automation"]}
    else:
        playbook, variables, service, path, _url = _readers(ep)[api_name]
    faults.call("POST", "/faults", {"service": service, "path": path,
                                    "redirect": f"{elsewhere}/{ep['partner_tenant_id']}/v2.0/.well-known/openid-configuration"})
    run = run_playbook(playbook, dict(variables, token=TOKEN), timeout=60)
    message = failure(run)
    assert f"redirected the request to {elsewhere}, another origin: refused" in message, message


def test_the_report_sets_modes_only_on_what_it_creates(run_playbook, ep, auto_approve, tmp_path):
    """Broken by: giving the report folder mode 0750 whether or not the role created it (a shared
    1777 folder lost its sticky, world-writable mode)."""
    variables = role_variables(ep, "reportdir")
    assert run_playbook("playbooks/onboard.yml", variables).ok
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    created = tmp_path / "made" / "report"
    for folder in (shared, created):
        run = run_playbook("playbooks/customers.yml", dict(variables, customer_access_report_dir=str(folder)))
        assert run.ok, run
        assert (folder / "customer-access.json").exists()
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    assert stat.S_IMODE(created.stat().st_mode) == 0o750
    assert stat.S_IMODE((created / "customer-access.json").stat().st_mode) == 0o640


# Where msal's listener detects a container (it then binds 0.0.0.0): this machine's own marker, or
# Podman's, made in a private mount namespace that nothing else sees.
CONTAINER_MARKER = ["unshare", "-m", "sh", "-c", 'mount -t tmpfs none /run && : > /run/.containerenv && exec "$@"', "sh"]


def _in_a_container(command):
    if os.path.exists("/.dockerenv") or os.path.exists("/run/.containerenv"):
        return command
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("no container marker here, and a private mount namespace needs root")
    return CONTAINER_MARKER + command


def _listening(port):
    """The local addresses (hex, as /proc/net/tcp has them) that listen on port."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, _colon, hex_port = fields[1].rpartition(":")
            if fields[3] == "0A" and int(hex_port, 16) == port:
                found.append(address)
    return found


def test_the_browser_listener_binds_loopback_in_a_container(run_playbook, sam):
    """Broken by: using msal's receiver as it is, which binds every interface when it detects Docker
    or Podman (execution environments, ansible-navigator) while the message says loopback only."""
    detects = subprocess.run(_in_a_container([sys.executable, "-c", "from msal.oauth2cli.authcode import "
                                              "_is_inside_docker; raise SystemExit(0 if _is_inside_docker() else 1)"]),
                             check=False)
    assert detects.returncode == 0, "msal does not see the simulated container: the test would prove nothing"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command, environment, _records = run_playbook.prepare("consent.yml", {
        "client_id": sam["app_id"], "client_secret": sam["secret"], "mode": "browser", "open_browser": False,
        "redirect_uri": f"http://localhost:{port}", "sign_in_timeout": 60})
    playbook = subprocess.Popen(_in_a_container(command), env=dict(environment, PYTHONUNBUFFERED="1"),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
                                cwd=str(ROOT), start_new_session=True)
    try:
        seen = []
        for line in playbook.stdout:
            seen.append(line)
            if "Sign in as the service account to consent" in line:
                break
        else:
            pytest.fail("the consent never waited for a sign-in: " + "".join(seen[-30:]))
        assert _listening(port) == ["0100007F"], _listening(port)  # 127.0.0.1, and nothing else
    finally:
        os.killpg(playbook.pid, signal.SIGTERM)
        playbook.wait(30)


def test_a_pending_code_mode_sign_in_goes_stale(run_playbook, sam, tmp_path):
    """Broken by: keeping the pending sign-in (its PKCE verifier) for a code pasted any time later."""
    arguments = {"client_id": sam["app_id"], "client_secret": sam["secret"], "mode": "code",
                 "state_dir": str(tmp_path / "state")}
    first = run_playbook("consent.yml", arguments)
    assert first.failed_task()["msg"].startswith("Open this URL in a browser")
    time.sleep(2.5)
    late = run_playbook("consent.yml", dict(arguments, sign_in_timeout=2, code="http://localhost:8400/?code=late&state=x"))
    assert "The pending sign-in was started" in failure(late) and "so it is stale" in failure(late)
    assert list((tmp_path / "state").iterdir()) == []  # the stale verifier is gone
