"""The one place that removes credential values from sentences: every form a service may quote a
value in, in every kind of sentence the collection hands back."""
from __future__ import annotations

import json
from urllib.parse import quote, quote_plus

import pytest

from ansible_collections.partnercenter.secure_app.plugins.module_utils import _redact
from ansible_collections.partnercenter.secure_app.plugins.module_utils._errors import SecureAppError

SECRET = "0.AXYA~rt/secret+value==with-chars_" + "x" * 40
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiJ4In0.c2lnbmF0dXJl"


@pytest.fixture(autouse=True)
def remembered():
    _redact.remember(SECRET)


@pytest.mark.parametrize("quoted", [
    SECRET, quote_plus(SECRET), quote(SECRET, safe=""), json.dumps(SECRET)[1:-1],
    SECRET[:30], SECRET[-30:],  # a service that truncates what it echoes
], ids=["plain", "form", "url", "json", "prefix", "suffix"])
def test_every_form_of_a_known_value_is_masked(quoted):
    text = _redact.redact(f"AADSTS9002313: Invalid request. Request body: refresh_token={quoted}&x=1")
    assert quoted not in text and _redact.MASK in text and text.startswith("AADSTS9002313: Invalid request.")


def test_a_jwt_is_masked_whoever_it_belongs_to():
    assert JWT not in _redact.redact(f"Authorization: Bearer {JWT}")


def test_short_values_and_plain_words_are_kept():
    _redact.remember("abc", None, 42)
    sentence = "Failed to list customers: HTTP 503 ServiceUnavailable (request id 1234-5678)."
    assert _redact.redact(sentence) == sentence


@pytest.mark.parametrize("key", sorted(_redact.MESSAGE_KEYS))
def test_every_message_key_of_a_result_is_redacted_and_data_kept(key):
    result = {key: f"echo {SECRET}", "refresh_token": SECRET,
              "customer_errors": [{"tenant_id": "t", "error": f"said {SECRET}"}]}
    cleaned = _redact.redact_result(result)
    assert SECRET not in json.dumps(cleaned[key]) and SECRET not in cleaned["customer_errors"][0]["error"]
    assert cleaned["refresh_token"] == SECRET  # data a hidden result carries on purpose


def test_an_error_message_is_redacted_however_it_is_set():
    error = SecureAppError(f"first {SECRET}")
    assert SECRET not in error.message and SECRET not in str(error)
    error.message = f"then {SECRET}"
    assert SECRET not in error.message


def test_the_fact_tokens_are_remembered():
    token = "fact-access-token-" + "y" * 30
    _redact.remember_fact_tokens({"resources": {"graph": {"access_token": token}}, "customers": {}})
    assert token not in _redact.redact(f"x {token} y")


def test_a_piece_from_the_middle_of_a_known_value_is_masked():
    middle = SECRET[8:50]  # a service that cut the echo at both ends
    text = _redact.redact(f"Request body: refresh_token={middle}&x=1")
    assert middle not in text and _redact.MASK in text


def test_a_value_with_characters_outside_tokens_is_still_masked():
    value = "secret with spaces & quotes \"here\""
    _redact.remember(value)
    assert "spaces" not in _redact.redact(f"echo: {value}!")


def test_many_known_values_each_still_masked():
    values = [f"rt-{index:04d}-" + "k" * 20 + f"{index:04d}" * 10 for index in range(500)]
    _redact.remember(*values)
    for value in values[::50]:
        assert value not in _redact.redact(f"echo {value} end")
