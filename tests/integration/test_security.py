"""What an attacker or an unlucky operator can do to a credential tool: each test names the defect
it guards against, and fails on a collection that has it."""
from __future__ import annotations

import datetime
import json
import os
import re
import signal
import stat
import subprocess
import time

import msal
import pytest

from conftest import ROOT, role_variables
from integration_helpers import failure, vault_client


def refresh_token_works(ep, app_id, secret, refresh_token, http) -> bool:
    client = msal.ConfidentialClientApplication(
        app_id, client_credential=secret, instance_discovery=False,
        authority=f"{ep['cloud']['login']}/{ep['partner_tenant_id']}", http_client=http)
    return "access_token" in client.acquire_token_by_refresh_token(
        refresh_token, [ep["cloud"]["partner_center"] + "/user_impersonation"])


# 1. A credential with a line break -------------------------------------------------------------
@pytest.mark.parametrize("suffix", ["\n", "\r\n", "\nX-Injected: 1"])
def test_a_token_with_a_line_break_is_never_printed(run_playbook, sam, ep, http, suffix):
    """Broken by: passing the token to requests unstripped, or putting an exception's text in the
    message (requests quotes the whole 'Bearer ...' header)."""
    token = _graph_token(ep, sam, http)
    run = run_playbook("api_info.yml", {"token": token + suffix})
    everything = run.stdout + run.stderr + json.dumps(run.records)
    assert token[:40] not in everything and token[-40:] not in everything
    if suffix.strip():  # a character inside the value: refused, without the value
        assert failure(run).startswith("access_token holds a space, line break or other character")
    else:  # white space around it: stripped, and the call works
        assert run.ok, run


def _graph_token(ep, sam, http):
    client = msal.ConfidentialClientApplication(
        sam["app_id"], client_credential=sam["secret"], instance_discovery=False,
        authority=f"{ep['cloud']['login']}/{ep['partner_tenant_id']}", http_client=http)
    return client.acquire_token_by_refresh_token(sam["refresh_token"], [ep["cloud"]["graph"] + "/.default"])[
        "access_token"]


# 2. Client secret rotation ---------------------------------------------------------------------
def test_secret_rotation_survives_a_failed_vault_write(run_playbook, ep, api, auto_approve, http):
    """Broken by: removing the old secret before the new one is stored (every later run fails with
    AADSTS7000215), or an onboarding that checks only that the vault holds some secret."""
    variables = role_variables(ep, "rotate")
    assert run_playbook("playbooks/onboard.yml", variables).ok
    vault = vault_client(ep)
    held = vault.get_secret("rotate-client-secret")
    app_id = vault.get_secret("rotate-app-id").value

    api.call("POST", "/faults", {"service": "vault", "method": "PUT", "path": "^/secrets/rotate-client-secret$",
                                 "drop": True})
    try:
        rotated = run_playbook("playbooks/onboard.yml", dict(variables, onboard_rotate_secret=True, onboard_retries=1))
    finally:
        api.call("DELETE", "/faults")
    assert not rotated.ok
    app = next(a for a in api.state()["applications"] if a["appId"] == app_id)
    assert held.properties.tags["key_id"] in {p["keyId"] for p in app["passwords"]}, "the held secret was removed"
    daily = run_playbook("playbooks/daily.yml", variables)
    assert daily.ok, daily  # the vault's secret still works

    repaired = run_playbook("playbooks/onboard.yml", variables)
    assert repaired.ok, repaired
    app = next(a for a in api.state()["applications"] if a["appId"] == app_id)
    stored = vault_client(ep).get_secret("rotate-client-secret")
    assert [p["keyId"] for p in app["passwords"]] == [stored.properties.tags["key_id"]], "orphan not removed"
    assert run_playbook("playbooks/daily.yml", variables).ok


