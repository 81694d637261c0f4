"""What the integration tests read back from the sandbox with the unmodified Azure libraries."""
from __future__ import annotations

import shutil

from azure.core.pipeline.transport import RequestsTransport
from azure.identity import ClientSecretCredential
from azure.keyvault.secrets import SecretClient


def vault_client(ep, principal="automation"):
    spec = ep["principals"][principal]
    transport = RequestsTransport(connection_verify=ep["ca_bundle"])
    credential = ClientSecretCredential(spec["tenant_id"], spec["client_id"], spec["client_secret"],
                                        authority=ep["cloud"]["login"], disable_instance_discovery=True,
                                        transport=RequestsTransport(connection_verify=ep["ca_bundle"]))
    return SecretClient(ep["vault_url"], credential, transport=transport)


def no_traceback(run):
    text = run.stdout + run.stderr
    assert "Traceback" not in text and "File \"/" not in text, text[-3000:]


def failure(run) -> str:
    """The sentence of a run's failed task, checked to be one line ending with a period, with no
    traceback anywhere in the output."""
    assert not run.ok, run
    no_traceback(run)
    message = run.failed_task()["msg"]
    assert "\n" not in message and message.endswith("."), message
    return message


# Debian's chromium, driven by playwright, for the tests that use a real browser.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def launch_chromium(playwright):
    """Headless Chromium without what would reach out of the machine (sync, updates, QUIC)."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
              "--no-first-run", "--disable-sync", "--disable-quic"])
