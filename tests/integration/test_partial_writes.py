"""A write of several steps that fails half-way says what it changed: app_registration creates the
application, then its service principal, then its credential (or removes several), and a fault
injected at each later step must leave a failed task that says changed, which app now exists (its
ids) and the diff, with a sentence naming what was done; a second run finishes what is missing.
Real ansible-playbook against the sandbox, faults by route and count through its test API."""
from __future__ import annotations

import pytest

from conftest import role_variables

SUBJECT = "0b3e9d5c-5d0f-4a8f-9b52-2a1e3c7d9f10"
# Graph refuses the step (403 is not retried, so the fault is the step's answer).
REFUSED = {"service": "graph", "status": 403, "count": 1}
# Each later step of a new app: (kind, the step's route, the extra variables of the task).
STEPS = {
    "service_principal": ("secret", "POST", r"^/v1\.0/servicePrincipals$", {}),
    "client_secret": ("secret", "POST", r"/addPassword$", {}),
    "first_certificate": ("certificate", "PATCH", r"^/v1\.0/applications/[^/]+$", {}),
    "federated_credential": ("federated", "POST", r"/federatedIdentityCredentials$",
                             {"federated_subject": SUBJECT}),
}


def app_named(api, name):
    [app] = [a for a in api.state()["applications"] if a["displayName"] == name]
    return app


def service_principal_of(api, app_id):
    return [sp for sp in api.state()["service_principals"] if sp["appId"] == app_id]


def with_fault(api, run_playbook, rule, variables):
    api.call("PUT", "/faults", [dict(REFUSED, **rule)])
    try:
        return run_playbook("app_registration_steps.yml", variables)
    finally:
        api.call("DELETE", "/faults")


@pytest.mark.parametrize("step", sorted(STEPS))
def test_a_new_app_failing_at_a_later_step_says_changed_and_the_next_run_finishes(step, run_playbook, api,
                                                                                  auto_approve):
    kind, method, path, extra = STEPS[step]
    variables = dict(extra, app_name=f"SAM half-made {step}", kind=kind)
    half = with_fault(api, run_playbook, {"method": method, "path": path}, variables)
    failed = half.failed_task()
    made = app_named(api, variables["app_name"])
    assert failed["changed"] is True, failed
    assert failed["app"]["app_id"] == made["appId"] and failed["app"]["object_id"] == made["id"]
    assert failed["diff"]["after"]["displayName"] == variables["app_name"]
    assert f"had been created first (app id {made['appId']}, object id {made['id']})" in failed["msg"]
    assert failed["msg"].endswith(": run the task again to finish it.")
    sps = service_principal_of(api, made["appId"])
    if step == "service_principal":
        assert sps == [] and failed["app"]["service_principal_id"] is None
    else:
        assert failed["app"]["service_principal_id"] == sps[0]["id"]
        assert f"its service principal had been created (object id {sps[0]['id']})" in failed["msg"]
    assert "secret" not in failed and "certificate" not in failed  # nothing secret in a shown failure

    second = run_playbook("app_registration_steps.yml", variables)
    assert second.ok, second
    report = second.task("Report")["msg"]
    assert report["changed"] is True and report["app"]["app_id"] == made["appId"]
    assert [sp["id"] for sp in service_principal_of(api, made["appId"])] == [report["app"]["service_principal_id"]]
    finished = app_named(api, variables["app_name"])
    if kind == "secret":
        assert [p["keyId"] for p in finished["passwords"]] == [report["secret_key_id"]]
    elif kind == "certificate":
        assert [k["keyId"] for k in finished["keyCredentials"]] == [report["certificate_key_id"]]
    else:
        assert report["federated_credential"]["subject"] == SUBJECT
    third = run_playbook("app_registration_steps.yml", variables)
    assert third.ok and third.task("Report")["msg"]["changed"] is False


