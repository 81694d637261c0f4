# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

Key Vault secrets through azure-keyvault-secrets, over the run's one HTTP session, with the
credential _vault_credentials selects (an access token, the SAM app's refresh token, a service
principal, or azure-identity's non-interactive chain)."""

from __future__ import annotations

import datetime
import os
import re
from typing import Any, Callable
from urllib.parse import urljoin, urlparse

from ._clouds import Cloud, check_origin_url
from ._errors import MissingLibraryError, SecureAppError, unexpected_error_sentence, with_support_id
from ._http import ForeignRedirect, HttpClient, RetryWaitExceeded, redirect_sentence
from ._redact import remember
from ._vault_credentials import VaultCredentialSettings, select_vault_credential

try:
    from azure.core.exceptions import (ClientAuthenticationError, HttpResponseError, ResourceExistsError,
                                       ResourceNotFoundError, ServiceRequestError)
    from azure.core.pipeline.transport import RequestsTransport
    from azure.identity import CredentialUnavailableError
    from azure.keyvault.secrets import SecretClient
except ImportError:
    HAS_AZURE = False
else:
    HAS_AZURE = True


# The vault's own identity, apart from the SAM app's tenant_id/client_id/client_secret, so that
# module_defaults for the whole action group can hold the SAM app without becoming the vault's.
KEYVAULT_ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "vault_url": {"type": "str", "required": True},
    "vault_tenant_id": {"type": "str"},
    "vault_client_id": {"type": "str"},
    "vault_client_secret": {"type": "str", "no_log": True},
}


def require_azure() -> None:
    if not HAS_AZURE:
        raise MissingLibraryError(
            "The Python packages 'azure-identity' and 'azure-keyvault-secrets' are not installed where this task "
            "runs: pip install -r requirements.txt from the collection.")


def _caused_by_tls(exc: BaseException) -> bool:
    """Whether a transport error comes from a failed TLS handshake (azure-core wraps requests')."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if type(current).__name__ in ("SSLError", "SSLCertVerificationError"):
            return True
        current = getattr(current, "inner_exception", None) or current.__cause__ or current.__context__
    return False


def _foreign_redirect(exc: BaseException) -> ForeignRedirect | None:
    """The session's refusal of a redirect, wherever azure-core wrapped it."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ForeignRedirect):
            return current
        current = getattr(current, "inner_exception", None) or current.__cause__ or current.__context__
    return None


def _request_id(exc: Any) -> str | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    return headers.get("x-ms-request-id")


def _epoch(value: datetime.datetime | None) -> int | None:
    return int(value.timestamp()) if value else None


def secret_view(secret: Any, with_value: bool) -> dict[str, Any]:
    properties = secret.properties
    view = {
        "name": properties.name, "version": properties.version, "id": properties.id,
        "content_type": properties.content_type, "tags": properties.tags or {}, "enabled": properties.enabled,
        "expires_on": _epoch(properties.expires_on), "created_on": _epoch(properties.created_on),
        "updated_on": _epoch(properties.updated_on),
    }
    if with_value:
        remember(secret.value)
        view["value"] = secret.value
    return view


