"""The SAM flow module by module: setup, consent modes, token exchange, Key Vault."""
from __future__ import annotations

from integration_helpers import no_traceback
from sandbox.testing import sign_in


def test_setup_stores_everything(sam, api, ep):
    assert sam["report"]["upn"] == ep["accounts"]["service"]["upn"] and sam["report"]["mfa"] is True
    state = api.state()
    admin_agents = next(g for g in state["groups"] if g["displayName"] == "AdminAgents")
    assert sam["sp_id"] in admin_agents["members"]
    tags = {s["name"]: s["tags"] for s in state["secrets"]}
    assert tags["flows-client-secret"] == {"app_id": sam["app_id"]}
    assert tags["flows-refresh-token"]["upn"] == ep["accounts"]["service"]["upn"]


def test_admin_agents_is_idempotent_and_check_mode_safe(run_playbook, api, sam):
    again = run_playbook("admin_agents.yml", {"app_id": sam["app_id"]})
    assert again.ok, again
    assert again.task("Membership")["changed"] is False
    checked = run_playbook("admin_agents.yml", {"app_id": sam["app_id"], "member_state": "absent"}, check=True)
    assert checked.task("Membership")["changed"] is True
    admin_agents = next(g for g in api.state()["groups"] if g["displayName"] == "AdminAgents")
    assert sam["sp_id"] in admin_agents["members"]


def test_admin_agents_without_the_group(run_playbook, sam):
    failed = run_playbook("admin_agents.yml", {"app_id": sam["app_id"], "group_name": "NoSuchGroup"})
    assert not failed.ok
    expected = "The tenant has no 'NoSuchGroup' group, so it is not a Partner Center partner tenant"
    assert failed.failed_task()["msg"].startswith(expected)
    no_traceback(failed)


def test_exchange_three_resources_and_customers(run_playbook, sam, ep):
    customers = [c["tenant_id"] for c in ep["customers"]]
    run = run_playbook("access_token.yml", {"client_id": sam["app_id"], "client_secret": sam["secret"],
                                            "refresh_token": sam["refresh_token"], "customers": customers})
    assert run.ok, run
    report = run.task("Report")["msg"]
    assert report["resources"] == ["azure", "graph", "partner_center"]
    assert all(length > 100 for length in report["token_lengths"])
    assert report["rotated"] is True
    assert report["identity"]["upn"] == ep["accounts"]["service"]["upn"] and report["identity"]["mfa"] is True
    by_relationship = {c["relationship"]: c["tenant_id"] for c in ep["customers"]}
    outcome = {c["tenant_id"]: c for c in report["customers"]}
    assert outcome[by_relationship["DAP"]]["error"] is None
    assert "no consent for this resource" in outcome[by_relationship["GDAP"]]["error"]
    assert outcome[by_relationship["GDAP"]]["error_code"] == "AADSTS65001"
    assert "no access to tenant" in outcome[by_relationship["none"]]["error"]
    resources = dict(zip([c["tenant_id"] for c in report["customers"]], report["customer_resources"]))
    assert sorted(resources[by_relationship["DAP"]]) == ["azure", "graph", "partner_center"]
    lookup = run.task("The lookup gives the same kind of token")["msg"]
    assert lookup["lookup_scope"].endswith("/user_impersonation") and lookup["lookup_tenant"] == ep["partner_tenant_id"]


def test_customer_failure_can_fail_the_task(run_playbook, sam, ep):
    none = next(c["tenant_id"] for c in ep["customers"] if c["relationship"] == "none")
    run = run_playbook("access_token.yml", {"client_id": sam["app_id"], "client_secret": sam["secret"],
                                            "refresh_token": sam["refresh_token"], "customers": [none],
                                            "fail_on_customer_error": True, "use_lookup": False})
    assert not run.ok
    # The failed result carries the rotated refresh token, so it is hidden; its sentence is a warning.
    assert run.failed_task().get("_ansible_no_log") is True
    assert f"1 of 1 customer tenants gave no token; first, {none}:" in run.stdout
    no_traceback(run)


def test_consent_device_code_requires_mfa(run_playbook, api, ep, sam):
    api.call("PUT", "/auto-approve", [{"upn": ep["accounts"]["nomfa"]["upn"]}])
    try:
        run = run_playbook("consent.yml", {"client_id": sam["app_id"]})
    finally:
        api.call("PUT", "/auto-approve", [
            {"upn": ep["accounts"]["admin"]["upn"], "client_id": "04b07795-8ddb-461a-bbee-02f9e1bf7b46"},
            {"upn": ep["accounts"]["service"]["upn"]}])
    assert not run.ok
    expected = f"{ep['accounts']['nomfa']['upn']} signed in without multi-factor authentication"
    assert run.failed_task()["msg"].startswith(expected)
    no_traceback(run)


