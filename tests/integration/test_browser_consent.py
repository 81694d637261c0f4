"""The service account's consent in a real Chromium: onboard.yml in browser mode listens on
localhost and prints the URL; the test opens it, fills the sandbox's sign-in, MFA and consent
pages, and the playbook ends with a working refresh token in Key Vault. Screenshots of every page
are kept in tests/output/browser/."""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import msal
import pytest

from conftest import ROOT, role_variables
from integration_helpers import CHROMIUM, launch_chromium, vault_client

SCREENSHOTS = ROOT / "tests" / "output" / "browser"
URL = re.compile(r"Sign in as the service account to consent \(waiting \d+ s\): (\S+)")

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason="Debian's chromium is not installed (apt-get install chromium chromium-driver)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_consent_in_chromium(ep, api, auto_approve, collections_path, tmp_path):
    playwright_api = pytest.importorskip("playwright.sync_api")
    port = free_port()
    variables = dict(role_variables(ep, "browser"), onboard_consent_mode="browser", onboard_open_browser=False,
                     onboard_redirect_uri=f"http://localhost:{port}", onboard_sign_in_timeout=120)
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(__import__("json").dumps(variables))
    vars_file.chmod(0o600)
    environment = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections_path), ANSIBLE_NOCOLOR="1",
                       ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_FORCE_COLOR="0", PYTHONUNBUFFERED="1")
    environment.pop("REQUESTS_CA_BUNDLE", None)
    playbook = subprocess.Popen(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
         str(ROOT / "playbooks" / "onboard.yml"), "-e", f"@{vars_file}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, env=environment,
        cwd=str(ROOT))
    output: list[str] = []
    found = threading.Event()

    def read():
        for line in playbook.stdout:
            output.append(line)
            if URL.search(line):
                found.set()
        found.set()
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert found.wait(180), "the playbook never printed the sign-in URL"
        match = next((URL.search(line) for line in output if URL.search(line)), None)
        assert match, "".join(output[-40:])
        auth_uri = match.group(1)
        assert auth_uri.startswith(ep["cloud"]["login"]) and "response_mode=form_post" in auth_uri
        # msal's listener serves one connection at a time. A connection that never sends anything
        # is held open for the whole sign-in: the listener must drop it, or the browser's post of
        # the code waits behind it and the sign-in fails (broken by: no idle limit on connections).
        with socket.create_connection(("127.0.0.1", port), timeout=30) as idle:
            sign_in_with_chromium(playwright_api, auth_uri, ep["accounts"]["service"], port)
            assert idle.recv(1) == b"", "the idle connection was not closed by the listener"
        assert playbook.wait(180) == 0, "".join(output[-60:])
    finally:
        if playbook.poll() is None:
            playbook.kill()
        reader.join(5)
    # The refresh token in Key Vault works: exchange it with the app's secret.
    vault = vault_client(ep)
    app_id = vault.get_secret("browser-app-id").value
    client = msal.ConfidentialClientApplication(
        app_id, client_credential=vault.get_secret("browser-client-secret").value, instance_discovery=False,
        authority=f"{ep['cloud']['login']}/{ep['partner_tenant_id']}", http_client=_session(ep))
    result = client.acquire_token_by_refresh_token(vault.get_secret("browser-refresh-token").value,
                                                   [ep["cloud"]["partner_center"] + "/user_impersonation"])
    assert "access_token" in result, result
    assert sorted(p.name for p in SCREENSHOTS.iterdir()) == ["1-sign-in.png", "2-mfa.png", "3-consent.png",
                                                             "4-done.png"]


def _session(ep):
    import requests
    session = requests.Session()
    session.trust_env = False
    session.verify = ep["ca_bundle"]
    return session


def sign_in_with_chromium(playwright_api, auth_uri, account, port):
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)  # screenshots of an earlier run prove nothing
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            # The sandbox's CA is made at its first start; a fresh browser profile does not trust it.
            context = browser.new_context(ignore_https_errors=True)
            page = context.new_page()
            page.goto(auth_uri)
            page.screenshot(path=str(SCREENSHOTS / "1-sign-in.png"))
            page.fill("#username", account["upn"])
            page.fill("#password", account["password"])
            page.click("#next")
            page.wait_for_selector("#otc")
            page.screenshot(path=str(SCREENSHOTS / "2-mfa.png"))
            page.fill("#otc", account["mfa_code"])
            page.click("#verify")
            page.wait_for_selector("#accept")
            page.screenshot(path=str(SCREENSHOTS / "3-consent.png"))
            page.click("#accept")
            # form_post: the page posts the code to msal's listener on localhost, which answers.
            page.wait_for_url(f"http://localhost:{port}/**", timeout=30000)
            page.wait_for_load_state()
            page.screenshot(path=str(SCREENSHOTS / "4-done.png"))
            assert "Authentication complete" in page.content()
        finally:
            browser.close()
