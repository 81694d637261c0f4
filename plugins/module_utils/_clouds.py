# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

The national clouds and their endpoints, or explicit endpoints for a
custom cloud such as the sandbox. Nothing else in the collection names a host."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from ._errors import SecureAppError

# Hosts msal knows; any other login host needs instance_discovery=False (offline, custom clouds).
MICROSOFT_LOGIN_HOSTS = frozenset({
    "login.microsoftonline.com", "login.microsoftonline.us", "login.chinacloudapi.cn",
    "login.partner.microsoftonline.cn", "login.windows.net", "login.microsoft.com", "sts.windows.net",
})


GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# A DNS name of two or more labels: letters, digits and inner hyphens.
DOMAIN = re.compile(r"^(?=.{4,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
                    r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$")  # the top-level label: letters or punycode


def check_tenant(value: Any, option: str = "tenant_id") -> str:
    """A tenant as the collection accepts it: a GUID or a verified domain name. The aliases
    'common', 'organizations' and 'consumers', and anything that could change the authority's
    path (a slash, '..', '?', '#', a line break), would let Entra pick another tenant, whose tokens
    would then be filed under this name."""
    text = value.strip() if isinstance(value, str) else ""
    if not (GUID.fullmatch(text) or DOMAIN.fullmatch(text)):
        raise SecureAppError(f"{option} {shown_value(text)!r} is not a tenant: give the tenant's id (a GUID) or a "
                             "verified domain such as contoso.onmicrosoft.com.", code="invalid_tenant")
    return text


def check_guid(value: Any, option: str, what: str) -> str:
    """A GUID (an application or tenant id that goes into a URL path), stripped; what says what
    to give instead, such as "the customer's tenant id"."""
    text = str(value).strip()
    if not is_guid(text):
        raise SecureAppError(f"{option} {shown_value(text)!r} is not a GUID: give {what}.", code="invalid_id")
    return text


def shown_value(text: str) -> str:
    """A refused value as a message may show it: itself when short and printable, else a stand-in
    (a line break or a pasted token must not reach the output)."""
    return text if text.isprintable() and len(text) <= 80 else "the value given"


def is_guid(value: str) -> bool:
    return bool(GUID.fullmatch(value))


@dataclass(frozen=True)
class Cloud:
    name: str
    login: str
    graph: str
    resource_manager: str
    partner_center: str
    keyvault_resource: str
    aad_graph: str | None
    # What a tenant's discovery document says when the tenant lives in this cloud.
    instance_name: str

    @property
    def instance_discovery(self) -> bool:
        return urlparse(self.login).hostname in MICROSOFT_LOGIN_HOSTS

    def authority(self, tenant: str) -> str:
        return f"{self.login}/{check_tenant(tenant)}"

    def resource(self, key: str) -> str:
        """The resource identifier (token audience) for a resource key."""
        identifiers = {
            "partner_center": self.partner_center,
            "graph": self.graph,
            "azure": self.resource_manager,
            "keyvault": self.keyvault_resource,
            "aad_graph": self.aad_graph,
        }
        if key not in identifiers:
            raise SecureAppError(f"Unknown resource '{key}': use one of {', '.join(sorted(identifiers))}.")
        identifier = identifiers[key]
        if not identifier:
            raise SecureAppError(f"The cloud {self.name} has no endpoint for '{key}'.")
        return identifier

    def default_scope(self, key: str) -> str:
        """The v2 scope for a resource: Partner Center wants user_impersonation, others .default."""
        if key == "partner_center":
            return f"{self.partner_center}/user_impersonation"
        return f"{self.resource(key)}/.default"


CLOUDS: dict[str, Cloud] = {
    "AzureCloud": Cloud(
        name="AzureCloud", login="https://login.microsoftonline.com", graph="https://graph.microsoft.com",
        resource_manager="https://management.azure.com", partner_center="https://api.partnercenter.microsoft.com",
        keyvault_resource="https://vault.azure.net", aad_graph="https://graph.windows.net",
        instance_name="microsoftonline.com"),
    "AzureUSGovernment": Cloud(
        name="AzureUSGovernment", login="https://login.microsoftonline.us", graph="https://graph.microsoft.us",
        resource_manager="https://management.usgovcloudapi.net",
        partner_center="https://api.partnercenter.microsoft.com",
        keyvault_resource="https://vault.usgovcloudapi.net", aad_graph="https://graph.windows.net",
        instance_name="microsoftonline.us"),
    "AzureChinaCloud": Cloud(
        name="AzureChinaCloud", login="https://login.chinacloudapi.cn",
        graph="https://microsoftgraph.chinacloudapi.cn", resource_manager="https://management.chinacloudapi.cn",
        partner_center="https://partner.partnercenterapi.microsoftonline.cn",
        keyvault_resource="https://vault.azure.cn", aad_graph="https://graph.chinacloudapi.cn",
        instance_name="partner.microsoftonline.cn"),
}

CLOUD_BY_INSTANCE = {cloud.instance_name: cloud.name for cloud in CLOUDS.values()}
ENDPOINT_KEYS = ("login", "graph", "resource_manager", "partner_center", "keyvault_resource")


def shown_url(value: Any) -> str:
    """A URL as a sentence may quote it: without a user:password@ part, white space made visible."""
    text = str(value)
    scheme, separator, rest = text.partition("://")
    if separator:
        authority, slash, path = rest.partition("/")
        text = f"{scheme}://{authority.rsplit('@', 1)[-1]}{slash}{path}"
    return repr(text)


def check_origin_url(what: str, value: Any, example: str) -> str:
    """An https origin (https://HOST[:PORT], nothing else), refused with one sentence otherwise.
    The raw text is checked before parsing: urllib drops line breaks and tabs silently."""
    fix = f"give it as {example}, without a path, query, fragment or user name"
    if not isinstance(value, str) or any(not (33 <= ord(c) <= 126) for c in value):
        raise SecureAppError(f"{what} ({shown_url(value)}) holds white space or a character no URL has: {fix}.")
    parsed = urlparse(value)
    if "@" in parsed.netloc:
        raise SecureAppError(f"{what} ({shown_url(value)}) holds a user name or password, which is never sent "
                             f"this way: {fix}.")
    if parsed.scheme != "https" or not parsed.hostname or parsed.query or parsed.fragment or \
            parsed.path not in ("", "/") or value.endswith(("?", "#")):
        raise SecureAppError(f"{what} ({shown_url(value)}) is not an https origin: {fix}.")
    try:
        parsed.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise SecureAppError(f"{what} ({shown_url(value)}) has an invalid port: {fix}.") from None
    return value.rstrip("/")


def _check_url(key: str, value: Any) -> str:
    return check_origin_url(f"The cloud endpoint '{key}'", value, "https://HOST[:PORT]")


def resolve_cloud(name: str | None, endpoints: dict[str, Any] | None = None) -> Cloud:
    """The cloud named, or a custom one from explicit endpoints (which win over the name)."""
    if endpoints:
        missing = [key for key in ENDPOINT_KEYS if not endpoints.get(key)]
        if missing:
            raise SecureAppError(
                f"cloud_endpoints is missing {', '.join(missing)}: give all of {', '.join(ENDPOINT_KEYS)}.")
        values = {key: _check_url(key, endpoints[key]) for key in ENDPOINT_KEYS}
        aad_graph = _check_url("aad_graph", endpoints["aad_graph"]) if endpoints.get("aad_graph") else None
        return Cloud(name=str(endpoints.get("name") or "custom"), aad_graph=aad_graph,
                     instance_name=str(endpoints.get("cloud_instance_name") or "microsoftonline.com"), **values)
    cloud_name = name or "AzureCloud"
    if cloud_name not in CLOUDS:
        raise SecureAppError(
            f"Unknown cloud '{cloud_name}': use one of {', '.join(CLOUDS)}, or give cloud_endpoints.")
    return CLOUDS[cloud_name]
