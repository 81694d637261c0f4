# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

One requests session per run, shared by msal, Graph, Partner Center, Resource Manager and Key
Vault: TLS verification always on (an optional CA bundle), timeouts, and urllib3's retries with
jittered backoff that honour Retry-After. Every wait is bounded: one wait by max_retry_wait, all
the retries of one call by deadline. Calls that create something and must not be replayed after
the server may have acted (addPassword) use a stricter policy.

No exception text from requests or urllib3 reaches a message: some quote the request's headers,
bearer token included. Each failure becomes a fixed sentence that names only the host."""

from __future__ import annotations

import json
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping, Sequence, Union
from urllib.parse import urljoin, urlparse

from ._errors import MissingLibraryError, SecureAppError, with_support_id

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
DEFAULT_MAX_RETRY_WAIT = 60
DEFAULT_DEADLINE = 300
# A listing longer than this many pages is a server that keeps sending next links: 5,000 pages are
# millions of entries at the services' page sizes.
MAX_PAGES = 5000


class RetryWaitExceeded(Exception):
    """A retry would wait longer than the caller allows: the call ends now, saying why."""

    def __init__(self, wanted: float, waited: float, attempts: int, status: int | None, over_single_wait: bool,
                 max_retry_wait: float, deadline: float) -> None:
        super().__init__("retry wait exceeded")
        self.wanted, self.waited, self.attempts, self.status = wanted, waited, attempts, status
        self.over_single_wait, self.max_retry_wait, self.deadline = over_single_wait, max_retry_wait, deadline

    def sentence(self, host: str) -> str:
        answer = f"HTTP {self.status}" if self.status else "no answer"
        if self.over_single_wait:
            return (f"{host} asked to wait {self.wanted:.0f} s before a retry (Retry-After, after {answer}), longer "
                    f"than max_retry_wait ({self.max_retry_wait:.0f} s): try again later, or raise max_retry_wait.")
        return (f"{host} still gave {answer} after {self.attempts} attempts and {self.waited:.0f} s of waiting "
                f"between them; the next wait ({self.wanted:.0f} s) would pass the deadline of "
                f"{self.deadline:.0f} s: try again later, or raise deadline.")


def _origin_key(scheme: str | None, host: str | None, port: int | None) -> str:
    """host:port, the unit a service throttles (the sandbox's services share one host)."""
    return f"{(host or '').lower()}:{port or (80 if scheme == 'http' else 443)}"


class ThrottleGate:
    """One pause per host for every thread of a run. Entra and Partner Center throttle per app and
    tenant, not per connection: when one answer is 429, the other threads' requests to that host
    would be throttled too, so none starts before its Retry-After (or backoff) has passed."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()
        self.pauses = 0

    def pause(self, host: str, seconds: float) -> None:
        with self._lock:
            until = time.monotonic() + seconds
            if until > self._until.get(host, 0.0):
                self._until[host] = until
                self.pauses += 1

    def wait(self, host: str) -> None:
        remaining = self._until.get(host, 0.0) - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)


if HAS_REQUESTS:
    class _BoundedRetry(Retry):
        """urllib3's Retry with two bounds it lacks: a single wait (a server may ask for minutes in
        Retry-After) and the time all retries of one call may take."""

        def __init__(self, *args: Any, max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT,
                     deadline: float = DEFAULT_DEADLINE, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.max_retry_wait = max_retry_wait
            self.deadline = deadline
            self.started = time.monotonic()
            self.waited = 0.0
            self.gate: ThrottleGate | None = None
            self.host = ""

        def new(self, **kw: Any) -> "_BoundedRetry":
            retry = super().new(**kw)
            retry.max_retry_wait, retry.deadline = self.max_retry_wait, self.deadline
            retry.started, retry.waited = self.started, self.waited
            retry.gate, retry.host = self.gate, self.host
            return retry

        def sleep(self, response: Any = None) -> None:
            super().sleep(response)
            if self.gate is not None:  # another thread's 429 may have asked for longer
                self.gate.wait(self.host)

        def for_one_call(self) -> "_BoundedRetry":
            retry = self.new()
            retry.started, retry.waited = time.monotonic(), 0.0
            return retry

        def _next_wait(self, response: Any) -> tuple[float, bool]:
            if response is not None and self.respect_retry_after_header:
                asked = self.get_retry_after(response)
                if asked is not None:
                    return asked, True
            return self.get_backoff_time(), False

        def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
            retry = super().increment(method, url, response, error, _pool, _stacktrace)
            wait, from_header = retry._next_wait(response)
            over_single_wait = from_header and wait > self.max_retry_wait
            if over_single_wait or time.monotonic() + wait - self.started > self.deadline:
                raise RetryWaitExceeded(wait, retry.waited, len(retry.history), getattr(response, "status", None),
                                        over_single_wait, self.max_retry_wait, self.deadline)
            retry.waited += wait
            if getattr(response, "status", None) == 429 and self.gate is not None:
                if _pool is not None:
                    retry.host = _origin_key(getattr(_pool, "scheme", None), _pool.host, _pool.port)
                self.gate.pause(retry.host, wait)
            return retry


def _retry(retries: int, replay_safe: bool, max_retry_wait: float, deadline: float) -> "Retry":
    return _BoundedRetry(
        max_retry_wait=max_retry_wait, deadline=deadline,
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

    def __init__(self, retries: int, pool_size: int, max_retry_wait: float, deadline: float) -> None:
        self.gate = ThrottleGate()
        self._safe = _retry(retries, True, max_retry_wait, deadline)
        self._strict = _retry(retries, False, max_retry_wait, deadline)
        self._safe.gate = self._strict.gate = self.gate
        self._current = threading.local()
        self.retries_seen = 0
        self._lock = threading.Lock()
        super().__init__(max_retries=self._safe, pool_connections=pool_size, pool_maxsize=pool_size)

    @property
    def max_retries(self) -> "Retry":  # read by HTTPAdapter.send
        return getattr(self._current, "policy", self._safe)

    @max_retries.setter
    def max_retries(self, policy: "Retry") -> None:  # HTTPAdapter.__init__ sets the default
        policy.gate = self.gate
        self._safe = policy

    def cert_verify(self, conn, url, verify, cert):
        # requests checks the CA bundle's path (exists, isdir) on every request, two file system
        # calls that a fan-out's threads each wait for; a pool keeps what the check set on it, so
        # it is checked again only when the bundle or the client certificate changes.
        checked = (url.lower().startswith("https"), verify, cert)
        if getattr(conn, "_secure_app_checked", None) != checked:
            super().cert_verify(conn, url, verify, cert)
            conn._secure_app_checked = checked  # pylint: disable=protected-access

    def send(self, request, *args, **kwargs):  # noqa: D401 - requests' signature
        # A fresh copy per call: the deadline counts from this call's first attempt.
        policy = self._strict if getattr(request, "create_once", False) else self._safe
        parsed = urlparse(request.url)
        host = _origin_key(parsed.scheme, parsed.hostname, parsed.port)
        self.gate.wait(host)  # a 429 seen by any thread pauses every new request to that host
        self._current.policy = policy.for_one_call()
        self._current.policy.host = host
        try:
            response = super().send(request, *args, **kwargs)
        finally:
            self._current.policy = self._safe
        history = getattr(getattr(response, "raw", None), "retries", None)
        if history is not None and history.history:
            with self._lock:
                self.retries_seen += len(history.history)
        return response


def _unchanged(request):
    """An authentication that leaves the request as it is (see HttpClient._netrc_auth)."""
    return request


def require_requests() -> None:
    if not HAS_REQUESTS:
        raise MissingLibraryError(
            "The Python package 'requests' (with urllib3 2 or later) is not installed where this task runs: "
            "pip install -r requirements.txt from the collection.")


class HttpClient:
    """The session plus what the identity layer learns from discovery documents on the way."""

    def __init__(self, ca_bundle: str | None = None, timeout: int = DEFAULT_TIMEOUT,
                 retries: int = DEFAULT_RETRIES, pool_size: int = 16, *,
                 max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT, deadline: float = DEFAULT_DEADLINE) -> None:
        require_requests()
        if ca_bundle and not os.path.isfile(ca_bundle):
            raise SecureAppError(f"The CA bundle '{ca_bundle}' does not exist: give the path of a PEM file.")
        for name, value in (("timeout", timeout), ("max_retry_wait", max_retry_wait), ("deadline", deadline)):
            if value <= 0:
                raise SecureAppError(f"{name} must be a positive number of seconds, not {value}.")
        if retries < 0:
            raise SecureAppError(f"retries must be 0 or more, not {retries}.")
        self.timeout = timeout
        self.deadline = deadline
        self.session = _OriginBoundSession()
        self.adapter = _Adapter(retries, pool_size, max_retry_wait, deadline)
        self.session.mount("https://", self.adapter)
        self.session.mount("http://", self.adapter)
        # requests lets REQUESTS_CA_BUNDLE override verify=None, so an explicit bundle is set on
        # the session and passed with every request; without one, the system store is used.
        self.ca_bundle = ca_bundle
        self.session.verify = ca_bundle or True
        self.session.headers["User-Agent"] = "partnercenter.secure_app"
        self._settings_by_origin: dict[tuple[str, str], dict[str, Any]] = {}
        self._netrc_by_origin: dict[tuple[str, str], Any] = {}

    @property
    def retries_seen(self) -> int:
        return self.adapter.retries_seen

    def ensure_pool(self, size: int) -> None:
        """At least size connections per host, for a fan-out with that many threads."""
        if size > self.adapter._pool_maxsize:  # pylint: disable=protected-access
            self.adapter.init_poolmanager(size, size)

    def _environment_settings(self, url: str) -> dict[str, Any]:
        """Proxies (and their exclusions) and the CA bundle from the environment, read once per
        origin (netrc: _netrc_auth): requests reads them again on every call, which a fan-out of
        a thousand token requests to one host pays in CPU. The result is the same, a proxy from
        the environment included."""
        parsed = urlparse(url)
        origin = (parsed.scheme, parsed.netloc)
        settings = self._settings_by_origin.get(origin)
        if settings is None:
            settings = self.session.merge_environment_settings(url, {}, None, self.session.verify, None)
            self._settings_by_origin[origin] = settings
        return dict(settings)

    def _netrc_auth(self, url: str) -> Any:
        """The netrc entry for the URL's host as requests would use it, read once per origin
        (requests reads the file on every request). Without one, an authentication that changes
        nothing: requests then reads no netrc for the request."""
        parsed = urlparse(url)
        origin = (parsed.scheme, parsed.netloc)
        auth = self._netrc_by_origin.get(origin)
        if auth is None:
            auth = requests.utils.get_netrc_auth(url) if self.session.trust_env else None
            auth = self._netrc_by_origin[origin] = auth or _unchanged
        return auth

    def request(self, method: str, url: str, *, create_once: bool = False, **kwargs: Any) -> "requests.Response":
        kwargs.setdefault("timeout", self.timeout)
        with sentences_for_transport_errors(url, self):
            prepared = self.session.prepare_request(requests.Request(method, url, auth=self._netrc_auth(url), **{
                key: kwargs.pop(key) for key in ("headers", "params", "json", "data") if key in kwargs}))
            prepared.create_once = create_once
            settings = self._environment_settings(prepared.url)
            settings.update(kwargs)
            return self.session.send(prepared, **settings)

    # msal takes any object with requests-like get/post. The session's CA bundle goes with every
    # request, because REQUESTS_CA_BUNDLE would otherwise override it.
    def get(self, url: str, **kwargs: Any) -> "requests.Response":
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> "requests.Response":
        return self.request("POST", url, **kwargs)

    def close(self) -> None:
        self.session.close()


class ForeignRedirect(Exception):
    """A service answered with a redirect to another origin."""

    def __init__(self, source: str, target: str) -> None:
        super().__init__("foreign redirect")
        self.source, self.target = source, target


if HAS_REQUESTS:
    class _OriginBoundSession(requests.Session):
        """A session that follows a redirect only within the origin the request was sent to. A
        redirect elsewhere would be followed without the token (requests strips it), and that
        other server's answer taken as Graph's or the vault's: it is refused instead."""

        def rebuild_auth(self, prepared_request, response):  # called for every redirect hop
            if _origin(prepared_request.url) != _origin(response.request.url):
                raise ForeignRedirect(response.request.url, prepared_request.url)
            super().rebuild_auth(prepared_request, response)


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parsed = urlparse(url)
    port = parsed.port or {"https": 443, "http": 80}.get(parsed.scheme)
    return parsed.scheme, (parsed.hostname or "").lower(), port


