"""The SAM app without a client secret: onboard.yml with a certificate or a federated credential
(a managed identity's token as the client assertion), daily.yml and customers.yml after it, the
rotation of each kind, and the migration of an app that has a secret (twice: the second run
changes nothing)."""
from __future__ import annotations

import pytest

from conftest import role_variables


def secrets_named(api, prefix):
    return {s["name"]: s for s in api.state()["secrets"] if s["name"].startswith(prefix + "-")}


def app_named(api, name):
    [app] = [a for a in api.state()["applications"] if a["displayName"] == name]
    return app


def managed_identity_env(ep):
    """Where partner_token runs: an App Service style host with a user-assigned identity."""
    return {"IDENTITY_ENDPOINT": ep["cloud"]["login"] + "/msi/token", "IDENTITY_HEADER": ep["managed_identities"]["header"],
            "MSI_ENDPOINT": None, "REQUESTS_CA_BUNDLE": ep["ca_bundle"]}


def kind_variables(ep, prefix, kind):
    variables = dict(role_variables(ep, prefix), onboard_credential_kind=kind)
    if kind == "federated":
        identity = ep["managed_identities"]["user_assigned"]
        variables.update(onboard_federated_subject=identity["object_id"],
                         onboard_managed_identity_client_id=identity["client_id"],
                         partner_token_managed_identity_client_id=identity["client_id"])
    return variables


@pytest.fixture(scope="module")
def certificate_onboarded(run_playbook, ep, api, auto_approve):
    variables = kind_variables(ep, "cert", "certificate")
    first = run_playbook("playbooks/onboard.yml", variables)
    assert first.ok, first
    return {"variables": variables, "first": first}


def test_onboard_with_a_certificate(certificate_onboarded, api, ep):
    summary = certificate_onboarded["first"].task("Summary")["msg"]
    assert summary["credential"] == "certificate"
    app = app_named(api, "SAM cert")
    assert app["passwords"] == [] and len(app["keyCredentials"]) == 1
    stored = secrets_named(api, "cert")
    assert "cert-client-secret" not in stored
    tags = stored["cert-client-certificate"]["tags"]
    assert tags["key_id"] == app["keyCredentials"][0]["keyId"]
    assert tags["thumbprint"] == app["keyCredentials"][0]["customKeyIdentifier"] and tags["expires"]
