# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

One requests session per run, shared by msal, Graph, Partner Center, Resource Manager and Key
Vault: TLS verification always on (an optional CA bundle), timeouts, and urllib3's retries with
jittered backoff that honour Retry-After. Calls that create something and must not be replayed
after the server may have acted (addPassword) use a stricter policy."""

from __future__ import annotations

import json
import os
import threading
from typing import Any
from urllib.parse import urlparse

from ._errors import MissingLibraryError, SecureAppError

try:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry
except ImportError:
    HAS_REQUESTS = False
    HTTPAdapter = object  # keeps the class below importable for the import sanity test
else:
    HAS_REQUESTS = True

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Statuses that say the server did not act on the request, so even a create may be resent.
NOT_ACTED_STATUSES = frozenset({429, 503})
DEFAULT_TIMEOUT = 30
DEFAULT_RETRIES = 6


def _retry(retries: int, replay_safe: bool) -> "Retry":
    return Retry(
        # A refused connection is mostly a wrong endpoint: retried briefly, not for half a minute.
        total=retries, connect=min(retries, 2), status=retries,
        # A read error (dropped connection) after sending a create may mean it was applied.
        read=retries if replay_safe else 0,
        other=0,
        allowed_methods=None,  # every method; which are safe is decided by replay_safe
        status_forcelist=RETRY_STATUSES if replay_safe else NOT_ACTED_STATUSES,
        backoff_factor=0.5, backoff_max=30, backoff_jitter=0.5,
        respect_retry_after_header=True, raise_on_status=False, raise_on_redirect=False,
    )


class _Adapter(HTTPAdapter):
    """Counts retries (a run reports how many it needed) and applies the stricter policy to
    requests marked as not replay-safe. The policy of a request is per thread, because the
    customer fan-out sends from several threads through this one adapter."""

    def __init__(self, retries: int, pool_size: int) -> None:
        self._safe = _retry(retries, True)
        self._strict = _retry(retries, False)
        self._current = threading.local()
        self.retries_seen = 0
        self._lock = threading.Lock()
        super().__init__(max_retries=self._safe, pool_connections=pool_size, pool_maxsize=pool_size)

    @property
    def max_retries(self) -> "Retry":  # read by HTTPAdapter.send
        return getattr(self._current, "policy", self._safe)

    @max_retries.setter
    def max_retries(self, policy: "Retry") -> None:  # HTTPAdapter.__init__ sets the default
        self._safe = policy

    def send(self, request, *args, **kwargs):  # noqa: D401 - requests' signature
        self._current.policy = self._strict if getattr(request, "create_once", False) else self._safe
        try:
            response = super().send(request, *args, **kwargs)
        finally:
            self._current.policy = self._safe
        history = getattr(getattr(response, "raw", None), "retries", None)
        if history is not None and history.history:
            with self._lock:
                self.retries_seen += len(history.history)
        return response


def require_requests() -> None:
    if not HAS_REQUESTS:
        raise MissingLibraryError(
            "The Python package 'requests' (with urllib3 2 or later) is not installed where this task runs: "
            "pip install -r requirements.txt from the collection.")


class HttpClient:
    """The session plus what the identity layer learns from discovery documents on the way."""

    def __init__(self, ca_bundle: str | None = None, timeout: int = DEFAULT_TIMEOUT,
                 retries: int = DEFAULT_RETRIES, pool_size: int = 16) -> None:
        require_requests()
        if ca_bundle and not os.path.isfile(ca_bundle):
            raise SecureAppError(f"The CA bundle '{ca_bundle}' does not exist: give the path of a PEM file.")
        self.timeout = timeout
        self.session = requests.Session()
        self.adapter = _Adapter(retries, pool_size)
        self.session.mount("https://", self.adapter)
        self.session.mount("http://", self.adapter)
        # requests lets REQUESTS_CA_BUNDLE override verify=None (PROTOCOL.md section 7), so an
        # explicit bundle is set on the session and wins; without one, the system store is used.
        self.ca_bundle = ca_bundle
        self.session.verify = ca_bundle or True
        self.session.headers["User-Agent"] = "partnercenter.secure_app"

    @property
    def retries_seen(self) -> int:
        return self.adapter.retries_seen

    def request(self, method: str, url: str, *, create_once: bool = False, **kwargs: Any) -> "requests.Response":
        kwargs.setdefault("timeout", self.timeout)
        prepared = self.session.prepare_request(requests.Request(method, url, **{
            key: kwargs.pop(key) for key in ("headers", "params", "json", "data") if key in kwargs}))
        prepared.create_once = create_once
        settings = self.session.merge_environment_settings(prepared.url, {}, None, self.session.verify, None)
        settings.update(kwargs)
        try:
            return self.session.send(prepared, **settings)
        except requests.exceptions.SSLError as exc:
            raise SecureAppError(
                f"TLS verification failed for {_host(url)}: give ca_bundle with the CA that signed its "
                "certificate.", code="tls") from exc
        except requests.exceptions.RetryError as exc:
            raise SecureAppError(f"{_host(url)} kept failing after {self.retries_seen} retries: try again "
                                 "later.", code="retries_exhausted") from exc
        except requests.exceptions.ConnectionError as exc:
            raise SecureAppError(f"Cannot connect to {_host(url)}: check the endpoint URL and the network.",
                                 code="connection") from exc
        except requests.exceptions.Timeout as exc:
            raise SecureAppError(f"{_host(url)} did not answer within {self.timeout} seconds: raise timeout or "
                                 "try again later.", code="timeout") from exc

    # msal takes any object with requests-like get/post; the bundle is passed per request because
    # REQUESTS_CA_BUNDLE would otherwise override the session's (PROTOCOL.md section 7).
    def get(self, url: str, **kwargs: Any) -> "requests.Response":
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("verify", self.session.verify)
        return self.session.get(url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> "requests.Response":
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("verify", self.session.verify)
        return self.session.post(url, **kwargs)

    def close(self) -> None:
        self.session.close()


def _host(url: str) -> str:
    return urlparse(url).netloc or url


def json_body(response: "requests.Response") -> Any:
    try:
        return response.json()
    except (ValueError, json.JSONDecodeError):
        return None


def service_error(action: str, response: "requests.Response") -> SecureAppError:
    """'Failed to <action>: <the service's code and message>' keeping request ids for support."""
    body = json_body(response)
    code, message = None, None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            code, message = error.get("code"), error.get("message")
        elif "description" in body:
            code, message = str(body.get("code")), body.get("description")
    request_ids = ("request-id", "client-request-id", "MS-RequestId", "MS-CorrelationId", "x-ms-request-id")
    details = {k: response.headers[k] for k in request_ids if k in response.headers}
    text = f"Failed to {action}: HTTP {response.status_code}"
    if code or message:
        text += f" {code or ''} {message or ''}".rstrip()
    return SecureAppError(text.rstrip(".") + ".", code=code, status=response.status_code, details=details)
