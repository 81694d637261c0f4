from __future__ import annotations

import pytest

from ansible_collections.partnercenter.secure_app.plugins.module_utils._clouds import CLOUDS, resolve_cloud
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
    ("http://127.0.0.1:1001", "not a valid https URL"),
    ("login.example.com", "not a valid https URL"),
    ("https://", "not a valid https URL"),
    ("https://host:notaport", "invalid port"),
    ("https://host/path?x=1", "not a valid https URL"),
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
