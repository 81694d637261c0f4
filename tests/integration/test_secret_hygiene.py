"""No client secret, refresh token or access token in what a run prints, even at -vvv."""
from __future__ import annotations

import re

from integration_helpers import vault_client

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")


def assert_clean(text: str, secrets: list[str]) -> None:
    assert not JWT.search(text), "an access or id token was printed"
    for secret in secrets:
        assert secret not in text, "a secret was printed"
    assert "1.AS" not in text, "a sandbox refresh token was printed"


def test_onboarding_steps_at_vvv_print_no_secret(run_playbook, ep, auto_approve):
    run = run_playbook("setup_sam.yml", {"app_name": "SAM hygiene", "secret_prefix": "hygiene"}, verbosity=3)
    assert run.ok, run
    vault = vault_client(ep)
    secrets = [vault.get_secret("hygiene-client-secret").value, vault.get_secret("hygiene-refresh-token").value]
    assert len(run.stdout) > 5000  # -vvv really printed the invocations
    assert_clean(run.stdout + run.stderr, secrets)


def test_exchange_at_vvv_prints_no_secret(run_playbook, ep, sam):
    customers = [c["tenant_id"] for c in ep["customers"]]
    run = run_playbook("access_token_quiet.yml", {"client_id": sam["app_id"], "client_secret": sam["secret"],
                                                  "refresh_token": sam["refresh_token"], "customers": customers},
                       verbosity=3)
    assert run.ok, run
    assert_clean(run.stdout + run.stderr, [sam["secret"], sam["refresh_token"]])
    assert "the output has been hidden" in run.stdout