def test_rotation_removes_the_old_secret_only_after_the_new_one_works(run_playbook, ep, api, auto_approve):
    variables = role_variables(ep, "rotate2")
    assert run_playbook("playbooks/onboard.yml", variables).ok
    vault = vault_client(ep)
    old_key_id = vault.get_secret("rotate2-client-secret").properties.tags["key_id"]
    rotated = run_playbook("playbooks/rotate_secret.yml", variables)
    assert rotated.ok, rotated
    stored = vault_client(ep).get_secret("rotate2-client-secret")
    new_key_id = stored.properties.tags["key_id"]
    app_id = vault.get_secret("rotate2-app-id").value
    app = next(a for a in api.state()["applications"] if a["appId"] == app_id)
    assert new_key_id != old_key_id and [p["keyId"] for p in app["passwords"]] == [new_key_id]
    names = [r["task"].split(" : ")[-1] for r in rotated.records if r["status"] != "skipped"]
    assert names.index("Store the new client secret in Key Vault") < names.index(
        "Check whether the stored refresh token still works") < names.index(
        "Remove the client secrets and certificates the vault does not hold")
    assert run_playbook("playbooks/daily.yml", variables).ok


# 4. The rotated refresh token is never dropped -------------------------------------------------
def test_partner_token_failing_on_customers_still_stores_the_rotated_token(run_playbook, ep, api, auto_approve, http):
    """Broken by: failing inside the exchange, before the write-back (the sandbox has customers that
    give no token, so the role fails)."""
    variables = role_variables(ep, "rolefail")
    assert run_playbook("playbooks/onboard.yml", variables).ok
    before = vault_client(ep).get_secret("rolefail-refresh-token").value
    run = run_playbook("playbooks/daily.yml", dict(variables, partner_token_fail_on_customer_error=True))
    message = failure(run) if not run.ok else pytest.fail("daily.yml did not fail")
    assert "customer tenants gave no token" in message
    vault = vault_client(ep)
    after = vault.get_secret("rolefail-refresh-token").value
    assert after != before
    assert refresh_token_works(ep, vault.get_secret("rolefail-app-id").value,
                               vault.get_secret("rolefail-client-secret").value, after, http)


def test_the_module_failing_on_customers_hands_back_the_rotated_token(run_playbook, sam, ep):
    run = run_playbook("access_token_fail_customers.yml", {
        "client_id": sam["app_id"], "client_secret": sam["secret"], "refresh_token": sam["refresh_token"],
        "customers": [c["tenant_id"] for c in ep["customers"]]})
    assert run.ok, run
    report = run.task("Report")["msg"]
    assert report["failed"] is True and report["rotated_returned"] is True
    assert "customer tenants gave no token" in report["message"]
    assert "customer tenants gave no token" in run.stdout  # the sentence is shown as a warning
    assert run.task("Exchange").get("_ansible_no_log") is True  # the result holds the token: hidden


def test_the_lookup_returns_the_rotated_token(run_playbook, sam):
    run = run_playbook("access_token.yml", {"client_id": sam["app_id"], "client_secret": sam["secret"],
                                            "refresh_token": sam["refresh_token"], "resources": ["graph"]})
    assert run.ok, run
    assert run.task("The lookup gives the same kind of token")["msg"]["lookup_rotated"] is True


def test_check_mode_still_stores_the_rotated_token(run_playbook, ep, auto_approve):
    variables = role_variables(ep, "checkrt")
    assert run_playbook("playbooks/onboard.yml", variables).ok
    before = vault_client(ep).get_secret("checkrt-refresh-token").value
    assert run_playbook("playbooks/daily.yml", variables, check=True).ok
    assert vault_client(ep).get_secret("checkrt-refresh-token").value != before


# 3. Bounded waits ------------------------------------------------------------------------------
def test_a_long_retry_after_ends_the_call_with_a_sentence(run_playbook, sam, api):
    """Broken by: sleeping whatever Retry-After says (six times 120 s)."""
    api.call("POST", "/faults", {"service": "login", "path": "/token$", "status": 429, "retry_after": 120})
    try:
        run = run_playbook("access_token.yml", {"client_id": sam["app_id"], "client_secret": sam["secret"],
                                                "refresh_token": sam["refresh_token"], "use_lookup": False},
                           timeout=120)
    finally:
        api.call("DELETE", "/faults")
    message = failure(run)
    assert "asked to wait 120 s before a retry (Retry-After, after HTTP 429), longer than max_retry_wait (60 s)" \
        in message


