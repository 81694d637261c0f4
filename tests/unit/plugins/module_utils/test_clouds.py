from __future__ import annotations

import pytest

from ansible_collections.partnercenter.secure_app.plugins.module_utils._clouds import CLOUDS, check_guid, resolve_cloud
from ansible_collections.partnercenter.secure_app.plugins.module_utils._errors import SecureAppError

SANDBOX = {"login": "https://127.0.0.1:1001", "graph": "https://127.0.0.1:1002", "resource_manager":
           "https://127.0.0.1:1003", "partner_center": "https://127.0.0.1:1004", "keyvault_resource": "https://0.0.1:1005"}


@pytest.mark.parametrize("name,login,graph,partner_center,vault", [
    ("AzureCloud", "https://login.microsoftonline.com", "https://graph.microsoft.com",
     "https://api.partnercenter.microsoft.com", "https://vault.azure.net"),
    ("AzureUSGovernment", "https://login.microsoftonline.us", "https://graph.microsoft.us",
     "https://api.partnercenter.microsoft.com", "https://vault.usgovcloudapi.net"),
    ("AzureChinaCloud", "https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn",
     "https://partner.partnercenterapi.microsoftonline.cn", "https://vault.azure.cn"),
])
def test_national_clouds(name, login, graph, partner_center, vault):
    cloud = resolve_cloud(name)
    assert (cloud.login, cloud.graph, cloud.partner_center, cloud.keyvault_resource) == (login, graph, partner_center, vault)
    assert cloud.instance_discovery is True
    assert cloud.default_scope("partner_center") == partner_center + "/user_impersonation"
    assert cloud.default_scope("graph") == graph + "/.default"


def test_default_is_the_public_cloud():
    assert resolve_cloud(None) is CLOUDS["AzureCloud"]


def test_instance_names_are_distinct():
    assert len({c.instance_name for c in CLOUDS.values()}) == 3


def test_custom_endpoints_win_and_skip_instance_discovery():
    cloud = resolve_cloud("AzureUSGovernment", dict(SANDBOX, name="sandbox"))
    assert cloud.name == "sandbox" and cloud.login == SANDBOX["login"]
    assert cloud.instance_discovery is False
    assert cloud.instance_name == "microsoftonline.com"
    assert cloud.authority("contoso.com") == "https://127.0.0.1:1001/contoso.com"
    with pytest.raises(SecureAppError, match="no endpoint for 'aad_graph'"):
        cloud.resource("aad_graph")


def test_unknown_cloud_names_the_choices():
    with pytest.raises(SecureAppError, match="Unknown cloud 'AzureGermany': use one of AzureCloud"):
        resolve_cloud("AzureGermany")


@pytest.mark.parametrize("value,message", [
    ("http://127.0.0.1:1001", "is not an https origin"),
    ("login.example.com", "is not an https origin"),
    ("https://", "is not an https origin"),
    ("https://host:notaport", "invalid port"),
    ("https://host/path?x=1", "is not an https origin"),
])
def test_malformed_endpoint(value, message):
    with pytest.raises(SecureAppError, match=message):
        resolve_cloud(None, dict(SANDBOX, login=value))


def test_missing_endpoints_are_named():
    with pytest.raises(SecureAppError, match="cloud_endpoints is missing graph, partner_center"):
        resolve_cloud(None, {k: v for k, v in SANDBOX.items() if k not in ("graph", "partner_center")})


def test_unknown_resource_key():
    with pytest.raises(SecureAppError, match="Unknown resource 'sharepoint'"):
        resolve_cloud(None).resource("sharepoint")


