"""Customers as an inventory (partnercenter.secure_app.customers), the api module that writes in
them, and the worked example over that inventory: real ansible-inventory and ansible-playbook
runs against a sandbox of their own, with every kind of customer."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, playbook_runner, role_variables
from integration_helpers import no_traceback
from sandbox import catalog
from sandbox import testing as sandbox_testing

KINDS = ["dap", "gdap_ready", "none", "gdap_consented", "gdap_no_consent_role", "gdap_no_group", "gdap_expired",
         "gdap_expiring"]
CUSTOMERS = 12  # every kind, and a second page of customers at a page size of 5
EXPECTED_SITUATION = {"dap": "dap", "none": "no_relationship", "gdap_expired": "gdap_ended",
                      "gdap_expiring": "gdap_expiring"}


@pytest.fixture(scope="module")
def world(tmp_path_factory, collections_path):
    """A sandbox of its own, onboarded with the onboard playbook (its secrets named inv-*)."""
    process = sandbox_testing.SandboxProcess(tmp_path_factory.mktemp("inventory-sandbox"), "--customers", str(CUSTOMERS))
    process.start()
    try:
        ep = process.endpoints
        api = sandbox_testing.TestApi(ep)
        api.call("PUT", "/auto-approve", [
            {"upn": ep["accounts"]["admin"]["upn"], "client_id": catalog.AZURE_CLI_APP_ID},
            {"upn": ep["accounts"]["service"]["upn"]}])
        run = playbook_runner(ep, collections_path, tmp_path_factory.mktemp("inventory-runs"))
        variables = role_variables(ep, "inv")
        onboarded = run("playbooks/onboard.yml", variables)
        assert onboarded.ok, onboarded
        api.call("PUT", "/auto-approve", [])
        yield {"ep": ep, "api": api, "run": run, "variables": variables, "workdir": tmp_path_factory.mktemp("inv")}
    finally:
        process.stop()


def source(world, name="customers.partnercenter.yml", **options):
    ep = world["ep"]
    vault = ep["principals"]["automation"]
    config = {"plugin": "partnercenter.secure_app.customers", "vault_url": ep["vault_url"],
              "cloud_endpoints": ep["cloud"], "ca_bundle": ep["ca_file"],
              "secret_names": world["variables"]["partner_token_secret_names"],
              "vault_tenant_id": vault["tenant_id"], "vault_client_id": vault["client_id"],
              "vault_client_secret": vault["client_secret"], **options}
    config = {key: value for key, value in config.items() if value is not None}  # None: the option left out
    path = world["workdir"] / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        yaml.safe_dump(config, handle)
    return path


def environment(collections_path, workdir, **extra):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections_path), ANSIBLE_NOCOLOR="1",
               ANSIBLE_HOME=str(workdir / "home"), ANSIBLE_LOCAL_TEMP=str(workdir / "tmp"),
               ANSIBLE_DEPRECATION_WARNINGS="0", ANSIBLE_INVENTORY_ENABLED="partnercenter.secure_app.customers",
               ANSIBLE_INVENTORY_UNPARSED_FAILED="1")
    env.pop("REQUESTS_CA_BUNDLE", None)
    env.update(extra)
    return env


def inventory(world, collections_path, path, *arguments, **extra_env):
    command = [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(path), *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, cwd=str(ROOT),
                          env=environment(collections_path, world["workdir"], **extra_env))


def plain(value):
    """ansible-inventory marks values that came from an API as unsafe (never templated):
    {"__ansible_unsafe": value}. The tests read the values themselves."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def listing(world, collections_path, path, **extra_env):
    done = inventory(world, collections_path, path, "--list", **extra_env)
    assert done.returncode == 0, done.stderr[-3000:]
    return plain(json.loads(done.stdout)), done


def kind_of(world):
    return {c["tenant_id"]: c["kind"] for c in world["ep"]["customers"]}