def test_consent_code_mode_with_the_pasted_redirect_url(run_playbook, ep, sam, http, tmp_path):
    state_dir = str(tmp_path / "consent-state")
    first = run_playbook("consent.yml", {"client_id": sam["app_id"], "client_secret": sam["secret"],
                                         "mode": "code", "state_dir": state_dir})
    assert not first.ok
    message = first.failed_task()["msg"]
    assert message.startswith("Open this URL in a browser, sign in as the service account and consent")
    auth_uri = message.split("URL: ", 1)[1].strip()
    account = ep["accounts"]["service"]
    redirect = sign_in(http, auth_uri, account["upn"], account["password"], account["mfa_code"])["redirect"]
    assert redirect.startswith("http://localhost:8400") and "code=" in redirect
    second = run_playbook("consent.yml", {"client_id": sam["app_id"], "client_secret": sam["secret"],
                                          "mode": "code", "state_dir": state_dir, "code": redirect})
    assert second.ok, second
    report = second.task("Report")["msg"]
    assert report["upn"] == account["upn"] and report["mfa"] is True and report["has_refresh_token"] is True
    assert list((tmp_path / "consent-state").iterdir()) == []  # the pending flow is gone


def test_pending_consent_file_is_private(run_playbook, sam, tmp_path):
    state_dir = tmp_path / "private"
    run_playbook("consent.yml", {"client_id": sam["app_id"], "client_secret": sam["secret"], "mode": "code",
                                 "state_dir": str(state_dir)})
    [pending] = list(state_dir.iterdir())
    assert pending.stat().st_mode & 0o777 == 0o600
    assert state_dir.stat().st_mode & 0o777 == 0o700


def test_consent_skipped_in_check_mode(run_playbook, sam):
    run = run_playbook("consent.yml", {"client_id": sam["app_id"]}, check=True)
    assert run.ok, run
    assert run.records[0]["task"] == "Consent" and run.records[0]["status"] == "skipped"
    assert "skipped in check mode" in run.records[0]["result"]["msg"]


def test_keyvault_set_is_idempotent_and_versions_only_on_value(run_playbook, ep, api):
    common = {"principal": ep["principals"]["automation"], "secret_name": "kv-idem"}
    first = run_playbook("keyvault.yml", dict(common, secret_value="one", tags={"a": "1"}))
    assert first.ok, first
    assert first.task("Report")["msg"]["changed"] is True
    version = first.task("Report")["msg"]["version"]
    again = run_playbook("keyvault.yml", dict(common, secret_value="one", tags={"a": "1"}))
    assert again.task("Report")["msg"]["changed"] is False
    retagged = run_playbook("keyvault.yml", dict(common, secret_value="one", tags={"a": "2"}))
    report = retagged.task("Report")["msg"]
    assert (report["changed"], report["version"], report["tags"]) == (True, version, {"a": "2"})
    writes = api.get("/writes")["counts"]
    checked = run_playbook("keyvault.yml", dict(common, secret_value="two"), check=True)
    assert checked.task("Report")["msg"]["changed"] is True
    assert api.get("/writes")["counts"] == writes
    changed = run_playbook("keyvault.yml", dict(common, secret_value="two"))
    assert changed.task("Report")["msg"]["version"] != version
    assert changed.task("Report")["msg"]["tags"] == {"a": "2"}  # tags carried to the new version
    versions = [s for s in api.state()["secrets"] if s["name"] == "kv-idem"]
    assert len(versions) == 2
    read = run_playbook("keyvault_info.yml", {"principal": common["principal"], "names": ["kv-idem"],
                                              "expected_value": "two"}, verbosity=1)
    assert read.ok, read
    assert read.task("Report")["msg"] == {"names": ["kv-idem"], "missing": [], "value_matches": True}
    assert "the output has been hidden" in read.stdout


def test_keyvault_absent_then_recover_on_set(run_playbook, ep, api):
    common = {"principal": ep["principals"]["automation"], "secret_name": "kv-deleted"}
    run_playbook("keyvault.yml", dict(common, secret_value="v"))
    deleted = run_playbook("keyvault.yml", dict(common, secret_state="absent"))
    assert deleted.task("Report")["msg"]["changed"] is True
    missing = run_playbook("keyvault_info.yml", {"principal": common["principal"], "names": ["kv-deleted"]})
    assert missing.failed_task()["msg"].startswith("Secret 'kv-deleted' was not found in")
    tolerated = run_playbook("keyvault_info.yml", {"principal": common["principal"], "names": ["kv-deleted"],
                                                   "fail_on_missing": False})
    assert tolerated.task("Report")["msg"]["missing"] == ["kv-deleted"]
    refused = run_playbook("keyvault.yml", dict(common, secret_value="v", recover_deleted=False))
    assert "is soft-deleted" in refused.failed_task()["msg"]
    writes = api.get("/writes")["counts"].get("vault", 0)
    recovered = run_playbook("keyvault.yml", dict(common, secret_value="v"))
    # Broken by: a module that never recovers (the read below fails), or one that recovers but
    # reports no change (the value was already right).
    assert recovered.ok and recovered.task("Report")["msg"]["changed"] is True
    assert api.get("/writes")["counts"].get("vault", 0) > writes
    readable = run_playbook("keyvault_info.yml", {"principal": common["principal"], "names": ["kv-deleted"],
                                                  "expected_value": "v"})
    assert readable.ok and readable.task("Report")["msg"]["value_matches"] is True
    purged = run_playbook("keyvault.yml", dict(common, secret_state="absent", purge=True))
    assert purged.ok and not [s for s in api.state()["secrets"] if s["name"] == "kv-deleted"]


