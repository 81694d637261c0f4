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
# Each remembered form is found through an index of its 16-character windows (its first and
# last, and every 16th in between), so redacting a sentence costs a few dictionary look-ups per
# character whether the run knows one secret or the refresh tokens of a thousand customers.
_forms: set[str] = set()
_windows: dict[str, list[tuple[str, int]]] = {}  # window -> (form, where the window starts in it)
_plain_forms: list[str] = []  # forms shorter than a window or not made of token characters: few, searched as they are
_TOKEN_CHARACTERS = re.compile(r"[A-Za-z0-9._~+/=%-]+")


def _encodings(value: str) -> set[str]:
    return {value, quote_plus(value), quote(value, safe=""), json.dumps(value)[1:-1]}


def _index(form: str) -> None:
    if len(form) < _PIECE or not _TOKEN_CHARACTERS.fullmatch(form):
        _plain_forms.append(form)
        return
    starts = set(range(0, len(form) - _PIECE + 1, _PIECE)) | {len(form) - _PIECE}
    for start in starts:
        _windows.setdefault(form[start:start + _PIECE], []).append((form, start))


def remember(*values: Any) -> None:
    """Note credential values (None and short values are ignored)."""
    for value in values:
        if not isinstance(value, str):
            continue
        value = value.strip()
        if len(value) < MIN_SECRET_LENGTH or _JWT.fullmatch(value):
            continue  # a JWT is masked by its shape wherever it shows: no need to remember it
        with _lock:
            for form in _encodings(value):
                if form not in _forms:
                    _forms.add(form)
                    _index(form)


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
        return sorted(_forms, key=len, reverse=True)


def _known_spans(run: str) -> list[tuple[int, int]]:
    """Where the run holds a remembered form or a piece of one at least a window long."""
    if not _windows:  # no long secret remembered (a task given only a JWT): nothing to look up
        return []
    spans = []
    position = 0
    while position + _PIECE <= len(run):
        found = None
        for form, offset in _windows.get(run[position:position + _PIECE], ()):
            begin, index = position, offset  # run[begin] is form[index]
            while begin > 0 and index > 0 and run[begin - 1] == form[index - 1]:
                begin, index = begin - 1, index - 1
            finish, index = position + _PIECE, offset + _PIECE
            while finish < len(run) and index < len(form) and run[finish] == form[index]:
                finish, index = finish + 1, index + 1
            if found is None or finish - begin > found[1] - found[0]:
                found = (begin, finish)
        if found:
            spans.append(found)
            position = found[1]
        else:
            position += 1
    return spans


def _mask_run(match: re.Match) -> str:
    run = match.group(0)
    pieces, last = [], 0
    for begin, finish in _known_spans(run):
        if begin >= last:
            pieces.extend((run[last:begin], MASK))
            last = finish
    pieces.append(run[last:])
    return _JWT.sub(MASK, "".join(pieces))


def redact(text: Any) -> Any:
    """The text without any remembered credential value, piece of one, or JWT."""
    if not isinstance(text, str) or not text:
        return text
    with _lock:
        plain_forms = list(_plain_forms)
    for form in sorted(plain_forms, key=len, reverse=True):
        if form in text:
            text = text.replace(form, MASK)
    return _TOKEN_RUN.sub(_mask_run, text)


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
