# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

Every credential value this process has seen (the options given, the tokens msal returned, the
rotated refresh token, secrets read from the vault or created by Graph), and the one function
that removes them from a sentence. A service may quote what it was sent (an error_description
that echoes the posted form, a proxy's error page): Ansible's no_log masking covers a module's
own options only, not an action plugin's or a lookup's messages, nor a value the run obtained
itself. Every boundary where a message leaves the collection (fail_json, an action's result, an
AnsibleError, a warning, a customer's error entry) goes through redact()."""

from __future__ import annotations

import json
import re
import threading
from typing import Any, Iterable
from urllib.parse import quote, quote_plus

MASK = "********"  # what Ansible's own no_log masking writes
# Shorter values are not remembered: masking them would mangle ordinary words. No token or
# client secret of the identity platform is this short.
MIN_SECRET_LENGTH = 8
# Runs of characters a token is made of, in plain, URL-encoded or base64 form: a run that is a
# piece of a known secret (a service truncated the echo) is masked as well.
_PIECE = 16
_TOKEN_RUN = re.compile(r"[A-Za-z0-9._~+/=%-]{" + str(_PIECE) + ",}")
# A JWT (header.payload[.signature]) is an access token or an assertion whoever it belongs to.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*)?")
# Keys of a result whose strings are sentences for people; everything else may be data the
# task returns on purpose (a hidden result's token, a secret's value).
MESSAGE_KEYS = frozenset({"msg", "error", "message", "warnings", "deprecations", "exception", "stderr",
                          "stdout", "module_stderr", "module_stdout"})

_lock = threading.Lock()
_forms: set[str] = set()  # every remembered value in each form it may be quoted in
_ordered: list[str] = []  # the same, longest first, so a value is masked before a piece of it


def _encodings(value: str) -> set[str]:
    return {value, quote_plus(value), quote(value, safe=""), json.dumps(value)[1:-1]}


def remember(*values: Any) -> None:
    """Note credential values (None and short values are ignored)."""
    added = False
    for value in values:
        if not isinstance(value, str):
            continue
        value = value.strip()
        if len(value) < MIN_SECRET_LENGTH:
            continue
        with _lock:
            for form in _encodings(value):
                if form not in _forms:
                    _forms.add(form)
                    added = True
    if added:
        with _lock:
            _ordered[:] = sorted(_forms, key=len, reverse=True)


def remember_fact_tokens(value: Any) -> None:
    """Every access or refresh token anywhere in a structure (the partner_token fact, a token result)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("access_token", "refresh_token", "client_secret", "value") and isinstance(item, str):
                remember(item)
            else:
                remember_fact_tokens(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            remember_fact_tokens(item)


def known() -> Iterable[str]:
    with _lock:
        return list(_ordered)


def redact(text: Any) -> Any:
    """The text without any remembered credential value, piece of one, or JWT."""
    if not isinstance(text, str) or not text:
        return text
    forms = known()
    for form in forms:
        if form in text:
            text = text.replace(form, MASK)

    def masked(match: re.Match) -> str:
        run = match.group(0)
        if any(run in form for form in forms):
            return MASK
        for form in forms:
            run = _without_piece(run, form)
        return _JWT.sub(MASK, run)
    return _TOKEN_RUN.sub(masked, text)


def _without_piece(run: str, form: str) -> str:
    """The run with the start or the end of a known value masked (an echo cut short, or one that
    begins inside it), when at least _PIECE characters of it show."""
    if len(form) < _PIECE:
        return run
    at = run.find(form[:_PIECE])
    if at >= 0:
        length = _PIECE
        while at + length < len(run) and length < len(form) and run[at + length] == form[length]:
            length += 1
        return run[:at] + MASK + run[at + length:]
    at = run.find(form[-_PIECE:])
    if at >= 0:
        start, index = at, len(form) - _PIECE  # run[start] is form[index]
        while start > 0 and index > 0 and run[start - 1] == form[index - 1]:
            start, index = start - 1, index - 1
        return run[:start] + MASK + run[at + _PIECE:]
    return run


def redact_everything(value: Any) -> Any:
    """Every string of a structure redacted (a failed result, a report)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_everything(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_everything(item) for item in value]
    if isinstance(value, tuple):
        return tuple(redact_everything(item) for item in value)
    return value


def redact_messages(value: Any) -> Any:
    """A result with the strings under its message keys (at any depth) redacted; other data kept."""
    if isinstance(value, dict):
        return {key: redact_everything(item) if key in MESSAGE_KEYS else redact_messages(item)
                for key, item in value.items()}
    if isinstance(value, list):
        return [redact_messages(item) for item in value]
    return value


def redact_result(result: dict[str, Any]) -> dict[str, Any]:
    """What a task hands back, its sentences redacted. Its data is kept: a failure may carry the
    rotated refresh token on purpose (in a result hidden from output)."""
    return redact_messages(result)
