"""The retry policy's documented values and the fixed sentences of the HTTP layer: what a
partner's run waits between retries, which failures are retried for which calls, and how each
bound is reported (the surviving mutants of the first mutation run were of these kinds)."""
from __future__ import annotations

import threading

import pytest

from ansible_collections.partnercenter.secure_app.plugins.module_utils import _http
from ansible_collections.partnercenter.secure_app.plugins.module_utils._errors import SecureAppError
from ansible_collections.partnercenter.secure_app.plugins.module_utils._http import (
    HttpClient, RetryWaitExceeded, _retry, same_origin_link, sentences_for_transport_errors)


@pytest.mark.parametrize("replay_safe", [True, False])
def test_retry_policy_values(replay_safe):
    policy = _retry(5, replay_safe, 40, 200)
    assert (policy.total, policy.connect, policy.status, policy.other) == (5, 2, 5, 0)
    assert policy.read == (5 if replay_safe else 0)
    assert set(policy.status_forcelist) == ({429, 500, 502, 503, 504} if replay_safe else {429, 503})
    assert (policy.backoff_factor, policy.backoff_max, policy.backoff_jitter) == (0.5, 30, 0.5)
    assert policy.allowed_methods is None and policy.respect_retry_after_header is True
    assert policy.raise_on_status is False and policy.raise_on_redirect is False
    assert (policy.max_retry_wait, policy.deadline) == (40, 200)


def test_fewer_retries_bound_the_connect_retries_too():
    assert _retry(1, True, 60, 300).connect == 1 and _retry(0, True, 60, 300).connect == 0


def test_a_new_policy_keeps_its_bounds_and_a_call_starts_its_own_clock():
    policy = _retry(3, True, 7, 9)
    policy.waited = 5.0
    copy = policy.new()
    assert (copy.max_retry_wait, copy.deadline, copy.waited, copy.started) == (7, 9, 5.0, policy.started)
    fresh = policy.for_one_call()
    assert fresh.waited == 0.0 and fresh.started >= policy.started and fresh.total == 3


def test_backoff_without_retry_after_grows_and_is_bounded():
    from urllib3.response import HTTPResponse  # pylint: disable=import-outside-toplevel

    policy = _retry(6, True, 60, 300)
    waits = []
    for _attempt in range(5):
        policy = policy.increment("GET", "/x", response=HTTPResponse(status=503))
        waits.append(policy.waited)
    assert waits == sorted(waits) and waits[-1] > waits[0]  # each retry waits at least as long in total
    assert policy.waited <= 0.5 + 1 + 2 + 4 + 8 + 5 * 0.5  # 0.5 s doubling, jitter up to 0.5 s each


def test_retry_wait_exceeded_sentences():
    single = RetryWaitExceeded(120, 3, 2, 429, True, 60, 300)
    assert single.sentence("api.example.com") == (
        "api.example.com asked to wait 120 s before a retry (Retry-After, after HTTP 429), longer than max_retry_wait "
        "(60 s): try again later, or raise max_retry_wait.")
    total = RetryWaitExceeded(20, 290, 5, None, False, 60, 300)
    assert total.sentence("api.example.com") == (
        "api.example.com still gave no answer after 5 attempts and 290 s of waiting between them; the next wait "
        "(20 s) would pass the deadline of 300 s: try again later, or raise deadline.")
    assert (total.wanted, total.waited, total.attempts, total.status) == (20, 290, 5, None)


EXCEPTIONS = _http.requests.exceptions


@pytest.mark.parametrize("exception, code, sentence", [
    (EXCEPTIONS.SSLError, "tls", "TLS verification failed for h:1: give ca_bundle with the CA that signed its "
                                 "certificate."),
    (EXCEPTIONS.RetryError, "retries_exhausted", "h:1 kept failing after 0 retries: try again later."),
    (EXCEPTIONS.ReadTimeout, "timeout", "h:1 did not answer in time: raise timeout or try again later."),
    (EXCEPTIONS.ConnectionError, "connection", "Cannot connect to h:1: check the endpoint URL and the network."),
    (lambda: EXCEPTIONS.InvalidHeader("Bearer secret"), "invalid_request",
     "A request to h:1 could not be sent: a header or parameter holds a character HTTP does not allow "
     "(InvalidHeader); check the values given to the task."),
    (EXCEPTIONS.TooManyRedirects, "request_failed",
     "A request to h:1 failed (TooManyRedirects): check the endpoint URL and the network."),
    (lambda: RetryWaitExceeded(90, 0, 1, 503, True, 60, 300), "retry_wait_exceeded",
     "h:1 asked to wait 90 s before a retry (Retry-After, after HTTP 503), longer than max_retry_wait (60 s): try "
     "again later, or raise max_retry_wait."),
])
def test_transport_failures_become_fixed_sentences(exception, code, sentence):
    client = HttpClient()
    with pytest.raises(SecureAppError) as raised:
        with sentences_for_transport_errors("https://h:1/path?token=x", client):
            raise exception()
    assert (raised.value.code, raised.value.message) == (code, sentence)