def test_an_update_then_a_refused_secret_says_changed(run_playbook, api, auto_approve):
    variables = {"app_name": "SAM updated then refused"}
    assert run_playbook("app_registration_steps.yml", variables).ok
    half = with_fault(api, run_playbook, {"method": "POST", "path": r"/addPassword$"},
                      dict(variables, public_flows=True, rotate=True))
    failed = half.failed_task()
    assert failed["changed"] is True and failed["diff"]["after"]["isFallbackPublicClient"] is True, failed
    assert "had been updated first (isFallbackPublicClient)" in failed["msg"]
    assert app_named(api, variables["app_name"])["isFallbackPublicClient"] is True


def test_a_removal_failing_after_some_removed_says_which(run_playbook, api, auto_approve):
    """remove_other_secrets removes the secrets, then the certificates: the certificates' update
    refused, the task still says changed and the secrets it removed; the next run removes the rest."""
    variables = {"app_name": "SAM half-pruned"}
    assert run_playbook("app_registration_steps.yml", variables).ok
    assert run_playbook("app_registration_steps.yml", dict(variables, kind="certificate")).ok
    newest = run_playbook("app_registration_steps.yml", dict(variables, kind="certificate", rotate=True))
    keep = newest.task("Report")["msg"]["certificate_key_id"]
    [secret] = [p["keyId"] for p in app_named(api, variables["app_name"])["passwords"]]
    pruning = dict(variables, kind="certificate", keep_key_id=keep)
    half = with_fault(api, run_playbook, {"method": "PATCH", "path": r"^/v1\.0/applications/[^/]+$"}, pruning)
    failed = half.failed_task()
    assert failed["changed"] is True and failed["removed_key_ids"] == [secret], failed
    assert f"secret {secret} had been removed" in failed["msg"]
    assert app_named(api, variables["app_name"])["passwords"] == []
    assert len(app_named(api, variables["app_name"])["keyCredentials"]) == 2
    second = run_playbook("app_registration_steps.yml", pruning)
    assert second.ok, second
    assert [k["keyId"] for k in app_named(api, variables["app_name"])["keyCredentials"]] == [keep]


def test_a_failed_read_after_the_new_secret_still_returns_it(run_playbook, api, auto_approve):
    """The read after addPassword is only the result's view: it failing must not lose the secret."""
    variables = {"app_name": "SAM unread"}
    # The first read is add_password's own, before the secret is added; the second the view after it.
    run = with_fault(api, run_playbook, {"method": "GET", "path": r"^/v1\.0/applications/[^/]+$", "skip": 1},
                     variables)
    assert run.ok, run
    report = run.task("Report")["msg"]
    assert report["changed"] is True
    assert [p["keyId"] for p in app_named(api, variables["app_name"])["passwords"]] == [report["secret_key_id"]]


def test_onboarding_failing_after_the_app_is_made_is_finished_by_the_next_run(run_playbook, api, ep, auto_approve):
    """The onboard role's steps are tasks of their own: the vault refusing the new client secret
    leaves the app registration task's changed in place, and the next run makes a secret the vault
    holds and removes the one it never stored."""
    variables = role_variables(ep, "halfway")
    api.call("PUT", "/faults", [{"service": "vault", "method": "PUT", "path": "/secrets/halfway-client-secret$",
                                 "status": 403, "count": 1}])
    try:
        half = run_playbook("playbooks/onboard.yml", variables)
    finally:
        api.call("DELETE", "/faults")
    assert not half.ok and half.task("Create or update the SAM app registration")["changed"] is True
    assert half.failed_task() is half.task("Store the new client secret in Key Vault")
    [orphan] = app_named(api, "SAM halfway")["passwords"]
    second = run_playbook("playbooks/onboard.yml", variables)
    assert second.ok, second
    [kept] = app_named(api, "SAM halfway")["passwords"]
    assert kept["keyId"] != orphan["keyId"]
    [stored] = [s for s in api.state()["secrets"] if s["name"] == "halfway-client-secret"]
    assert stored["tags"]["key_id"] == kept["keyId"]
