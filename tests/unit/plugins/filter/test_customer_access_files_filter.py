"""The customer_access_files filter: the report's JSON as to_nice_json(indent=2) writes it, and a
template rendered as ansible.builtin.template renders it (blocks trimmed, trailing newline kept,
None as nothing, values escaped only where the template says so). The role's own template against
Ansible's rendering: tests/integration/test_report.py."""
from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.partnercenter.secure_app.plugins.filter.customer_access import customer_access
from ansible_collections.partnercenter.secure_app.plugins.filter.customer_access_files import (
    FilterModule, customer_access_files)

HOSTILE = "Zeta & <script>alert('x')</script> \"Co\" {{ lookup('pipe', 'id') }}"
PARTNER = {"tenant_id": "p-1", "upn": "a&b@x.example"}


def report():
    return customer_access([{"tenant_id": "t-1", "company_name": HOSTILE}, "t-2"], [], [], [], [], ["graph"])


def test_the_json_is_what_to_nice_json_writes_with_a_newline():
    data = report()
    files = customer_access_files(data, "", PARTNER)
    assert files["json"] == json.dumps(data, indent=2, sort_keys=True, separators=(",", ": ")) + "\n"
    assert json.loads(files["json"]) == data


def test_the_page_is_rendered_as_ansible_renders_a_template():
    template = ("{% for row in customer_access_report.customers %}\n"
                "{{ row.name | e }}|{{ row.name }}|{{ none_value }}|{{ row.changes | map('extract', labels) | join(',') }}"
                "|{{ 'link' if row.invitation_link is match('https://') else 'text' }}\n"
                "{% endfor %}\n{{ partner_token.upn | e }}\n")
    files = customer_access_files(report(), "{% set labels = {} %}{% set none_value = none %}" + template, PARTNER)
    # A customer given by tenant id is named by it; rows in the report's order; None is nothing.
    assert files["html"] == (
        "t-2|t-2|||text\n"
        "Zeta &amp; &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &#34;Co&#34; {{ lookup(&#39;pipe&#39;, &#39;id&#39;) }}"
        f"|{HOSTILE}|||text\n"
        "a&amp;b@x.example\n")


def test_match_and_extract_as_ansible_has_them():
    page = customer_access_files({"customers": [{"link": "https://x/y", "changes": ["a"]},
                                                {"link": "javascript:x", "changes": []}, {"link": None, "changes": []}]},
                                 "{% for row in customer_access_report.customers %}{{ row.link is match('https://') }}"
                                 "{{ row.changes | map('extract', {'a': 'A'}) | join }};{% endfor %}", PARTNER)["html"]
    assert page == "TrueA;False;False;"


def test_an_undefined_variable_fails_and_only_the_two_partner_values_are_given():
    with pytest.raises(Exception, match="access_token"):
        customer_access_files(report(), "{{ partner_token.access_token }}", dict(PARTNER, access_token="secret"))


@pytest.mark.parametrize("bad", [None, [], {"customers": "x"}])
def test_anything_but_a_report_is_refused(bad):
    with pytest.raises(AnsibleFilterError, match="customer_access filter returned"):
        customer_access_files(bad, "", PARTNER)


def test_the_filter_is_registered():
    assert FilterModule().filters() == {"customer_access_files": customer_access_files}


def test_the_sentences_are_the_summary_lines_of_the_customers_with_one():
    data = {"customers": [{"name": "A & B", "sentence": "No GDAP."}, {"name": "C", "sentence": ""},
                          {"name": None, "sentence": "Unnamed."}]}
    assert customer_access_files(data, "", PARTNER)["sentences"] == ["A & B: No GDAP.", "None: Unnamed."]
