# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

The options every plugin shares (cloud, TLS, retries, credentials), read the same way from a
module's params and a plugin's get_option, and the per-run objects built from them."""

from __future__ import annotations

from typing import Any, Callable

from ansible.module_utils.common.parameters import env_fallback

from ._clouds import CLOUDS, Cloud, check_tenant, resolve_cloud
from ._errors import SecureAppError
from ._http import DEFAULT_DEADLINE, DEFAULT_MAX_RETRY_WAIT, DEFAULT_RETRIES, DEFAULT_TIMEOUT, HttpClient
from ._identity import Identity, TokenResult
from ._option_names import OPTION_NAMES_ARGUMENT_SPEC
from ._redact import remember
from ._sam_credential import CREDENTIAL_ARGUMENT_SPEC, ClientCredential, credential_from_options

# Argument spec shared by the modules; the doc fragment partnercenter.secure_app.common documents it.
COMMON_ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "cloud": {"type": "str", "default": "AzureCloud", "choices": list(CLOUDS),
              "fallback": (env_fallback, ["PARTNERCENTER_CLOUD"])},
    "cloud_endpoints": {"type": "dict"},
    "ca_bundle": {"type": "path", "fallback": (env_fallback, ["PARTNERCENTER_CA_BUNDLE"])},
    "timeout": {"type": "int", "default": DEFAULT_TIMEOUT},
    "retries": {"type": "int", "default": DEFAULT_RETRIES},
    "max_retry_wait": {"type": "int", "default": DEFAULT_MAX_RETRY_WAIT},
    "deadline": {"type": "int", "default": DEFAULT_DEADLINE},
    "tenant_id": {"type": "str", "fallback": (env_fallback, ["PARTNERCENTER_TENANT_ID"])},
    "client_id": {"type": "str", "no_log": False, "fallback": (env_fallback, ["PARTNERCENTER_CLIENT_ID"])},
    "client_secret": {"type": "str", "no_log": True, "fallback": (env_fallback, ["PARTNERCENTER_CLIENT_SECRET"])},
    "refresh_token": {"type": "str", "no_log": True, "fallback": (env_fallback, ["PARTNERCENTER_REFRESH_TOKEN"])},
    "access_token": {"type": "str", "no_log": True},
    **OPTION_NAMES_ARGUMENT_SPEC,
    **CREDENTIAL_ARGUMENT_SPEC,
}


# Options that hold a credential: cleaned and checked before any use (see clean_credential).
CREDENTIAL_OPTIONS = frozenset({"client_secret", "refresh_token", "access_token", "vault_client_secret"})


def clean_credential(value: Any, option: str) -> str | None:
    """A token or secret without the white space around it (a YAML '|' block adds a line break),
    refused when anything but printable ASCII remains. It goes into an HTTP header or form, and a
    line break there makes requests raise an error that quotes the whole header."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    remember(text, str(value))
    if any(not (33 <= ord(character) <= 126) for character in text):
        raise SecureAppError(f"{option} holds a space, line break or other character that no token or secret has: "
                             "give the value alone (a YAML '|' block adds a line break: use '>-' or '| trim').",
                             code="invalid_credential")
    return text


def _number(value: Any, default: int) -> int:
    return default if value is None else value


class Context:
    """What one task run needs: the cloud, one HTTP session, msal applications."""

    def __init__(self, get_option: Callable[[str], Any]) -> None:
        self._get_option = get_option
        self.cloud: Cloud = resolve_cloud(get_option("cloud"), get_option("cloud_endpoints"))
        self.http = HttpClient(
            get_option("ca_bundle"), _number(get_option("timeout"), DEFAULT_TIMEOUT),
            _number(get_option("retries"), DEFAULT_RETRIES),
            max_retry_wait=_number(get_option("max_retry_wait"), DEFAULT_MAX_RETRY_WAIT),
            deadline=_number(get_option("deadline"), DEFAULT_DEADLINE))
        self._identity: Identity | None = None
        self._client_credential: tuple[ClientCredential] | None = None

    def option(self, name: str) -> Any:
        """An option's value; credentials come cleaned (see clean_credential)."""
        value = self._get_option(name)
        return clean_credential(value, name) if name in CREDENTIAL_OPTIONS else value

    @property
    def identity(self) -> Identity:
        if self._identity is None:
            self._identity = Identity(self.http, self.cloud)
        return self._identity

    def client_credential(self) -> ClientCredential:
        """The SAM app's credential as msal takes it (secret, certificate or federated), made once per
        run so that its msal applications are reused."""
        if self._client_credential is None:
            self._client_credential = (credential_from_options(self.option, self.http),)
        return self._client_credential[0]

    def tenant(self) -> str:
        tenant = self.option("tenant_id")
        if not tenant:
            raise SecureAppError("tenant_id is required: give the partner tenant's id or verified domain.")
        return check_tenant(tenant)

    def token(self, resource: str, purpose: str) -> str:
        """An access token for one of the cloud's resources, from whichever credential was given:
        an access token as is, a refresh token (app + user), or a client secret (app only)."""
        given = self.option("access_token")
        if given:
            return given
        return self.token_result(resource, purpose).access_token

    def token_result(self, resource: str, purpose: str) -> TokenResult:
        client_id = self.option("client_id")
        refresh_token = self.option("refresh_token")
        client_secret = self.client_credential()
        if client_id and refresh_token:
            return self.identity.refresh(client_id, client_secret, self.tenant(), refresh_token,
                                         [self.cloud.default_scope(resource)])
        if client_id and client_secret:
            return self.identity.client_credentials(client_id, client_secret, self.tenant(),
                                                    f"{self.cloud.resource(resource)}/.default")
        raise SecureAppError(
            f"No credential to {purpose}: give access_token, or client_id with refresh_token (and the app's "
            "credential for a confidential app: client_secret, client_certificate or client_assertion_source), or "
            "client_id with that credential for a service principal.")

    def close(self) -> None:
        self.http.close()