class KeyVault:
    def __init__(self, http: HttpClient, cloud: Cloud, vault_url: str, *, access_token: str | None = None,
                 access_token_expires_on: int | None = None, tenant_id: str | None = None,
                 client_id: str | None = None, client_secret: str | None = None,
                 environment: dict[str, str] | None = None, sam_secret_given: bool = False,
                 exchange_refresh_token: Callable[[], tuple[str, int | None]] | None = None) -> None:
        require_azure()
        self.vault_url = check_origin_url("vault_url", vault_url, "https://NAME.vault.azure.net (or your cloud's "
                                          "vault suffix)")
        transport_options: dict[str, Any] = {"session": http.session, "session_owner": False}
        if http.ca_bundle:
            transport_options["connection_verify"] = http.ca_bundle
        self._transport_options = transport_options
        identity_options: dict[str, Any] = {"authority": cloud.login, "transport": self._transport()}
        if not cloud.instance_discovery:
            identity_options["disable_instance_discovery"] = True
        environment = os.environ if environment is None else environment
        remember(access_token, client_secret, environment.get("AZURE_SECRET"), environment.get("AZURE_CLIENT_SECRET"))
        self.sam_secret_given = sam_secret_given
        chosen = select_vault_credential(VaultCredentialSettings(
            access_token=access_token, access_token_expires_on=access_token_expires_on,
            exchange_refresh_token=exchange_refresh_token, tenant_id=tenant_id, client_id=client_id,
            client_secret=client_secret, environment=environment),
            identity_options)
        credential, self.credential_kind = chosen.credential, chosen.kind
        # Retries are the session's (one policy for every call), so azure-core does not add its own.
        # A redirect is never followed: another origin's answer is not the vault's (see _fail).
        self.client = SecretClient(self.vault_url, credential, transport=self._transport(), retry_total=0,
                                   permit_redirects=False)

    @classmethod
    def from_options(cls, context: Any) -> "KeyVault":
        """The vault of the task's options, with the credential they give: an access token; the
        SAM app's (or a public client's) refresh token, exchanged for a vault token; the vault's
        own service principal (vault_*); Automation Platform's Azure credential; or
        azure-identity's DefaultAzureCredential. tenant_id, client_id and client_secret alone are
        the SAM app's and never the vault's identity."""
        option = context.option

        def exchange() -> tuple[str, int | None]:
            exchanged = context.token_result("keyvault", f"use the vault {option('vault_url')}")
            return exchanged.access_token, exchanged.expires_on

        return cls(context.http, context.cloud, option("vault_url"), access_token=option("access_token"),
                   exchange_refresh_token=exchange if option("client_id") and option("refresh_token") else None,
                   tenant_id=option("vault_tenant_id"),
                   client_id=option("vault_client_id"), client_secret=option("vault_client_secret"),
                   sam_secret_given=bool(option("client_secret")) and not option("refresh_token"))

    def _transport(self) -> "RequestsTransport":
        return RequestsTransport(**self._transport_options)

    def _fail(self, action: str, name: str, exc: Exception) -> SecureAppError:
        """One sentence per kind of failure. ClientAuthenticationError is a subclass of
        HttpResponseError: a credential that could not get a token raises it with no HTTP status, so
        it is tested first. Exception texts are not quoted: they may hold request details."""
        what = f"Failed to {action} secret {name!r}"
        redirect = _foreign_redirect(exc)
        if redirect is not None:
            return SecureAppError(f"{what}: {redirect_sentence(redirect.source, redirect.target)}",
                                  code="foreign_redirect")
        if isinstance(exc, RetryWaitExceeded):
            return SecureAppError(f"{what}: {exc.sentence(urlparse(self.vault_url).netloc)}",
                                  code="retry_wait_exceeded")
        chain_found_nothing = isinstance(exc, ClientAuthenticationError) and exc.status_code is None and \
            self.credential_kind.startswith("azure-identity's") and "unavailable" in str(exc).lower()
        if isinstance(exc, CredentialUnavailableError) or chain_found_nothing:
            hint = (" (client_id and client_secret are the SAM app's, not the vault's: give the vault's service "
                    "principal as vault_tenant_id, vault_client_id and vault_client_secret)") if self.sam_secret_given else ""
            return SecureAppError(
                f"{what}: no Key Vault credential is available{hint}: give access_token, a service principal "
                "(vault_tenant_id, vault_client_id, vault_client_secret), set AZURE_TENANT_ID/AZURE_CLIENT_ID/"
                "AZURE_CLIENT_SECRET, use a managed identity, or run 'az login'.", code="no_credential")
        if isinstance(exc, ClientAuthenticationError) and exc.status_code is None:
            aadsts = re.search(r"AADSTS(\d+)", str(exc))
            said = f" (Entra said AADSTS{aadsts.group(1)})" if aadsts else ""
            return SecureAppError(
                f"{what}: the Key Vault credential ({self.credential_kind}) could not get a token{said}: check its "
                "tenant, client id and secret (or the managed identity), and that it exists in this cloud.",
                code=f"AADSTS{aadsts.group(1)}" if aadsts else "vault_credential_failed")
        if isinstance(exc, ServiceRequestError):
            if _caused_by_tls(exc):
                return SecureAppError(
                    f"{what}: TLS verification failed for {self.vault_url}: give ca_bundle with the CA that signed "
                    "its certificate.", code="tls")
            return SecureAppError(f"{what}: cannot reach {self.vault_url}: check vault_url (the vault name) and the "
                                  "network.", code="vault_unreachable")
        if isinstance(exc, HttpResponseError) and exc.status_code is not None and 300 <= exc.status_code < 400:
            location = str((getattr(getattr(exc, "response", None), "headers", None) or {}).get("Location") or "")
            target = urljoin(self.vault_url + "/", location)
            if location and urlparse(target).netloc.lower() != urlparse(self.vault_url).netloc.lower():
                return SecureAppError(f"{what}: {redirect_sentence(self.vault_url, target)}", code="foreign_redirect",
                                      status=exc.status_code)
            return SecureAppError(f"{what}: {self.vault_url} answered with a redirect (HTTP {exc.status_code}), which "
                                  "Key Vault never sends: check vault_url, and a proxy or gateway between.",
                                  code="redirect", status=exc.status_code)
        if isinstance(exc, HttpResponseError) and exc.status_code is not None:
            code = getattr(getattr(exc, "error", None), "code", None)
            request_id = _request_id(exc)
            details = {"x-ms-request-id": request_id} if request_id else {}
            if exc.status_code == 403:
                return SecureAppError(with_support_id(
                    f"{what}: access denied by {self.vault_url} for {self.credential_kind}: grant it secret "
                    "permissions (an access policy or the 'Key Vault Secrets Officer' role).", details),
                    code=code or "Forbidden", status=403, details=details)
            if exc.status_code == 401:
                return SecureAppError(with_support_id(
                    f"{what}: {self.vault_url} refused the token: use a token for the vault's resource in the "
                    "vault's tenant.", details), code=code or "Unauthorized", status=401, details=details)
            message = getattr(getattr(exc, "error", None), "message", None) or exc.reason or ""
            text = f"{what} in {self.vault_url}: HTTP {exc.status_code} {code or ''} {message}".rstrip()
            return SecureAppError(with_support_id(text.rstrip(".") + ".", details), code=code,
                                  status=exc.status_code, details=details)
        return SecureAppError(unexpected_error_sentence(exc, f"{what}:"))

    def _guard(self, action: str, name: str, function):
        try:
            return function()
        except SecureAppError:
            raise
        except Exception as exc:  # every azure failure becomes one sentence
            raise self._fail(action, name, exc) from None

    # operations ----------------------------------------------------------------------------------
    def get(self, name: str, version: str | None = None) -> Any | None:
        def read():
            try:
                return self.client.get_secret(name, version)
            except ResourceNotFoundError:
                return None
        return self._guard("read", name, read)

    def deleted(self, name: str) -> Any | None:
        def read():
            try:
                return self.client.get_deleted_secret(name)
            except ResourceNotFoundError:
                return None
            except HttpResponseError as exc:
                if exc.status_code == 403:  # no 'list' permission on deleted secrets: treat as unknown
                    return None
                raise
        return self._guard("read deleted", name, read)

    def set(self, name: str, value: str, *, content_type: str | None, tags: dict[str, str] | None,
            expires_on: int | None) -> Any:
        expires = datetime.datetime.fromtimestamp(expires_on, datetime.timezone.utc) if expires_on else None
        remember(value)

        def write():
            try:
                return self.client.set_secret(name, value, content_type=content_type, tags=tags, expires_on=expires)
            except ResourceExistsError as exc:
                raise SecureAppError(
                    f"Secret {name!r} is soft-deleted in {self.vault_url}: recover it (recover_deleted: true) or "
                    "purge it before setting it again.", code="ObjectIsDeletedButRecoverable", status=409) from exc
        return self._guard("set", name, write)

    def update_properties(self, name: str, version: str, *, content_type: str | None, tags: dict[str, str] | None,
                          expires_on: int | None) -> Any:
        expires = datetime.datetime.fromtimestamp(expires_on, datetime.timezone.utc) if expires_on else None
        return self._guard("update", name, lambda: self.client.update_secret_properties(
            name, version, content_type=content_type, tags=tags, expires_on=expires))

    def recover(self, name: str) -> Any:
        return self._guard("recover", name, lambda: self.client.begin_recover_deleted_secret(name).result())

    def delete(self, name: str) -> Any:
        return self._guard("delete", name, lambda: self.client.begin_delete_secret(name).result())

    def purge(self, name: str) -> None:
        self._guard("purge", name, lambda: self.client.purge_deleted_secret(name))
