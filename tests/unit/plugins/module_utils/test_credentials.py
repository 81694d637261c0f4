"""Credentials and tenants as the shared layer accepts them."""
from __future__ import annotations

import pytest

from ansible_collections.partnercenter.secure_app.plugins.module_utils._clouds import check_tenant
from ansible_collections.partnercenter.secure_app.plugins.module_utils._context import clean_credential
from ansible_collections.partnercenter.secure_app.plugins.module_utils._errors import SecureAppError


@pytest.mark.parametrize("given", ["eyJ0.eyJ1.sig\n", "  eyJ0.eyJ1.sig", "eyJ0.eyJ1.sig\r\n"])
def test_white_space_around_a_credential_is_removed(given):
    assert clean_credential(given, "access_token") == "eyJ0.eyJ1.sig"


@pytest.mark.parametrize("given", ["eyJ0\n.sig", "Bearer eyJ0", "tok\x00en", "tökén"])
def test_a_credential_with_other_characters_is_refused_without_its_value(given):
    with pytest.raises(SecureAppError) as caught:
        clean_credential(given, "refresh_token")
    assert given.strip() not in caught.value.message
    assert caught.value.message.startswith("refresh_token holds a space, line break or other character")


@pytest.mark.parametrize("tenant", ["3f2504e0-4f89-41d3-9a0c-0305e82c3301", "contoso.onmicrosoft.com",
                                    "fabrikam.co.uk", "xn--bcher-kva.example", "contoso.xn--p1ai"])
def test_tenants_that_are_accepted(tenant):
    assert check_tenant(tenant) == tenant


@pytest.mark.parametrize("tenant", ["common", "organizations", "consumers", "x.onmicrosoft.com/../common",
                                    "contoso.com?x", "contoso.com#x", "contoso.com\nx.com", "a b.com", "", None,
                                    "3f2504e0-4f89-41d3-9a0c-0305e82c3301/oauth2", "-bad.com", "contoso.c0m"])
def test_tenants_that_are_refused(tenant):
    with pytest.raises(SecureAppError, match="is not a tenant"):
        check_tenant(tenant)
