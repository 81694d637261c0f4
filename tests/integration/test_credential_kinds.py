"""The SAM app without a client secret: onboard.yml with a certificate or a federated credential
(a managed identity's token as the client assertion), daily.yml and customers.yml after it, the
rotation of each kind, and the migration of an app that has a secret (twice: the second run
changes nothing)."""
from __future__ import annotations

import pytest

from conftest import role_variables


def secrets_named(api, prefix):
    """The vault's live secrets of a prefix (latest versions; deleted ones left out)."""
    return {s["name"]: s for s in api.state()["secrets"] if s["name"].startswith(prefix + "-") and not s["deleted"]}


def app_named(api, name):
    [app] = [a for a in api.state()["applications"] if a["displayName"] == name]
    return app


def managed_identity_env(ep):
    """Where partner_token runs: an App Service style host with a user-assigned identity."""
    return {"IDENTITY_ENDPOINT": ep["cloud"]["login"] + "/msi/token", "IDENTITY_HEADER": ep["managed_identities"]["header"],
            "MSI_ENDPOINT": None}


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


def test_second_certificate_onboard_changes_nothing(certificate_onboarded, run_playbook, api):
    writes = api.get("/writes")["counts"]
    second = run_playbook("playbooks/onboard.yml", certificate_onboarded["variables"])
    assert second.ok, second
    assert second.changed_count == 0, [r["task"] for r in second.records if r["result"].get("changed")]
    assert second.task("Summary")["msg"]["consent"] == "stored refresh token works"
    assert api.get("/writes")["counts"] == writes


@pytest.fixture(scope="module")
def federated_onboarded(run_playbook, ep, api, auto_approve):
    variables = kind_variables(ep, "fed", "federated")
    first = run_playbook("playbooks/onboard.yml", variables, env=managed_identity_env(ep))
    assert first.ok, first
    return {"variables": variables, "first": first}


def test_onboard_federated_leaves_no_credential_of_the_app(federated_onboarded, api, ep):
    assert federated_onboarded["first"].task("Summary")["msg"]["credential"] == "federated"
    app = app_named(api, "SAM fed")
    assert app["passwords"] == [] and app["keyCredentials"] == []
    stored = secrets_named(api, "fed")
    assert set(stored) == {"fed-app-id", "fed-tenant-id", "fed-refresh-token"}


def test_second_federated_onboard_changes_nothing(federated_onboarded, run_playbook, api, ep):
    writes = api.get("/writes")["counts"]
    second = run_playbook("playbooks/onboard.yml", federated_onboarded["variables"], env=managed_identity_env(ep))
    assert second.ok, second
    assert second.changed_count == 0, [r["task"] for r in second.records if r["result"].get("changed")]
    assert api.get("/writes")["counts"] == writes


@pytest.mark.parametrize("kind", ["certificate", "federated"])
def test_migration_from_a_secret_twice(run_playbook, api, ep, auto_approve, kind):
    prefix = f"mig{kind[:4]}"
    with_secret = kind_variables(ep, prefix, "secret")
    assert run_playbook("playbooks/onboard.yml", with_secret).ok
    assert len(app_named(api, f"SAM {prefix}")["passwords"]) == 1
    switched = kind_variables(ep, prefix, kind)
    env = managed_identity_env(ep)
    first = run_playbook("playbooks/onboard.yml", switched, env=env)
    assert first.ok, first
    assert first.task("Summary")["msg"]["consent"] == "stored refresh token works"  # proven with the new kind
    app = app_named(api, f"SAM {prefix}")
    assert app["passwords"] == []
    assert len(app["keyCredentials"]) == (1 if kind == "certificate" else 0)
    stored = secrets_named(api, prefix)
    assert f"{prefix}-client-secret" not in stored
    assert (f"{prefix}-client-certificate" in stored) == (kind == "certificate")
    writes = api.get("/writes")["counts"]
    second = run_playbook("playbooks/onboard.yml", switched, env=env)
    assert second.ok, second
    assert second.changed_count == 0, [r["task"] for r in second.records if r["result"].get("changed")]
    assert api.get("/writes")["counts"] == writes


def graph_writes_since(api, count):
    return [(w["method"], w["path"].rsplit("/", 1)[-1]) for w in api.get("/writes")["writes"][count:]
            if w["service"] == "graph"]


def test_certificate_rotation_adds_with_proof_then_removes_with_proof(certificate_onboarded, run_playbook, api):
    before = app_named(api, "SAM cert")["keyCredentials"]
    start = len(api.get("/writes")["writes"])
    rotated = run_playbook("playbooks/rotate_credential.yml", certificate_onboarded["variables"])
    assert rotated.ok, rotated
    after = app_named(api, "SAM cert")["keyCredentials"]
    assert len(after) == 1 and after[0]["keyId"] != before[0]["keyId"]
    # Graph's way to roll keys: addKey and removeKey, each proven with a key the app has (broken by:
    # replacing the certificates with an update of the application).
    assert graph_writes_since(api, start) == [("POST", "addKey"), ("POST", "removeKey")]
    stored = secrets_named(api, "cert")["cert-client-certificate"]
    assert stored["tags"]["key_id"] == after[0]["keyId"]
    again = run_playbook("playbooks/onboard.yml", certificate_onboarded["variables"])
    assert again.ok and again.changed_count == 0, again


def test_rotating_a_federated_app_changes_nothing(federated_onboarded, run_playbook, api, ep):
    writes = api.get("/writes")["counts"]
    rotated = run_playbook("playbooks/rotate_secret.yml", federated_onboarded["variables"], env=managed_identity_env(ep))
    assert rotated.ok, rotated
    assert api.get("/writes")["counts"] == writes


@pytest.mark.parametrize("kind", ["certificate", "federated"])
def test_daily_and_customers_with_each_kind(request, run_playbook, api, ep, kind):
    onboarded = request.getfixturevalue(f"{kind}_onboarded")
    env = managed_identity_env(ep) if kind == "federated" else None
    prefix = "cert" if kind == "certificate" else "fed"
    daily = run_playbook("playbooks/daily.yml", onboarded["variables"], env=env)
    assert daily.ok, daily
    summary = daily.task("Summary (counts and names, never tokens)")["msg"]
    assert summary["signed_in_as"] == f"{ep['accounts']['service']['upn']} (MFA: True)"
    assert secrets_named(api, prefix)[f"{prefix}-refresh-token"]["tags"].get("rotated")
    customers = run_playbook("playbooks/customers.yml", onboarded["variables"], env=env)
    assert customers.ok, customers


def test_a_certificate_ending_within_30_days_is_warned_about(certificate_onboarded, run_playbook, ep):
    import datetime
    from integration_helpers import vault_client
    vault = vault_client(ep)
    secret = vault.get_secret("cert-client-certificate")
    ends = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=12)
    vault.update_secret_properties("cert-client-certificate", secret.properties.version, tags=dict(
        secret.properties.tags, expires=ends.strftime("%Y-%m-%dT%H:%M:%SZ")))
    daily = run_playbook("playbooks/daily.yml", certificate_onboarded["variables"])
    assert daily.ok, daily
    message = daily.task("Warn when the client secret or certificate expires soon")["msg"]
    assert message.startswith(f"The SAM client certificate expires on {ends.strftime('%Y-%m-%dT%H:%M:%SZ')}, within 30")
    assert "rotate_credential.yml" in message
