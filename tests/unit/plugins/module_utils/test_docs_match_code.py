"""The facts the code relies on are written in docs/docsite: every AADSTS sentence, every cloud's
endpoints and the well-known ids the catalog uses (broken by: a new code or endpoint without docs)."""
from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.partnercenter.secure_app.plugins.module_utils import _catalog, _gdap_roles
from ansible_collections.partnercenter.secure_app.plugins.module_utils._clouds import CLOUDS
from ansible_collections.partnercenter.secure_app.plugins.module_utils._identity import (
    AADSTS_EXPLANATIONS, CUSTOMER_EXPLANATIONS)

DOCS = Path(__file__).resolve().parents[4] / "docs" / "docsite" / "rst"


def flat(name: str) -> str:
    return " ".join(DOCS.joinpath(name).read_text().split())


@pytest.mark.parametrize("code", sorted(AADSTS_EXPLANATIONS))
def test_every_aadsts_sentence_is_documented(code):
    assert f"AADSTS{code} - {' '.join(AADSTS_EXPLANATIONS[code].split())}" in flat("troubleshooting.rst")


@pytest.mark.parametrize("code", sorted(CUSTOMER_EXPLANATIONS))
def test_every_customer_sentence_is_documented(code):
    assert " ".join(CUSTOMER_EXPLANATIONS[code].split()) in flat("troubleshooting.rst")


@pytest.mark.parametrize("name", sorted(CLOUDS))
def test_every_cloud_is_documented(name):
    cloud = CLOUDS[name]
    text = flat("reference.rst")
    row = f"* - {name} - {cloud.login} - {cloud.graph} - {cloud.resource_manager} - {cloud.partner_center} - " \
          f"{cloud.keyvault_resource}"
    assert row in text


@pytest.mark.parametrize("value", sorted({v for k, v in vars(_catalog).items() if k.isupper() and isinstance(v, str)
                                          and k.endswith(("_ID", "_ALL", "_IMPERSONATION", "_ROLE"))}
                                         | set(_gdap_roles.CONSENT_ROLE_IDS)))
def test_every_well_known_id_is_documented(value):
    assert f"``{value}``" in flat("reference.rst")
