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
from sandbox.testing import SandboxProcess, TestApi

KINDS = ["dap", "gdap_ready", "none", "gdap_consented", "gdap_no_consent_role", "gdap_no_group", "gdap_expired",
         "gdap_expiring"]
CUSTOMERS = 12  # every kind, and a second page of customers at a page size of 5
EXPECTED_SITUATION = {"dap": "dap", "none": "no_relationship", "gdap_expired": "gdap_ended",
                      "gdap_expiring": "gdap_expiring"}


@pytest.fixture(scope="module")
def world(tmp_path_factory, collections_path):
    """A sandbox of its own, onboarded with the onboard playbook (its secrets named inv-*)."""
    process = SandboxProcess(tmp_path_factory.mktemp("inventory-sandbox"), "--customers", str(CUSTOMERS))
    process.start()
    try:
        ep = process.endpoints
        api = TestApi(ep)
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
    data, _ = listing(world, collections_path, source(world))
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
    data, _ = listing(world, collections_path, source(world))
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
    data, _ = listing(world, collections_path, source(world, gdap_details=True))
    by_domain = {c["domain"]: c["kind"] for c in world["ep"]["customers"]}
    hostvars = data["_meta"]["hostvars"]
    consented = {d for d, k in by_domain.items() if k in ("gdap_consented", "gdap_expiring")}
    assert group_members(data, "sam_consented") == consented
    not_consented = {d for d, k in by_domain.items() if k in ("dap", "gdap_ready", "gdap_no_consent_role",
                                                                "gdap_no_group")}
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
    data, _ = listing(world, collections_path, path)
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
    first, _ = listing(world, collections_path, path)
    counters = api.get("/counters")["counters"]
    second, _ = listing(world, collections_path, path)
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
    assert "has no secret 'no-such-secret' (app_id): run the onboard playbook first, or correct secret_names." \
        in done.stderr.replace("\n", " ")
    assert "Traceback" not in done.stderr


def test_other_file_names_are_not_read(world, collections_path):
    path = source(world, "customers.yml")
    done = inventory(world, collections_path, path, "--list")
    assert done.returncode != 0  # ANSIBLE_INVENTORY_UNPARSED_FAILED: no plugin took the file