def test_keyvault_access_denied_and_unreachable(run_playbook, ep):
    denied = run_playbook("keyvault.yml", {"principal": ep["principals"]["no_vault_access"], "secret_name": "x",
                                           "secret_value": "a-longer-value"})
    assert "access denied by" in denied.failed_task()["msg"]
    assert "grant it secret permissions" in denied.failed_task()["msg"]
    unreachable = run_playbook("keyvault.yml", {"principal": ep["principals"]["automation"], "secret_name": "x",
                                                "secret_value": "a-longer-value", "vault_url": "https://127.0.0.1:9"})
    assert "check vault_url" in unreachable.failed_task()["msg"]
    no_traceback(denied)
    no_traceback(unreachable)


def test_the_fan_out_makes_one_token_request_per_tenant_and_resource(run_playbook, sam, ep, api):
    """Broken by: an msal application (and so a discovery request) per customer tenant, or a
    second token request for a tenant."""
    customers = [c["tenant_id"] for c in ep["customers"]]
    before = api.get("/counters")["counters"]
    run = run_playbook("access_token.yml", {"client_id": sam["app_id"], "client_secret": sam["secret"],
                                            "refresh_token": sam["refresh_token"], "use_lookup": False,
                                            "customers": customers, "resources": ["graph", "azure"]})
    assert run.ok, run
    after = api.get("/counters")["counters"]
    report = run.task("Report")["msg"]
    reachable = [c for c in report["customers"] if not c["error"]]
    assert reachable and len(reachable) < len(customers)
    # Two resources: the partner and each reachable customer ask twice; a customer that refuses
    # the first is not asked again.
    expected = 2 + 2 * len(reachable) + (len(customers) - len(reachable))
    assert after.get("token_requests", 0) - before.get("token_requests", 0) == expected
    assert after.get("discovery_requests", 0) - before.get("discovery_requests", 0) == 1


def test_a_long_fan_out_shows_progress_without_tokens(run_playbook, sam, ep, api):
    """Broken by: a fan-out that prints nothing until it ends (the module form could not print)."""
    customers = [c["tenant_id"] for c in ep["customers"]]
    api.call("POST", "/faults", {"service": "login", "path": "/token$", "latency_ms": 2200})
    try:
        run = run_playbook("access_token.yml", {"client_id": sam["app_id"], "client_secret": sam["secret"],
                                                "refresh_token": sam["refresh_token"], "use_lookup": False,
                                                "customers": customers, "resources": ["graph"], "concurrency": 1})
    finally:
        api.call("DELETE", "/faults")
    assert run.ok, run
    lines = [line for line in run.stdout.splitlines() if "customer tenants done" in line]
    assert lines and lines[-1].startswith(f"Exchange: {len(customers)}/{len(customers)} customer tenants done, ")
    assert "eyJ" not in run.stdout


def test_lookup_templates_its_variables(run_playbook, ep, sam):
    """partnercenter_* variables whose values are templates ('{{ client_id }}'): fails if the
    lookup uses them as written (ansible-core 2.19 hands lookups the variables untemplated)."""
    run = run_playbook("lookup_vars.yml", {"client_id": sam["app_id"], "client_secret": sam["secret"],
                                           "refresh_token": sam["refresh_token"]})
    assert run.ok, run
    msg = run.task("Token from variables only")["msg"]
    assert msg["tenant"] == ep["partner_tenant_id"] and msg["scope"].startswith(ep["cloud"]["graph"])


def test_a_purge_failing_after_the_delete_says_the_secret_is_deleted(run_playbook, ep, api):
    """state=absent with purge is two writes: fails if the purge's failure hides that the delete
    went through (the task must say changed, and the sentence what the vault holds)."""
    common = {"principal": ep["principals"]["automation"], "secret_name": "kv-half-purged"}
    assert run_playbook("keyvault.yml", dict(common, secret_value="v")).ok
    api.call("PUT", "/faults", [{"service": "vault", "method": "DELETE", "path": "^/deletedsecrets/",
                                 "status": 403, "count": 1}])
    try:
        half = run_playbook("keyvault.yml", dict(common, secret_state="absent", purge=True))
    finally:
        api.call("DELETE", "/faults")
    failed = half.failed_task()
    assert failed["changed"] is True and failed["diff"] == {"before": {"name": "kv-half-purged"}, "after": {}}
    assert failed["msg"].startswith("Failed to purge secret 'kv-half-purged'")
    assert failed["msg"].endswith("; secret 'kv-half-purged' was deleted first, so it is soft-deleted (recoverable) "
                                  "and not purged: run the task again to purge it.")
    [left] = [s for s in api.state()["secrets"] if s["name"] == "kv-half-purged"]
    assert left["deleted"] is True
    assert run_playbook("keyvault.yml", dict(common, secret_state="absent", purge=True)).ok
    assert not [s for s in api.state()["secrets"] if s["name"] == "kv-half-purged"]