def redirect_sentence(source: str, target: str) -> str:
    return (f"{_host(source)} redirected the request to {_public_origin(target)}, another origin: refused, because "
            "its answer would not come from the service; check the endpoint URL, and a proxy or gateway between.")


def _public_origin(url: str) -> str:
    """scheme://host[:port] of a URL, never its user:password@ part, path or query."""
    parsed = urlparse(url)
    host = parsed.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    return f"{parsed.scheme}://{host}" + (f":{parsed.port}" if parsed.port else "")


@contextmanager
def sentences_for_transport_errors(url: str, http: HttpClient | None = None) -> Iterator[None]:
    """Turn what requests, urllib3 or a retry bound raise into one fixed sentence naming the host.
    The exception's own text is never used: an invalid header error quotes the header's value,
    and the header may be 'Authorization: Bearer ...'."""
    host = _host(url)
    try:
        yield
    except ForeignRedirect as exc:
        raise SecureAppError(redirect_sentence(exc.source, exc.target), code="foreign_redirect") from None
    except RetryWaitExceeded as exc:
        raise SecureAppError(exc.sentence(host), code="retry_wait_exceeded") from None
    except requests.exceptions.SSLError:
        raise SecureAppError(
            f"TLS verification failed for {host}: give ca_bundle with the CA that signed its certificate.",
            code="tls") from None
    except requests.exceptions.RetryError:
        retries = f" after {http.retries_seen} retries" if http else ""
        raise SecureAppError(f"{host} kept failing{retries}: try again later.", code="retries_exhausted") from None
    except requests.exceptions.Timeout:
        raise SecureAppError(f"{host} did not answer in time: raise timeout or try again later.",
                             code="timeout") from None
    except requests.exceptions.ConnectionError:
        raise SecureAppError(f"Cannot connect to {host}: check the endpoint URL and the network.",
                             code="connection") from None
    except (requests.exceptions.InvalidHeader, ValueError) as exc:
        raise SecureAppError(f"A request to {host} could not be sent: a header or parameter holds a character "
                             f"HTTP does not allow ({type(exc).__name__}); check the values given to the task.",
                             code="invalid_request") from None
    except requests.exceptions.RequestException as exc:
        raise SecureAppError(f"A request to {host} failed ({type(exc).__name__}): check the endpoint URL and "
                             "the network.", code="request_failed") from None