def group_members(data, group):
    return set(data.get(group, {}).get("hosts", []))


def test_every_customer_is_a_host_with_its_variables(world, collections_path):
    data = listing(world, collections_path, source(world))[0]
    hostvars = data["_meta"]["hostvars"]
    customers = world["ep"]["customers"]
    assert set(hostvars) == {c["domain"] for c in customers}
    for customer in customers:
        variables = hostvars[customer["domain"]]
        assert variables["partnercenter_customer_tenant_id"] == customer["tenant_id"]
        assert variables["partnercenter_customer_name"] == customer["name"]
        assert variables["partnercenter_customer_domains"] == [customer["domain"]]
        gdap = variables["partnercenter_gdap"]
        assert gdap["situation"] == EXPECTED_SITUATION.get(customer["kind"], "gdap_active"), customer
        if customer["kind"] not in ("dap", "none"):
            assert gdap["relationship_id"] and gdap["end_date"] and gdap["status"] in ("active", "expired")
            assert "Directory Readers" in gdap["roles"]
        # without details nothing per customer was read
        assert gdap["consented"] is None and gdap["covered"] is None


def test_groups_by_gdap_situation(world, collections_path):
    data = listing(world, collections_path, source(world))[0]
    by_domain = {c["domain"]: c["kind"] for c in world["ep"]["customers"]}
    assert group_members(data, "dap") == {d for d, k in by_domain.items() if k == "dap"}
    assert group_members(data, "no_relationship") == {d for d, k in by_domain.items() if k == "none"}
    assert group_members(data, "gdap_ended") == {d for d, k in by_domain.items() if k == "gdap_expired"}
    assert group_members(data, "gdap_expiring") == {d for d, k in by_domain.items() if k == "gdap_expiring"}
    assert set(data["gdap_usable"]["children"]) == {"gdap_active", "gdap_expiring"}
    assert set(data["customers"]["hosts"]) == set(by_domain)
    graph = inventory(world, collections_path, source(world), "--graph")
    assert graph.returncode == 0, graph.stderr
    for situation in ("gdap_active", "gdap_expiring", "gdap_ended", "dap", "no_relationship"):
        assert f"@{situation}:" in graph.stdout
    assert all(domain in graph.stdout for domain in by_domain)


def test_details_say_consent_and_coverage(world, collections_path):
    data = listing(world, collections_path, source(world, gdap_details=True))[0]
    by_domain = {c["domain"]: c["kind"] for c in world["ep"]["customers"]}
    hostvars = data["_meta"]["hostvars"]
    consented = {d for d, k in by_domain.items() if k in ("gdap_consented", "gdap_expiring")}
    assert group_members(data, "sam_consented") == consented
    not_consented = {d for d, k in by_domain.items()
                     if k in ("dap", "gdap_ready", "gdap_no_consent_role", "gdap_no_group")}
    # DAP customers are reached through AdminAgents: Partner Center lists no application consent there.
    assert group_members(data, "sam_not_consented") == not_consented
    assert group_members(data, "gdap_uncovered") == {d for d, k in by_domain.items() if k == "gdap_no_group"}
    helpdesk = next(d for d, k in by_domain.items() if k == "gdap_no_consent_role")
    assert hostvars[helpdesk]["partnercenter_gdap"]["roles"] == ["Directory Readers", "Helpdesk Administrator"]


