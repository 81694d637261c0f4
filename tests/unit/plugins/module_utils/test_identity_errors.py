from __future__ import annotations

import pytest

from ansible_collections.partnercenter.secure_app.plugins.module_utils._clouds import resolve_cloud
from ansible_collections.partnercenter.secure_app.plugins.module_utils._identity import (
    AADSTS_EXPLANATIONS, TokenResult, explain, unverified_claims)

CLOUD = resolve_cloud("AzureCloud")


def entra(code, description="something", **extra):
    return dict({"error": "invalid_grant", "error_codes": [code], "correlation_id": "c-1", "trace_id": "t-1",
                 "error_description": f"AADSTS{code}: {description} Trace ID: t-1 Correlation ID: c-1"}, **extra)


@pytest.mark.parametrize("code", sorted(AADSTS_EXPLANATIONS))
def test_every_known_code_is_one_sentence_with_a_fix(code):
    error = explain(entra(code), tenant="contoso.com", client_id="app-1", cloud=CLOUD)
    assert error.code == f"AADSTS{code}"
    assert ":" in error.message, "cause: fix"
    assert error.message.endswith(".")
    assert "{" not in error.message, "every placeholder is filled"
    assert "\n" not in error.message
    assert error.result()["correlation_id"] == "c-1"


@pytest.mark.parametrize("code,words", [
    (700082, "unused for 90 days"),
    (7000215, "rotate_secret: true"),
    (7000222, "expired"),
    (65001, "consent"),
    (90002, "does not exist in AzureCloud"),
    (900382, "another national cloud"),
    (50076, "MFA"),
])
def test_translations_say_what_to_do(code, words):
    assert words in explain(entra(code), tenant="contoso.com", client_id="app-1", cloud=CLOUD).message


# Codes partners meet on the refresh token and the service account's session (and report in the
# issue trackers of the libraries this collection builds on): each has its own sentence, never
# Entra's raw description, and the fix names what to run or change.
@pytest.mark.parametrize("code,fix", [
    (50173, "onboard_renew_consent=true"),
    (70043, "sign-in frequency"),
    (700007, "another application than app-1"),
    (50132, "onboard_renew_consent=true"),
    (50133, "onboard_renew_consent=true"),
    (50055, "reset it"),
    (50089, "sign in again"),
    (65004, "accept the permissions"),
    (70002, "rotate_secret: true"),
    (90099, "customer_access_consent=true"),
    (530034, "Entra ID Protection"),
])
def test_codes_partners_hit_say_cause_and_fix(code, fix):
    error = explain(entra(code, "Entra's own words"), tenant="contoso.com", client_id="app-1", cloud=CLOUD)
    assert "Entra's own words" not in error.message and "login.microsoftonline.com/error" not in error.message
    assert fix in error.message


def test_unknown_code_keeps_entra_first_line_only():
    error = explain(entra(1234567, "Something new happened.\r\nmore lines"), tenant="t", client_id="c", cloud=CLOUD)
    assert error.code == "AADSTS1234567"
    assert "Something new happened." in error.message and "more lines" not in error.message
    assert "Trace ID" not in error.message


def test_error_without_codes():
    error = explain({"error": "invalid_request"}, tenant="t", client_id="c", cloud=CLOUD)
    assert error.code == "invalid_request" and "invalid_request" in error.message


def test_token_result_identity_and_mfa():
    import jwt
    token = jwt.encode({"upn": "a@b.c", "oid": "o-1", "tid": "t-1", "amr": ["pwd", "mfa"]}, "k" * 32, algorithm="HS256")
    result = TokenResult(access_token=token, expires_on=1, scope="s", tenant_id="t-1",
                         claims=unverified_claims(token))
    assert result.identity() == {"upn": "a@b.c", "object_id": "o-1", "tenant_id": "t-1", "mfa": True}
    assert result.public() == {"access_token": token, "expires_on": 1, "tenant_id": "t-1", "scope": "s"}


def test_opaque_tokens_yield_no_claims():
    assert unverified_claims("not-a-jwt") == {}
    assert unverified_claims(None) == {}


def test_identity_falls_back_to_the_id_token_and_the_tenant_asked():
    result = TokenResult(access_token="x", expires_on=1, scope="s", tenant_id="asked",
                         claims={"unique_name": "u@b.c"}, id_token_claims={"oid": "o-2", "amr": ["mfa"]})
    assert result.identity() == {"upn": "u@b.c", "object_id": "o-2", "tenant_id": "asked", "mfa": True}
    only_id_token = TokenResult(access_token="x", expires_on=1, scope="s", tenant_id="asked",
                                id_token_claims={"preferred_username": "p@b.c", "tid": "t-9"})
    assert only_id_token.identity() == {"upn": "p@b.c", "object_id": None, "tenant_id": "t-9", "mfa": False}
    assert TokenResult(access_token="x", expires_on=1, scope="s", tenant_id="t").mfa is False


def test_unknown_code_sentence_and_support_ids_exactly():
    error = explain(entra(1234567, "Something new.\nmore"), tenant="t", client_id="c", cloud=CLOUD)
    assert error.message == ("Sign-in to tenant t failed: AADSTS1234567: Something new. (see the AADSTS code at "
                             "https://login.microsoftonline.com/error) (correlation id c-1).")
    assert error.details == {"correlation_id": "c-1", "trace_id": "t-1"}
    bare = explain({}, tenant="t", client_id="c", cloud=CLOUD)
    assert bare.message.startswith("Sign-in to tenant t failed: unknown error") and bare.code == "None"


def test_claims_of_something_that_is_not_a_jwt():
    assert unverified_claims("not.a.jwt") == {} and unverified_claims(None) == {} and unverified_claims("") == {}


def test_require_msal(monkeypatch):
    from ansible_collections.partnercenter.secure_app.plugins.module_utils import _identity

    monkeypatch.setattr(_identity, "HAS_MSAL", False)
    with pytest.raises(Exception) as raised:
        _identity.require_msal()
    assert type(raised.value).__name__ == "MissingLibraryError"
    assert raised.value.message == ("The Python package 'msal' is not installed where this task runs: pip install -r "
                                    "requirements.txt from the collection.")