def same_origin_link(link: str, base: str) -> str:
    """A paging link resolved against base, refused unless it stays on base's https origin: the
    bearer token goes with the next request."""
    url = urljoin(base, link)
    wanted, got = urlparse(base), urlparse(url)
    if got.scheme != "https" or (got.hostname, got.port) != (wanted.hostname, wanted.port):
        raise SecureAppError(f"Refused to follow a paging link to {got.scheme}://{got.netloc}: it leaves "
                             f"{wanted.scheme}://{wanted.netloc}, and the access token would go with it.",
                             code="foreign_link")
    return url


def _host(url: str) -> str:
    """host[:port] of a URL for a sentence: never a user:password@ part."""
    parsed = urlparse(url)
    if not parsed.netloc:
        return url.split("@")[-1]
    return parsed.netloc.rsplit("@", 1)[-1]


def follow_pages(http: HttpClient, what: str, first: Any, next_of: Callable[[Any], tuple[str, dict[str, str]] | None],
                 fetch: Callable[[str, dict[str, str]], Any], max_pages: int = MAX_PAGES) -> Iterator[Any]:
    """Each page of a listing, first included. next_of(page) names the next request (a URL and
    the headers that belong to it, such as Partner Center's continuation token) or None at the
    end; fetch sends it. Bounded: a request seen before is a loop, more than max_pages is a
    server that never ends, and the whole listing must finish within the deadline of one call."""
    started = time.monotonic()
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    page, count = first, 1
    while True:
        yield page
        following = next_of(page)
        if not following:
            return
        url, headers = following
        key = (url, tuple(sorted(headers.items())))
        host = _host(url)
        if key in seen:
            raise SecureAppError(f"Stopped listing {what}: {host} sent the same next-page link again, which would "
                                 "repeat the listing without end; try again later, and report it to the service if "
                                 "it persists.", code="paging_loop")
        if count >= max_pages:
            raise SecureAppError(f"Stopped listing {what}: {host} still sent a next-page link after {max_pages} "
                                 "pages; narrow the request (a filter), or report it to the service.",
                                 code="paging_limit")
        if time.monotonic() - started > http.deadline:
            raise SecureAppError(f"Stopped listing {what}: {count} pages from {host} took longer than the deadline "
                                 f"of {http.deadline:.0f} s; raise deadline, or narrow the request.",
                                 code="paging_deadline")
        seen.add(key)
        page = fetch(url, headers)
        count += 1