def test_constructed_options(world, collections_path):
    path = source(world, "constructed.partnercenter.yml", strict=True,
                  filters=["partnercenter_gdap.situation != 'no_relationship'"],
                  compose={"relationship_ends": "partnercenter_gdap.end_date"},
                  groups={"can_consent": "'Cloud Application Administrator' in partnercenter_gdap.roles"},
                  keyed_groups=[{"key": "partnercenter_gdap.status | default('none', true)", "prefix": "status"}])
    data = listing(world, collections_path, path)[0]
    hostvars = data["_meta"]["hostvars"]
    by_domain = {c["domain"]: c["kind"] for c in world["ep"]["customers"]}
    assert set(hostvars) == {d for d, k in by_domain.items() if k != "none"}
    expired = next(d for d, k in by_domain.items() if k == "gdap_expired")
    assert hostvars[expired]["relationship_ends"] == hostvars[expired]["partnercenter_gdap"]["end_date"]
    assert group_members(data, "status_expired") == {expired}
    assert group_members(data, "status_none") == {d for d, k in by_domain.items() if k == "dap"}
    assert group_members(data, "can_consent") == {d for d, k in by_domain.items()
                                                  if k in ("gdap_ready", "gdap_consented", "gdap_no_group",
                                                           "gdap_expired", "gdap_expiring")}


def test_no_token_anywhere_and_the_refresh_token_written_back(world, collections_path):
    api = world["api"]
    names = world["variables"]["partner_token_secret_names"]
    before = [s for s in api.state()["secrets"] if s["name"] == names["refresh_token"]]
    cache_dir = world["workdir"] / "cache"
    path = source(world, "cached.partnercenter.yml", cache=True, cache_plugin="ansible.builtin.jsonfile",
                  cache_connection=str(cache_dir), cache_timeout=3600)
    data, done = listing(world, collections_path, path)
    after = [s for s in api.state()["secrets"] if s["name"] == names["refresh_token"]]
    assert len(after) == len(before) + 1 and "rotated" in after[-1]["tags"], "the rotated refresh token is stored"
    cached = "".join(p.read_text() for p in cache_dir.iterdir())
    assert "partnercenter_gdap" not in cached and "gdap" in cached  # the records, not the built inventory
    for text in (json.dumps(data), done.stdout, done.stderr, cached):
        assert "eyJ" not in text  # no JWT (access token) anywhere
        assert world["ep"]["principals"]["automation"]["client_secret"] not in text


def test_cache_is_used(world, collections_path):
    api = world["api"]
    cache_dir = world["workdir"] / "cache2"
    path = source(world, "cache2.partnercenter.yml", cache=True, cache_plugin="ansible.builtin.jsonfile",
                  cache_connection=str(cache_dir), cache_timeout=3600)
    first = listing(world, collections_path, path)[0]
    counters = api.get("/counters")["counters"]
    second = listing(world, collections_path, path)[0]
    assert second == first
    assert api.get("/counters")["counters"]["token_requests"] == counters["token_requests"], "the cache answered"
    refreshed = inventory(world, collections_path, path, "--list", "--flush-cache")
    assert refreshed.returncode == 0, refreshed.stderr
    assert api.get("/counters")["counters"]["token_requests"] > counters["token_requests"]


def test_a_wrong_vault_secret_name_is_one_sentence(world, collections_path):
    path = source(world, "wrong.partnercenter.yml",
                  secret_names=dict(world["variables"]["partner_token_secret_names"], app_id="no-such-secret"))
    done = inventory(world, collections_path, path, "--list")
    assert done.returncode != 0
    assert "Secret 'no-such-secret' was not found in" in done.stderr
    assert "run the onboarding first, or check the secret names and the vault URL." in done.stderr.replace("\n", " ")
    assert "Traceback" not in done.stderr


def test_connection_options_from_the_environment_as_for_the_modules(world, collections_path):
    """Left out of the source, ca_bundle and cloud come from PARTNERCENTER_CA_BUNDLE and
    PARTNERCENTER_CLOUD, as the doc fragment common.CONNECTION says."""
    path = source(world, "environment.partnercenter.yml", ca_bundle=None)
    data = listing(world, collections_path, path, PARTNERCENTER_CA_BUNDLE=world["ep"]["ca_file"])[0]
    assert len(data["_meta"]["hostvars"]) == CUSTOMERS
    without_endpoints = source(world, "cloud.partnercenter.yml", cloud_endpoints=None)
    done = inventory(world, collections_path, without_endpoints, "--list", PARTNERCENTER_CLOUD="NoSuchCloud")
    assert done.returncode != 0 and "NoSuchCloud" in done.stderr, done.stderr[-2000:]


