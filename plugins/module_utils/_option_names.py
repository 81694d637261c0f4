# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

A failure's sentence in the caller's terms. The shared layer's sentences name module options
(vault_tenant_id, tenant_id, ...); a role passes option_names, the mapping from those options to
the variables its user sets (vault_tenant_id: partner_token_vault_tenant_id), and every sentence
leaving a module or an action plugin says those names instead."""

from __future__ import annotations

import re
from typing import Any, Mapping

OPTION_NAMES_ARGUMENT_SPEC: dict[str, dict[str, Any]] = {"option_names": {"type": "dict"}}


def in_callers_terms(message: str, names: Mapping[str, Any] | None) -> str:
    """The message with each whole option name the mapping knows replaced by the caller's name.
    A name is whole when no letter, digit, '_', '.', '-' or '/' touches it (so vault_client_id is
    not read as client_id, nor a path or host name as an option)."""
    if not names or not isinstance(message, str):
        return message
    known = {str(option): str(name) for option, name in names.items() if option and name}
    if not known:
        return message
    pattern = re.compile(r"(?<![\w./-])(" + "|".join(re.escape(o) for o in sorted(known, key=len, reverse=True))
                         + r")(?![\w/-])")
    return pattern.sub(lambda match: known[match.group(1)], message)