@pytest.mark.parametrize("name,resource_manager,aad_graph,instance", [
    ("AzureCloud", "https://management.azure.com", "https://graph.windows.net", "microsoftonline.com"),
    ("AzureUSGovernment", "https://management.usgovcloudapi.net", "https://graph.windows.net", "microsoftonline.us"),
    ("AzureChinaCloud", "https://management.chinacloudapi.cn", "https://graph.chinacloudapi.cn",
     "partner.microsoftonline.cn"),
])
def test_every_resource_of_each_cloud(name, resource_manager, aad_graph, instance):
    cloud = resolve_cloud(name)
    assert cloud.name == name and cloud.instance_name == instance
    assert cloud.resource("azure") == resource_manager and cloud.default_scope("azure") == resource_manager + "/.default"
    assert cloud.resource("aad_graph") == aad_graph
    assert cloud.default_scope("keyvault") == cloud.keyvault_resource + "/.default"
    assert cloud.resource("partner_center") == cloud.partner_center and cloud.resource("graph") == cloud.graph
    assert cloud.authority("3f2504e0-4f89-41d3-9a0c-0305e82c3301") == \
        f"{cloud.login}/3f2504e0-4f89-41d3-9a0c-0305e82c3301"


def test_custom_endpoints_take_the_optional_ones():
    cloud = resolve_cloud(None, dict(SANDBOX, aad_graph="https://127.0.0.1:1006/", cloud_instance_name="microsoftonline.us"))
    assert cloud.name == "custom" and cloud.aad_graph == "https://127.0.0.1:1006"
    assert cloud.instance_name == "microsoftonline.us"
    assert resolve_cloud(None, dict(SANDBOX, graph="https://127.0.0.1:1002/")).graph == "https://127.0.0.1:1002"


FIX = "give it as https://HOST[:PORT], without a path, query, fragment or user name."


@pytest.mark.parametrize("value,expected", [
    ("http://127.0.0.1:1001", f"The cloud endpoint 'login' ('http://127.0.0.1:1001') is not an https origin: {FIX}"),
    ("https://host:99999", f"The cloud endpoint 'login' ('https://host:99999') has an invalid port: {FIX}"),
    ("https://host#frag", f"The cloud endpoint 'login' ('https://host#frag') is not an https origin: {FIX}"),
    ("https://host\n", f"The cloud endpoint 'login' ('https://host\\n') holds white space or a character no URL "
                       f"has: {FIX}"),
    ("https://me:pa55word@host", f"The cloud endpoint 'login' ('https://host') holds a user name or password, "
                                 f"which is never sent this way: {FIX}"),
])
def test_endpoint_sentences(value, expected):
    with pytest.raises(SecureAppError) as caught:
        resolve_cloud(None, dict(SANDBOX, login=value))
    assert caught.value.message == expected


def test_a_tenant_sentence_hides_what_cannot_be_shown():
    with pytest.raises(SecureAppError) as caught:
        resolve_cloud(None).authority("common")
    assert caught.value.message == ("tenant_id 'common' is not a tenant: give the tenant's id (a GUID) or a verified "
                                    "domain such as contoso.onmicrosoft.com.")
    assert caught.value.code == "invalid_tenant"
    with pytest.raises(SecureAppError, match="'the value given' is not a tenant"):
        resolve_cloud(None).authority("x\ny")


GUID_VALUE = "aaaaaaaa-1111-4111-8111-111111111111"


@pytest.mark.parametrize("value,shown", [("../customers", "'../customers'"), ("", "''"),
                                         (GUID_VALUE + "\n/..", "'the value given'"), ("x" * 81, "'the value given'"),
                                         (GUID_VALUE[:-1], repr(GUID_VALUE[:-1]))])
def test_a_guid_check_shows_the_value_only_when_it_is_safe_to(value, shown):
    """Broken by: the GUID check's own cleaning (a line break or a pasted token shown)."""
    with pytest.raises(SecureAppError) as caught:
        check_guid(value, "customer_tenants entry", "the customer's tenant id")
    assert caught.value.message == f"customer_tenants entry {shown} is not a GUID: give the customer's tenant id."
    assert caught.value.code == "invalid_id"


def test_a_guid_is_returned_stripped():
    assert check_guid(f" {GUID_VALUE.upper()}\n", "application_id", "the SAM app's id") == GUID_VALUE.upper()