def test_option_names_in_a_failure(world, collections_path):
    """option_names (common.CONNECTION) renames the options a failure names, as for the modules."""
    path = source(world, "names.partnercenter.yml", cloud_endpoints={"login": world["ep"]["cloud"]["login"]},
                  option_names={"cloud_endpoints": "customers_endpoints"})
    done = inventory(world, collections_path, path, "--list")
    assert done.returncode != 0
    said = done.stderr.replace("\n", " ")
    assert "customers_endpoints is missing" in said and "Traceback" not in said, said[-2000:]


def test_other_file_names_are_not_read(world, collections_path):
    path = source(world, "customers.yml")
    done = inventory(world, collections_path, path, "--list")
    assert done.returncode != 0  # ANSIBLE_INVENTORY_UNPARSED_FAILED: no plugin took the file


# The api module -----------------------------------------------------------------------------------
def customer_of(world, kind):
    return next(c for c in world["ep"]["customers"] if c["kind"] == kind)


def group_body(name):
    return {"displayName": name, "mailEnabled": False, "mailNickname": name, "securityEnabled": True}


def play(world, playbook, check=False, **variables):
    return world["run"](playbook, dict(role_vars(world), **variables), check=check)


def role_vars(world):
    """The partner's variables file, without a customer list (the plays name their own)."""
    return {k: v for k, v in world["variables"].items() if k != "partner_token_customer_tenants"}


def test_api_each_method_and_check_mode(world):
    dap = customer_of(world, "dap")
    password = "Never-Shown-Pass-4242"
    run = play(world, "api_write.yml", customer=dap["tenant_id"], domain=dap["domain"],
               subscription=dap["subscription_id"], new_password=password)
    assert run.ok, run
    report = run.task("Report")["msg"]
    assert report["checked"]["changed"] is True and report["checked"]["json"] is None
    assert "status_code" not in report["checked"], "check mode sends nothing"
    created = report["created"]
    assert created["changed"] and created["status_code"] == 201 and created["json"]["displayName"] == "Api Module Test"
    assert created["request_id"] and created["location"].endswith(created["json"]["id"])
    again = report["again"]
    assert again["failed"] and again["msg"].startswith("Failed to POST graph /v1.0/users: HTTP 400 Request_BadRequest")
    assert "already exists" in again["msg"] and "(request id " in again["msg"]
    assert report["updated"]["status_code"] == 204 and report["updated"]["json"] is None
    assert report["resource_group"]["status_code"] == 201
    assert report["resource_group"]["json"]["id"].endswith("/resourceGroups/rg-api")
    assert report["deleted"]["status_code"] == 204 and report["deleted"]["changed"]
    assert report["deleted_again"]["status_code"] == 404 and not report["deleted_again"]["changed"]
    posted = [w for w in world["api"].get("/writes")["writes"] if w["path"] == "/v1.0/users"]
    assert [w["status"] for w in posted] == [201], "check mode sent nothing; the failed create made nothing"
    text = run.stdout + run.stderr + json.dumps(run.records)
    assert password not in text and "eyJ" not in text


def test_api_check_mode_sends_nothing(world):
    dap = customer_of(world, "dap")
    writes = world["api"].get("/writes")["counts"]
    run = play(world, "api_one.yml", check=True, customer=dap["tenant_id"], method="POST", path="/v1.0/groups",
               body=group_body("never"))
    assert run.ok, run
    assert run.task("Write")["changed"] is True
    counts = world["api"].get("/writes")["counts"]
    # only the rotated refresh token was written (to the vault), nothing in Graph
    assert counts.get("graph") == writes.get("graph")