# 5. Tenants ------------------------------------------------------------------------------------
@pytest.mark.parametrize("customer", ["common", "organizations", "consumers", "x.onmicrosoft.com/../common",
                                      "contoso.com?x=1", "contoso.com#x", "contoso.com\nHost: evil"])
def test_a_customer_that_is_not_a_tenant_is_refused(run_playbook, sam, customer):
    """Broken by: putting the value into the authority unchecked (Entra then answers for the
    partner tenant, and the token is filed under the customer's key)."""
    run = run_playbook("access_token.yml", {"client_id": sam["app_id"], "client_secret": sam["secret"],
                                            "refresh_token": sam["refresh_token"], "use_lookup": False,
                                            "customers": [customer]})
    assert "is not a tenant: give the tenant's id (a GUID) or a verified domain" in failure(run)


def test_a_partner_tenant_alias_is_refused(run_playbook, sam):
    run = run_playbook("access_token.yml", {"client_id": sam["app_id"], "client_secret": sam["secret"],
                                            "refresh_token": sam["refresh_token"], "use_lookup": False,
                                            "tenant": "organizations"})
    assert failure(run).startswith("tenant_id 'organizations' is not a tenant")


def test_a_customer_token_from_another_tenant_is_dropped(run_playbook, sam, ep):
    """The partner's own domain given as a customer: the token comes from the partner tenant, so it
    is not filed as a customer's."""
    run = run_playbook("access_token.yml", {"client_id": sam["app_id"], "client_secret": sam["secret"],
                                            "refresh_token": sam["refresh_token"], "use_lookup": False,
                                            "customers": [ep["partner_domain"]], "resources": ["graph"]})
    assert run.ok, run
    [customer] = run.task("Report")["msg"]["customers"]
    assert customer["error_code"] == "wrong_tenant" and customer["tenant_id"] == ep["partner_domain"]


# 8. Key Vault errors ---------------------------------------------------------------------------
def test_a_wrong_vault_credential_has_its_own_sentence(run_playbook, ep):
    principal = dict(ep["principals"]["automation"], client_secret="not-the-secret")
    message = failure(run_playbook("keyvault_info.yml", {"names": ["x"], "principal": principal}))
    assert "could not get a token (Entra said AADSTS7000215)" in message and "HTTP None" not in message


def test_a_vault_tls_failure_has_its_own_sentence(run_playbook, ep, tmp_path):
    """The sandbox's certificate checked against the system CAs only."""
    message = failure(run_playbook("keyvault_info.yml", {"names": ["x"], "principal": ep["principals"]["automation"],
                                                         "ca_override": "/etc/ssl/certs/ca-certificates.crt"}))
    assert "TLS verification failed" in message and "cannot reach" not in message


# 9. Secret role options ------------------------------------------------------------------------
SECRET_OPTION = re.compile(r"(secret|token|code|password)$")


def test_every_secret_role_option_is_no_log():
    """Broken by: a role option that holds a secret without no_log in its argument spec (ansible-core
    then treats its value as printable: in validation results and warnings of some versions)."""
    import yaml
    checked = []
    for spec_file in sorted((ROOT / "roles").glob("*/meta/argument_specs.yml")):
        for name, option in yaml.safe_load(spec_file.read_text())["argument_specs"]["main"]["options"].items():
            if SECRET_OPTION.search(name) and option.get("type", "str") == "str":
                checked.append(name)
                assert option.get("no_log") is True, f"{spec_file.parent.parent.name}: {name} is not no_log"
    assert {"onboard_admin_graph_token", "onboard_admin_vault_token", "onboard_admin_client_secret",
            "onboard_consent_code", "partner_token_vault_client_secret"} <= set(checked)


# 10. The sandbox's state -----------------------------------------------------------------------
def test_the_sandbox_state_is_private(sandbox):
    state_dir = sandbox.state_dir
    assert stat.S_IMODE(os.stat(state_dir).st_mode) == 0o700
    for name in ("sandbox.db", "endpoints.json"):
        assert stat.S_IMODE(os.stat(state_dir / name).st_mode) == 0o600, name