def test_without_a_client_the_retry_count_is_not_claimed():
    with pytest.raises(SecureAppError) as raised:
        with sentences_for_transport_errors("https://h:1/x"):
            raise _http.requests.exceptions.RetryError()
    assert raised.value.message == "h:1 kept failing: try again later."


@pytest.mark.parametrize("link, base, allowed", [
    ("https://api:8443/next", "https://api:8443/v1", True),
    ("/v1/next?page=2", "https://api:8443/v1/items", True),
    ("https://api:9443/next", "https://api:8443/v1", False),
    ("https://other:8443/next", "https://api:8443/v1", False),
    ("http://api:8443/next", "https://api:8443/v1", False),
])
def test_same_origin_link_compares_scheme_host_and_port(link, base, allowed):
    if allowed:
        assert same_origin_link(link, base).startswith("https://api:8443/")
    else:
        with pytest.raises(SecureAppError) as raised:
            same_origin_link(link, base)
        assert raised.value.code == "foreign_link"
        assert raised.value.message.endswith("it leaves https://api:8443, and the access token would go with it.")


def test_client_defaults_and_session():
    client = HttpClient()
    assert client.timeout == 30 and client.ca_bundle is None and client.session.verify is True
    assert client.session.headers["User-Agent"] == "partnercenter.secure_app"
    assert client.session.get_adapter("https://x") is client.adapter is client.session.get_adapter("http://x")
    assert client.adapter._pool_maxsize == 16 and client.retries_seen == 0
    safe = client.adapter.max_retries
    assert (safe.total, safe.max_retry_wait, safe.deadline) == (6, 60, 300)
    client.ensure_pool(4)
    assert client.adapter._pool_maxsize == 16
    client.ensure_pool(40)
    assert client.adapter._pool_maxsize == 40


def test_retries_zero_is_allowed_and_negative_is_not():
    assert HttpClient(retries=0).adapter.max_retries.total == 0
    with pytest.raises(SecureAppError) as raised:
        HttpClient(retries=-1)
    assert raised.value.message == "retries must be 0 or more, not -1."


def test_environment_settings_are_read_once_per_origin(monkeypatch):
    client = HttpClient()
    calls = []
    original = client.session.merge_environment_settings

    def counting(*args, **kwargs):
        calls.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(client.session, "merge_environment_settings", counting)
    first = client._environment_settings("https://a:1/x")
    first["verify"] = "changed by a caller"
    second = client._environment_settings("https://a:1/y?z")
    client._environment_settings("https://b:1/x")
    assert calls == ["https://a:1/x", "https://b:1/x"]
    assert second["verify"] != "changed by a caller", "each caller gets its own copy"


def test_the_policy_is_per_thread_and_restored():
    client = HttpClient()
    adapter = client.adapter
    seen = {}

    def other_thread():
        seen["policy"] = adapter.max_retries

    adapter._current.policy = adapter._strict
    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert seen["policy"] is adapter._safe and adapter.max_retries is adapter._strict
    adapter.max_retries = adapter._strict
    assert adapter._safe is adapter._strict


def test_require_requests(monkeypatch):
    monkeypatch.setattr(_http, "HAS_REQUESTS", False)
    with pytest.raises(SecureAppError) as raised:
        _http.require_requests()
    assert type(raised.value).__name__ == "MissingLibraryError"
    assert raised.value.message == ("The Python package 'requests' (with urllib3 2 or later) is not installed where "
                                    "this task runs: pip install -r requirements.txt from the collection.")


def test_a_429_pauses_every_thread_of_the_pool():
    """One thread's 429 with Retry-After holds back the other threads' new requests to that host
    until it has passed, not only the thread that got it (broken by: a per-thread backoff only)."""
    import http.server  # pylint: disable=import-outside-toplevel
    import time  # pylint: disable=import-outside-toplevel

    arrivals: list[tuple[str, float]] = []
    throttled = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            arrivals.append((self.path, time.monotonic()))
            if self.path == "/first" and not throttled.is_set():
                throttled.set()
                self.send_response(429)
                self.send_header("Retry-After", "1")
            else:
                self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    client = HttpClient(retries=2)
    try:
        first = threading.Thread(target=lambda: client.request("GET", base + "/first"))
        first.start()
        assert throttled.wait(5)
        time.sleep(0.1)  # the 429 is in: the other thread starts after it
        assert client.request("GET", base + "/second").status_code == 200
        first.join(5)
    finally:
        client.close()
        server.shutdown()
    throttled_at = next(at for path, at in arrivals if path == "/first")
    second_at = next(at for path, at in arrivals if path == "/second")
    assert second_at - throttled_at >= 0.9, arrivals
    assert client.adapter.gate.pauses == 1