def test_api_refused_by_the_gdap_roles(world):
    consented = customer_of(world, "gdap_consented")
    run = play(world, "api_one.yml", customer=consented["tenant_id"], method="POST", path="/v1.0/groups",
               body=group_body("x"))
    message = run.failed_task()["msg"]
    assert message.startswith("Failed to POST graph /v1.0/groups: HTTP 403 Authorization_RequestDenied"), message
    no_traceback(run)


def test_api_resends_only_what_is_safe(world):
    """After a dropped answer a create (POST) or a PATCH may have been applied: never sent again
    unless the task declares it idempotent; a DELETE is idempotent and sent again."""
    api = world["api"]
    dap = customer_of(world, "dap")
    made = play(world, "api_one.yml", customer=dap["tenant_id"], method="POST", path="/v1.0/groups",
                body=group_body("retries"))
    assert made.ok, made
    group_id = made.task("Write")["json"]["id"]
    faults = [{"service": "graph", "method": method, "path": "^/v1.0/groups", "drop": True, "count": count}
              for method, count in (("POST", 1), ("PATCH", 2), ("DELETE", 1))]
    api.call("PUT", "/faults", faults)
    try:
        run = play(world, "api_retries.yml", customer=dap["tenant_id"], group_id=group_id)
        hits = [rule["hits"] for rule in api.get("/faults")["faults"]]
    finally:
        api.call("DELETE", "/faults")
    assert run.ok, run
    report = run.task("Report")["msg"]
    assert hits == [1, 2, 1], hits
    for name in ("post", "patch"):
        assert report[name]["failed"], report[name]
        assert report[name]["msg"].startswith("Cannot connect to") or "failed" in report[name]["msg"], report[name]
    assert not report["patch_idempotent"].get("failed") and report["patch_idempotent"]["status_code"] == 204
    assert not report["delete"].get("failed") and report["delete"]["status_code"] == 204
    assert not [g for g in api.state()["groups"] if g["displayName"] == "dropped"], "the dropped create was not resent"


def test_api_resends_a_create_the_service_did_not_act_on(world):
    """A 503 says the service did not act: even a POST is sent again."""
    api = world["api"]
    dap = customer_of(world, "dap")
    api.call("PUT", "/faults", [{"service": "graph", "method": "POST", "path": "^/v1.0/groups$", "status": 503,
                                 "retry_after": 0, "count": 1}])
    try:
        run = play(world, "api_one.yml", customer=dap["tenant_id"], method="POST", path="/v1.0/groups",
                   body=group_body("after503"))
        assert api.get("/faults")["faults"][0]["hits"] == 1
    finally:
        api.call("DELETE", "/faults")
    assert run.ok, run
    assert run.task("Write")["status_code"] == 201
    assert len([g for g in api.state()["groups"] if g["displayName"] == "after503"]) == 1


# The worked example -------------------------------------------------------------------------------
def report_run(world, collections_path, *arguments, slice_name="all"):
    workdir = world["workdir"]
    variables = dict(role_vars(world), customer_report_dir=str(workdir / "reports"),
                     customer_report_slice=slice_name)
    vars_file = workdir / f"report-vars-{slice_name}.json"
    fd = os.open(vars_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(variables, handle)
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(source(world)),
               str(ROOT / "playbooks" / "customer_report.yml"), "-e", f"@{vars_file}", *arguments]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False, cwd=str(ROOT),
                          env=environment(collections_path, workdir))
    assert done.returncode == 0, (done.stdout[-4000:], done.stderr[-2000:])
    assert "eyJ" not in done.stdout + done.stderr
    return json.loads((workdir / "reports" / f"licences-{slice_name}.json").read_text()), done


