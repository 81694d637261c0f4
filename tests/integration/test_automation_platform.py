"""Automation Platform: the custom credential type the collection ships
(extensions/aap/sam_credential_type.yml). Its injectors are rendered as the platform renders them
(Jinja over the credential's inputs, an input left empty renders empty) and daily.yml runs with
exactly those extra variables, beside the job template's own."""
from __future__ import annotations

import json

import jinja2.sandbox
import pytest
import yaml

from conftest import ROOT, role_variables

CREDENTIAL_TYPE = ROOT / "extensions" / "aap" / "sam_credential_type.yml"


def injected(inputs: dict) -> dict:
    """The extra variables a credential of this type gives a job."""
    definition = yaml.safe_load(CREDENTIAL_TYPE.read_text())
    fields = {field["id"]: field for field in definition["inputs"]["fields"]}
    assert set(inputs) <= set(fields), "an input the credential type does not define"
    assert set(definition["inputs"]["required"]) <= set(inputs)
    values = {name: inputs.get(name, field.get("default", "")) for name, field in fields.items()}
    environment = jinja2.sandbox.ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)
    assert set(definition["injectors"]) == {"extra_vars"}, "the guide documents extra variables only"
    return {name: environment.from_string(template).render(**values)
            for name, template in definition["injectors"]["extra_vars"].items()}


@pytest.fixture(scope="module")
def onboarded(run_playbook, ep, auto_approve):
    variables = role_variables(ep, "aap")
    run = run_playbook("playbooks/onboard.yml", variables)
    assert run.ok, run
    return variables


def job_template_variables(variables: dict) -> dict:
    """What the job template itself holds: everything but what the credential injects."""
    return {name: value for name, value in variables.items()
            if not name.startswith(("partner_token_vault_", "onboard_vault_url"))}


def test_daily_with_the_credential_types_injection(onboarded, run_playbook, ep):
    """Fails if an injector names a variable the roles do not read (the vault would be unknown)."""
    principal = ep["principals"]["automation"]
    extra = injected({"vault_url": ep["vault_url"], "vault_tenant_id": principal["tenant_id"],
                      "vault_client_id": principal["client_id"], "vault_client_secret": principal["client_secret"]})
    run = run_playbook("playbooks/daily.yml", dict(job_template_variables(onboarded), **extra))
    assert run.ok, run
    assert "reachable" in run.task("Summary (counts and names, never tokens)")["msg"]["customer_tokens"]
    assert principal["client_secret"] not in json.dumps(run.records) + run.stdout


def test_empty_vault_identity_falls_to_the_managed_identity(onboarded, run_playbook, ep):
    """A credential without a vault identity (the execution node's managed identity): the empty
    injected values must read as not given. Fails if an empty value is used as an identity."""
    identities = ep["managed_identities"]
    extra = injected({"vault_url": ep["vault_url"]})
    env = {"IDENTITY_ENDPOINT": ep["cloud"]["login"] + "/msi/token", "IDENTITY_HEADER": identities["header"],
           "AZURE_CLIENT_ID": identities["user_assigned"]["client_id"]}
    for name in ("AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_SECRET", "AZURE_TENANT"):
        env[name] = None
    run = run_playbook("playbooks/daily.yml", dict(job_template_variables(onboarded), **extra), env=env)
    assert run.ok, run