def json_body(response: "requests.Response") -> Any:
    try:
        return response.json()
    except (ValueError, json.JSONDecodeError):
        return None


@dataclass(frozen=True)
class StatusHint:
    """What to tell the user instead of the service's own text for one HTTP status: a sentence
    after 'Failed to <action>: ' (where '{code}' stands for the service's error code), a code of
    the collection's own when it has one, and, when a status means several things, a test of the
    error body."""

    sentence: str
    code: str | None = None
    when: Callable[[Any], bool] | None = None


# status -> one hint or several (the first whose 'when' holds, or that has none, is used).
StatusHints = Mapping[int, Union[StatusHint, Sequence[StatusHint]]]


def service_error(action: str, response: "requests.Response", *, hints: StatusHints | None = None,
                  missing_ok: bool = False) -> SecureAppError | None:
    """'Failed to <action>: <the service's code and message>' keeping request ids for support, or
    the hint given for the status. None when missing_ok and the service says 404: for the caller,
    something absent is then an answer, not an error."""
    if missing_ok and response.status_code == 404:
        return None
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
    hint = _hint_for(hints or {}, response.status_code, body)
    if hint is not None:
        return SecureAppError(with_support_id(f"Failed to {action}: {hint.sentence.replace('{code}', str(code))}", details),
                              code=hint.code or code, status=response.status_code, details=details)
    text = f"Failed to {action}: HTTP {response.status_code}"
    if code or message:
        text += f" {code or ''} {message or ''}".rstrip()
    return SecureAppError(with_support_id(text.rstrip(".") + ".", details), code=code, status=response.status_code,
                          details=details)


def checked_response(response: "requests.Response", action: str, *, expected: tuple[int, ...] = (200,),
                     hints: StatusHints | None = None, missing_ok: bool = False) -> "requests.Response | None":
    """The response when its status is expected; None when missing_ok and the service says 404;
    otherwise the service_error, raised."""
    if response.status_code in expected:
        return response
    error = service_error(action, response, hints=hints, missing_ok=missing_ok)
    if error is None:
        return None
    raise error


def _hint_for(hints: StatusHints, status: int, body: Any) -> StatusHint | None:
    candidates = hints.get(status) or ()
    for hint in (candidates,) if isinstance(candidates, StatusHint) else candidates:
        if hint.when is None or hint.when(body):
            return hint
    return None
