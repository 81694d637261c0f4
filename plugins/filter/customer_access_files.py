# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The customer_access_files filter: the customer_access report as the texts of customer-access.json
and customer-access.html, in one pass over the report."""

from __future__ import annotations

DOCUMENTATION = r"""
name: customer_access_files
version_added: 1.1.0
short_description: The customer_access report as the JSON and HTML texts the role writes
description:
  - Renders a report of the P(partnercenter.secure_app.customer_access#filter) filter, in one pass, as the text of
    C(customer-access.json) (what C(to_nice_json(indent=2)) gives, and a newline) and as the page of a Jinja template,
    rendered as M(ansible.builtin.template) renders it (blocks trimmed, the trailing newline kept) with the variables
    C(customer_access_report) and C(partner_token).
  - The customer_access role writes its report with it; with thousands of customers it takes a fraction of the time
    that the template and C(to_nice_json) take over Ansible's variables.
  - The texts hold what the report and the template show, nothing else.
author:
  - partnercenter.secure_app developers (@partnercenter)
positional: template, partner
options:
  _input:
    description: The report the customer_access filter returned.
    type: dict
    required: true
  template:
    description: The text of the page's Jinja template (the role's is its C(templates/customer-access.html.j2)).
    type: str
    required: true
  partner:
    description: The partner tenant's C(tenant_id) and the service account's C(upn), the page's C(partner_token).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: The report of a customer given by tenant id (no token check)
  ansible.builtin.set_fact:
    report: "{{ ['00000000-0000-0000-0000-000000000001'] | partnercenter.secure_app.customer_access }}"

- name: Its JSON, and a page of one line
  ansible.builtin.debug:
    msg: "{{ report | partnercenter.secure_app.customer_access_files(page, partner_token) }}"
  vars:
    # The template as text: raw, Ansible itself does not render it.
    page: "{% raw %}<p>{{ customer_access_report.total }} customers of {{ partner_token.tenant_id | e }}</p>{% endraw %}"
"""

RETURN = r"""
_value:
  description:
    - "C(json), the report as C(customer-access.json) holds it; C(html), the rendered page; C(sentences), one line
      C(name: sentence) for each customer with a sentence, in the report's order (the role's summary shows them)."
  type: dict
"""

import json
import re
from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

try:  # ansible-core before 2.19 would template a fact's text again unless it is marked unsafe
    from ansible.utils.unsafe_proxy import wrap_var
except ImportError:  # pragma: no cover - later ansible-core never templates data
    def wrap_var(value: Any) -> Any:
        return value


def _plain(value: Any) -> Any:
    """value as plain dicts, lists and scalars: read once through Ansible's variables, then used as is."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _extract(item: Any, container: Any) -> Any:
    """Ansible's extract filter, as the template uses it."""
    return container[item]


def _match(value: Any, pattern: str) -> bool:
    """Ansible's match test, as the template uses it."""
    return value is not None and re.match(pattern, str(value)) is not None


def customer_access_files(report: dict[str, Any], template: str, partner: dict[str, Any]) -> dict[str, str]:
    # Only this filter needs Jinja itself: a sandboxed environment, as Ansible's own.
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    if not isinstance(report, Mapping) or not isinstance(report.get("customers"), list):
        raise AnsibleFilterError("customer_access_files: give it the report the customer_access filter returned.")
    if not isinstance(partner, Mapping):
        raise AnsibleFilterError("customer_access_files: partner must be a dict with tenant_id and upn.")
    data = _plain(report)
    # As ansible.builtin.template renders: blocks trimmed, the template's trailing newline kept, a
    # None rendered as nothing.
    environment = SandboxedEnvironment(trim_blocks=True, keep_trailing_newline=True, undefined=StrictUndefined,
                                       finalize=lambda value: "" if value is None else value)
    environment.filters["extract"] = _extract
    environment.tests["match"] = _match
    html = environment.from_string(str(template)).render(
        customer_access_report=data, partner_token={"tenant_id": partner.get("tenant_id"), "upn": partner.get("upn")})
    # Names come from Partner Center: the texts are data, never a template.
    return wrap_var({"json": json.dumps(data, indent=2, sort_keys=True, separators=(",", ": ")) + "\n",
                     "html": html,
                     "sentences": [f"{row.get('name')}: {row.get('sentence')}" for row in data["customers"]
                                   if row.get("sentence")]})


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"customer_access_files": customer_access_files}
