"""Every module that calls an API takes the partner_token fact the same way (one action on the
controller), and the fact given where it is not expected never shows its tokens, even at -vvv.
Generated over every module of the collection: a module added later is covered without a change
here."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

MODULES = sorted(path.stem for path in (ROOT / "plugins" / "modules").glob("*.py") if path.stem != "__init__")
# Modules that run entirely on the controller, not through the partner_token action: they take no
# partner_token (consent signs in, access_token and partner_token make the fact).
WITHOUT_PARTNER_TOKEN = {"consent", "access_token", "partner_token"}
TAKING = [name for name in MODULES if name not in WITHOUT_PARTNER_TOKEN]
PARTNER_TOKEN = "eyJhbGciOiJub25lIn0.eyJwYXJ0bmVyIjoxfQ.partner-tenant-token-value"
CUSTOMER_TOKEN = "eyJhbGciOiJub25lIn0.eyJjdXN0b21lciI6MX0.customer-tenant-token-value"
CUSTOMER = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
RESOURCE = {"application_consent": "partner_center", "partner_center_info": "partner_center",
            "keyvault_secret": "keyvault", "keyvault_secret_info": "keyvault"}


def fact(partner_resources=("graph", "partner_center", "keyvault", "azure"), customer_resources=("graph",)):
    later = int(time.time()) + 3600
    return {"resources": {r: {"access_token": PARTNER_TOKEN, "expires_on": later} for r in partner_resources},
            "customers": {CUSTOMER: {r: {"access_token": CUSTOMER_TOKEN, "expires_on": later}
                                     for r in customer_resources}},
            "customer_errors": [], "cloud": "AzureCloud"}


def playbook(tmp_path: Path, module: str, args: dict, variables: dict | None = None) -> str:
    path = tmp_path / f"{module}.yml"
    path.write_text(yaml.safe_dump([{
        "name": "One task", "hosts": "localhost", "gather_facts": False, "vars": variables or {},
        "tasks": [{"name": "Task", f"partnercenter.secure_app.{module}": args}]}]))
    return str(path)


def shown(run) -> str:
    return run.stdout + run.stderr + json.dumps(run.records)


@pytest.mark.parametrize("option", ["unexpected", "tenant_id"])
@pytest.mark.parametrize("module", MODULES)
def test_the_fact_under_another_option_never_shows_its_tokens(run_playbook, tmp_path, module, option):
    """Broken by: a module that fails with 'Unsupported parameters' after receiving the fact, whose
    invocation at -vvv then holds every access token of every tenant."""
    run = run_playbook(playbook(tmp_path, module, {option: "{{ the_fact }}"}, {"the_fact": fact()}), verbosity=3)
    assert not run.ok
    assert PARTNER_TOKEN not in shown(run) and CUSTOMER_TOKEN not in shown(run)
    assert "partner-tenant-token-value" not in shown(run) and "customer-tenant-token-value" not in shown(run)


@pytest.mark.parametrize("module", sorted(WITHOUT_PARTNER_TOKEN & set(MODULES)))
def test_partner_token_where_it_is_not_taken_never_shows_its_tokens(run_playbook, tmp_path, module):
    run = run_playbook(playbook(tmp_path, module, {"partner_token": "{{ the_fact }}"}, {"the_fact": fact()}),
                       verbosity=3)
    assert not run.ok
    assert "partner-tenant-token-value" not in shown(run) and "customer-tenant-token-value" not in shown(run)


@pytest.mark.parametrize("module", TAKING)
def test_every_api_module_takes_partner_token(run_playbook, tmp_path, module):
    """The action resolves the fact for each module: with the module's resource missing from the
    fact, the task says which token is missing (broken by: a module without the action, which
    answers 'Unsupported parameters')."""
    resource = RESOURCE.get(module, "graph")
    others = [r for r in ("graph", "partner_center", "keyvault", "azure") if r != resource]
    args = {"partner_token": "{{ the_fact }}"}
    if module in ("api", "api_info"):
        args.update(api="graph" if resource == "graph" else resource, path="/v1.0/organization")
    run = run_playbook(playbook(tmp_path, module, args, {"the_fact": fact(partner_resources=others)}), verbosity=3)
    message = run.failed_task()["msg"]
    assert message.startswith(f"partner_token has no {resource} token for the partner tenant"), message
    assert "partner-tenant-token-value" not in shown(run)


def test_the_customer_tenant_defaults_to_the_host_variable(run_playbook, tmp_path, api, ep):
    """api_info with partner_token and no customer_tenant_id takes the token of the customer the
    host variable partnercenter_customer_tenant_id names (the inventory plugin sets it)."""
    api.call("POST", "/faults", {"service": "graph", "path": "^/v1.0/organization$", "body": {"value": [{"id": "o"}]}})
    try:
        args = {"partner_token": "{{ the_fact }}", "api": "graph", "path": "/v1.0/organization",
                "cloud_endpoints": ep["cloud"], "ca_bundle": ep["ca_file"]}
        variables = {"the_fact": fact(partner_resources=())}
        without = run_playbook(playbook(tmp_path, "api_info", args, variables))
        assert without.failed_task()["msg"].startswith("partner_token has no graph token for the partner tenant")
        with_host = run_playbook(playbook(tmp_path, "api_info", args,
                                          dict(variables, partnercenter_customer_tenant_id=CUSTOMER)))
        assert with_host.ok, with_host
    finally:
        api.call("DELETE", "/faults")