# 12. Nothing left in temporary folders ---------------------------------------------------------
def test_a_killed_run_leaves_no_module_file_with_secrets(run_playbook, ep, api, auto_approve, tmp_path):
    """Broken by: running the playbooks without pipelining. The module file, its arguments (the
    client secret, the refresh token) inside, then sits in the remote temporary folder while the
    task runs, and stays there when the run is killed."""
    variables = role_variables(ep, "pipelined")
    assert run_playbook("playbooks/onboard.yml", variables).ok
    secrets = [vault_client(ep).get_secret("pipelined-client-secret").value,
               ep["principals"]["automation"]["client_secret"]]
    remote = tmp_path / "remote"
    command, environment, _records = run_playbook.prepare(
        "playbooks/daily.yml", variables, env={"ANSIBLE_REMOTE_TMP": str(remote)})
    api.call("POST", "/faults", {"service": "login", "path": "/token$", "latency_ms": 20000})
    playbook = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        # Until the exchange waits on the slow token endpoint: the sandbox counts that request.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _slow_token_request_seen(api):
            time.sleep(0.2)
        assert _slow_token_request_seen(api), "the run never reached the token exchange"
        time.sleep(1)
    finally:
        os.killpg(playbook.pid, signal.SIGKILL)
        playbook.wait()
        api.call("DELETE", "/faults")
    leftovers = [p for p in remote.rglob("*") if p.is_file()] if remote.exists() else []
    assert not [p for p in leftovers if any(s in p.read_text(errors="ignore") for s in secrets)], leftovers


def _slow_token_request_seen(api) -> bool:
    return any(rule.get("hits") for rule in api.get("/faults")["faults"])


# Lifecycle ---------------------------------------------------------------------------------------
def test_partner_token_warns_before_the_secret_or_the_refresh_token_ages_out(run_playbook, ep, auto_approve):
    """Broken by: warnings that never fire (a wrong date format or comparison) or always fire."""
    variables = role_variables(ep, "aging")
    assert run_playbook("playbooks/onboard.yml", variables).ok
    quiet = run_playbook("playbooks/daily.yml", variables)
    assert quiet.ok, quiet
    assert quiet.task("Warn when the client secret or certificate expires soon").get("skip_reason")
    assert quiet.task("Warn when the stored refresh token had not been used for long").get("skip_reason")

    vault = vault_client(ep)
    # Tags that are not UTC times (secrets stored by hand) are ignored, never a failed run.
    for name, tag in (("aging-client-secret", "expires"), ("aging-refresh-token", "rotated")):
        stored = vault.get_secret(name)
        vault.update_secret_properties(name, stored.properties.version,
                                       tags=dict(stored.properties.tags, **{tag: "next spring"}))
    odd = run_playbook("playbooks/daily.yml", variables)
    assert odd.ok, odd
    assert odd.task("Warn when the client secret or certificate expires soon").get("skip_reason")
    now = datetime.datetime.now(datetime.timezone.utc)
    secret = vault.get_secret("aging-client-secret")
    vault.update_secret_properties("aging-client-secret", secret.properties.version, tags=dict(
        secret.properties.tags, expires=(now + datetime.timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%S.1234567Z")))
    token = vault.get_secret("aging-refresh-token")
    last_used = now - datetime.timedelta(days=70)
    vault.update_secret_properties("aging-refresh-token", token.properties.version, tags=dict(
        token.properties.tags, rotated=last_used.strftime("%Y-%m-%dT%H:%M:%SZ")))
    warned = run_playbook("playbooks/daily.yml", variables)
    assert warned.ok, warned
    expiry = (now + datetime.timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%S")
    assert f"expires on {expiry}Z, within 30 days" in warned.task("Warn when the client secret or certificate expires soon")["msg"]
    stops = (last_used + datetime.timedelta(days=90)).strftime("%Y-%m-%d")
    message = warned.task("Warn when the stored refresh token had not been used for long")["msg"]
    assert f"last used on {last_used.strftime('%Y-%m-%dT%H:%M:%SZ')}" in message and f"working on {stops}" in message
