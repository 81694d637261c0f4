"""The partner_token fact turned into a task's connection arguments."""
from __future__ import annotations

import pytest

from ansible_collections.partnercenter.secure_app.plugins.module_utils._errors import SecureAppError
from ansible_collections.partnercenter.secure_app.plugins.module_utils._partner_token import arguments_from_fact

NOW = 1_800_000_000
FACT = {
    "tenant_id": "partner", "cloud": "AzureUSGovernment", "cloud_endpoints": {}, "ca_bundle": "/ca.pem",
    "resources": {"graph": {"access_token": "partner-graph", "expires_on": NOW + 3600}},
    "customers": {"AbC": {"azure": {"access_token": "customer-azure", "expires_on": NOW + 61}}},
    "customer_errors": [{"tenant_id": "broken", "error": "No consent for this resource."}],
}


def test_partner_tenant_token_and_cloud():
    expected = {"access_token": "partner-graph", "cloud": "AzureUSGovernment", "ca_bundle": "/ca.pem"}
    assert arguments_from_fact(FACT, "graph", now=NOW) == expected


def test_customer_token_by_tenant_in_any_case():
    assert arguments_from_fact(FACT, "azure", "abc", now=NOW)["access_token"] == "customer-azure"


@pytest.mark.parametrize("resource, tenant, sentence", [
    ("azure", None, "partner_token has no azure token for the partner tenant: run the partner_token role with azure "
                    "in partner_token_resources."),
    ("graph", "abc", "partner_token has no graph token for customer tenant abc: run the partner_token role with "
                     "graph in partner_token_resources and abc in partner_token_customer_tenants."),
    ("graph", "broken", "partner_token has no graph token for customer tenant broken: that tenant gave no token "
                        "(No consent for this resource)."),
])
def test_missing_token_says_how_to_get_it(resource, tenant, sentence):
    with pytest.raises(SecureAppError) as raised:
        arguments_from_fact(FACT, resource, tenant, now=NOW)
    assert raised.value.message == sentence and raised.value.code == "no_token"


def test_token_about_to_expire_is_refused():
    with pytest.raises(SecureAppError) as raised:
        arguments_from_fact(FACT, "azure", "abc", now=NOW + 2)
    assert raised.value.message == ("The azure token in partner_token for customer tenant abc has expired: run the "
                                    "partner_token role again.")


@pytest.mark.parametrize("fact", [None, "token", {"resources": []}, {}])
def test_not_the_fact(fact):
    with pytest.raises(SecureAppError) as raised:
        arguments_from_fact(fact, "graph", now=NOW)
    assert raised.value.code == "invalid_partner_token"
