"""A service that echoes what it was sent: the token endpoint's error_description quotes the posted
form (client secret, refresh token, the rotated one in the customer fan-out). No credential value
may reach output, whichever plugin type carries the sentence: the access_token action, the lookup,
the fan-out's customer_errors that partner_token prints, the customer_access report files."""
from __future__ import annotations

import json
import re
from urllib.parse import quote, quote_plus

import pytest

from conftest import role_variables
from integration_helpers import vault_client

MASK = "********"


def forms(value: str) -> set[str]:
    """A value as a service may quote it: plain, form-encoded, and a long piece of it."""
    return {value, quote_plus(value), quote(value, safe=""), value[:24], value[-24:]}


def leaked(text: str, secrets: dict[str, str]) -> list[str]:
    return sorted(name for name, value in secrets.items() for form in forms(value) if form in text)


@pytest.fixture(scope="module")
def onboarded(run_playbook, ep, auto_approve):
    variables = role_variables(ep, "echo")
    run = run_playbook("playbooks/onboard.yml", variables)
    assert run.ok, run
    vault = vault_client(ep)
    return {"variables": variables,
            "app_id": vault.get_secret("echo-app-id").value,
            "client_secret": vault.get_secret("echo-client-secret").value}


@pytest.fixture()
def echoing(api):
    """echoing(path): the token endpoint of tenants matching path answers with the posted form."""
    def inject(path):
        api.call("POST", "/faults", {"service": "login", "path": path, "echo_form": True})
    yield inject
    api.call("DELETE", "/faults")


def _secrets(ep, onboarded, *refresh_tokens):
    secrets = {"client_secret": onboarded["client_secret"],
               "vault_client_secret": ep["principals"]["automation"]["client_secret"]}
    secrets.update({f"refresh_token_{n}": token for n, token in enumerate(refresh_tokens)})
    return secrets


def test_customer_errors_and_the_report_hold_no_echoed_secret(run_playbook, ep, api, onboarded, echoing, tmp_path):
    """Broken by: putting the service's error_description into a customer's error unredacted (the
    fan-out's customer_errors, printed by partner_token and written into the report)."""
    before = vault_client(ep).get_secret("echo-refresh-token").value
    customers = "|".join(re.escape(c["tenant_id"]) for c in ep["customers"])
    echoing(f"/({customers})/oauth2/v2.0/token$")
    report_dir = tmp_path / "report"
    run = run_playbook("playbooks/customers.yml", dict(onboarded["variables"], customer_access_report_dir=str(report_dir)),
                       verbosity=4)
    assert run.ok, run
    rotated = vault_client(ep).get_secret("echo-refresh-token").value
    assert rotated != before  # the customers were asked with the rotated token, which they echoed
    assert sum(rule["hits"] for rule in api.get("/faults")["faults"]) >= len(ep["customers"])
    reports = "".join(path.read_text() for path in sorted(report_dir.iterdir()))
    everything = run.stdout + run.stderr + json.dumps(run.records) + reports
    assert "Request body:" in everything and MASK in everything  # the echo arrived, masked
    assert leaked(everything, _secrets(ep, onboarded, before, rotated)) == []


def test_the_action_and_the_lookup_hold_no_echoed_secret(run_playbook, ep, onboarded, echoing):
    """Broken by: an action plugin or a lookup passing the service's sentence on as it is (Ansible's
    no_log masking covers a module's options only)."""
    refresh_token = vault_client(ep).get_secret("echo-refresh-token").value
    echoing(f"/{re.escape(ep['partner_tenant_id'])}/oauth2/v2.0/token$")
    arguments = {"client_id": onboarded["app_id"], "client_secret": onboarded["client_secret"],
                 "refresh_token": refresh_token, "resources": ["graph"]}
    action = run_playbook("access_token.yml", dict(arguments, use_lookup=False), verbosity=4)
    lookup = run_playbook("lookup_vars.yml", arguments, verbosity=4)
    for run in (action, lookup):
        assert not run.ok
        everything = run.stdout + run.stderr + json.dumps(run.records)
        assert "Request body:" in everything and MASK in everything
        assert leaked(everything, _secrets(ep, onboarded, refresh_token)) == []