def check_rows(world, rows):
    reachable_kinds = {"dap", "gdap_consented", "gdap_expiring"}
    kinds = kind_of(world)
    for row in rows:
        kind = kinds[row["tenant_id"]]
        assert row["reachable"] == (kind in reachable_kinds), row
        if row["reachable"]:
            assert set(row["purchased"]) == {"O365_BUSINESS_PREMIUM", "AAD_PREMIUM"}, row
            assert all(0 <= row["assigned"][sku] <= row["purchased"][sku] for sku in row["purchased"])
            assert row["error"] is None
        else:
            assert row["purchased"] == {} and row["error"], row


def test_worked_example_with_forks(world, collections_path):
    api = world["api"]
    before = api.get("/counters")["counters"]["token_requests"]
    report, done = report_run(world, collections_path, "-f", "6")
    rows = report["customers"]
    assert sorted(r["tenant_id"] for r in rows) == sorted(kind_of(world))
    check_rows(world, rows)
    assert report["reachable"] == len([r for r in rows if r["reachable"]])
    # partner_token ran once for the play: one exchange per customer plus the partner's own, not one per host
    tokens = api.get("/counters")["counters"]["token_requests"] - before
    assert tokens <= CUSTOMERS + 8, tokens  # once per host would be 12 times as many
    assert done.stdout.count("Tokens for every customer of the play") <= 2


def test_worked_example_in_two_slices(world, collections_path):
    hosts = sorted(c["domain"] for c in world["ep"]["customers"])
    seen = []
    for index in (0, 1):  # as job slicing does: host i goes to slice i % 2
        part = ",".join(hosts[index::2])
        report = report_run(world, collections_path, "--limit", part, "-f", "4", slice_name=f"slice{index}")[0]
        check_rows(world, report["customers"])
        seen += [row["tenant_id"] for row in report["customers"]]
    assert sorted(seen) == sorted(kind_of(world)), "every customer exactly once"


def test_modules_default_to_the_hosts_customer(world, collections_path):
    """A task on a customer's host names no tenant and works in that customer (api_info reads,
    api in check mode); customer_tenant_id "" is the partner tenant; a customer without a token
    fails with the reason (broken by: no default from the host variable)."""
    workdir = world["workdir"]
    record_file = workdir / "default-records.jsonl"
    record_file.unlink(missing_ok=True)
    vars_file = workdir / "default-vars.json"
    fd = os.open(vars_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(role_vars(world), handle)
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(source(world)),
               str(ROOT / "tests" / "integration" / "playbooks" / "customer_default.yml"), "-e", f"@{vars_file}",
               "-f", "4"]
    env = environment(collections_path, workdir, RECORD_RESULTS_FILE=str(record_file),
                      ANSIBLE_CALLBACK_PLUGINS=str(ROOT / "tests" / "integration" / "callback_plugins"),
                      ANSIBLE_CALLBACKS_ENABLED="record_results")
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False, cwd=str(ROOT), env=env)
    assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-2000:])
    records = [json.loads(line) for line in record_file.read_text().splitlines()]
    tenant_of_host = {c["domain"]: c["tenant_id"] for c in world["ep"]["customers"]}
    reachable = {c["domain"] for c in world["ep"]["customers"]
                 if c["kind"] in ("dap", "gdap_consented", "gdap_expiring")}

    def results(task):
        return {r["host"]: r for r in records if r["task"] == task}
    own, partner = results("Read in the host's customer"), results("Read in the partner tenant from a customer's host")
    written, unreachable = results("Write in the host's customer (check mode)"), results("Unreachable customer")
    assert {h for h, r in own.items() if r["status"] == "ok"} == reachable
    for host in reachable:
        assert own[host]["result"]["entries"][0]["id"] == tenant_of_host[host]
        assert partner[host]["result"]["entries"][0]["id"] == world["ep"]["partner_tenant_id"]
        assert written[host]["status"] == "ok" and written[host]["result"]["changed"]
    for host in set(tenant_of_host) - reachable:
        assert unreachable[host]["status"] == "failed"
        assert f"has no graph token for customer tenant {tenant_of_host[host]}" in unreachable[host]["result"]["msg"]
