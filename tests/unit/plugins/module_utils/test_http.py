"""The retry policy against a real HTTP server on 127.0.0.1 (no mocks)."""
from __future__ import annotations

import http.server
import threading
import time

import pytest

from ansible_collections.partnercenter.secure_app.plugins.module_utils._errors import SecureAppError
from ansible_collections.partnercenter.secure_app.plugins.module_utils._http import (
    HttpClient, StatusHint, checked_response, same_origin_link, service_error)


class Script(http.server.BaseHTTPRequestHandler):
    """Answers each request with the next step of the server's script."""

    def log_message(self, *args):
        pass

    def _answer(self):
        self.server.seen.append(self.command)
        step = self.server.script.pop(0) if self.server.script else ("ok",)
        if step[0] == "drop":
            self.connection.close()
            return
        if step[0] == "slow":
            time.sleep(0.5)
        status = 200 if step[0] in ("ok", "slow") else step[1]
        body = step[2] if len(step) > 2 else b'{"ok": true}'
        self.send_response(status)
        if status == 429:
            self.send_header("Retry-After", str(step[3]) if len(step) > 3 else "0")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _answer


@pytest.fixture()
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Script)
    httpd.script, httpd.seen = [], []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()


def url(server):
    return f"http://127.0.0.1:{server.server_address[1]}/x"


def test_throttling_is_retried(server):
    server.script = [("status", 429), ("status", 503), ("ok",)]
    client = HttpClient(retries=3)
    assert client.request("GET", url(server)).status_code == 200
    assert server.seen == ["GET"] * 3 and client.retries_seen == 2


def test_retry_after_is_waited_for(server):
    """Fails when Retry-After is ignored (respect_retry_after_header=False): the backoff of a first
    retry is 0 s, so only the header can make the client wait a whole second."""
    server.script = [("status", 429, b"{}", 1), ("ok",)]
    started = time.monotonic()
    assert HttpClient(retries=3).request("GET", url(server)).status_code == 200
    assert time.monotonic() - started >= 1.0


def test_a_retry_after_beyond_max_retry_wait_ends_the_call_at_once(server):
    """The review's case: Retry-After 120 with default retries slept 728 s. Now the call ends at
    once, saying what the service asked and which option allows more."""
    server.script = [("status", 429, b"{}", 120)] * 7
    started = time.monotonic()
    with pytest.raises(SecureAppError) as caught:
        HttpClient(retries=6, max_retry_wait=60).request("GET", url(server))
    assert time.monotonic() - started < 30 and len(server.seen) == 1
    assert caught.value.message == (
        "127.0.0.1:%d asked to wait 120 s before a retry (Retry-After, after HTTP 429), longer than max_retry_wait "
        "(60 s): try again later, or raise max_retry_wait." % server.server_address[1])


def test_the_deadline_bounds_all_retries_of_one_call(server):
    server.script = [("status", 429, b"{}", 1)] * 10
    with pytest.raises(SecureAppError, match=r"still gave HTTP 429 after 2 attempts and 1 s of waiting between "
                                             r"them; the next wait \(1 s\) would pass the deadline of 2 s"):
        HttpClient(retries=9, deadline=2).request("GET", url(server))
    assert len(server.seen) == 2


def test_the_deadline_counts_per_call_not_per_client(server):
    client = HttpClient(retries=3, deadline=2)
    for _attempt in range(3):
        server.script = [("status", 429, b"{}", 1), ("ok",)]
        assert client.request("GET", url(server)).status_code == 200


def test_an_invalid_header_never_quotes_the_token(server):
    """requests quotes a header with a line break in its error; the sentence must not."""
    token = "eyJhbGciOiJSUzI1NiJ9.payload.signature\n"
    with pytest.raises(SecureAppError) as caught:
        HttpClient(retries=0).request("GET", url(server), headers={"Authorization": f"Bearer {token}"})
    assert "eyJ" not in caught.value.message and "Bearer" not in caught.value.message
    assert caught.value.message.startswith("A request to 127.0.0.1")
    assert server.seen == []


@pytest.mark.parametrize("link", ["https://evil.example/v1.0/applications?$skiptoken=x",
                                  "http://graph.example/v1.0/applications?$skiptoken=x",
                                  "//evil.example/v1.0/x", "https://graph.example:444/v1.0/x"])
def test_paging_links_leaving_the_origin_are_refused(link):
    with pytest.raises(SecureAppError, match="Refused to follow a paging link"):
        same_origin_link(link, "https://graph.example/v1.0")


def test_paging_links_on_the_origin_are_followed():
    assert same_origin_link("https://graph.example/v1.0/x?$skiptoken=1", "https://graph.example/v1.0") == \
        "https://graph.example/v1.0/x?$skiptoken=1"
    assert same_origin_link("/v1.0/x?b=2", "https://graph.example:8443/v1.0") == "https://graph.example:8443/v1.0/x?b=2"


def test_a_dropped_connection_is_retried_for_replay_safe_calls(server):
    server.script = [("drop",), ("ok",)]
    client = HttpClient(retries=3)
    assert client.request("POST", url(server)).status_code == 200
    assert len(server.seen) == 2


def test_a_create_is_not_replayed_after_a_drop(server):
    server.script = [("drop",), ("ok",)]
    with pytest.raises(SecureAppError, match="Cannot connect to 127.0.0.1"):
        HttpClient(retries=3).request("POST", url(server), create_once=True)
    assert len(server.seen) == 1


def test_a_create_is_not_replayed_after_a_500_but_is_after_a_429(server):
    server.script = [("status", 500)]
    assert HttpClient(retries=3).request("POST", url(server), create_once=True).status_code == 500
    server.script, server.seen[:] = [("status", 429), ("ok",)], []
    assert HttpClient(retries=3).request("POST", url(server), create_once=True).status_code == 200
    assert len(server.seen) == 2


def test_retries_run_out_with_one_sentence(server):
    server.script = [("status", 429)] * 5
    response = HttpClient(retries=2).request("GET", url(server))
    assert response.status_code == 429  # the last answer is handed back to be reported
    assert len(server.seen) == 3


def test_service_error_keeps_code_message_and_request_ids(server):
    server.script = [("status", 403, b'{"error": {"code": "Authorization_RequestDenied", "message": "Insufficient."}}')]
    response = HttpClient(retries=0).request("GET", url(server))
    error = service_error("create application 'x'", response)
    assert error.message == "Failed to create application 'x': HTTP 403 Authorization_RequestDenied Insufficient."
    assert error.status == 403 and error.code == "Authorization_RequestDenied"


def test_missing_ca_bundle_is_one_sentence(tmp_path):
    with pytest.raises(SecureAppError, match="does not exist: give the path of a PEM file"):
        HttpClient(ca_bundle=str(tmp_path / "nope.pem"))


def test_unreachable_host():
    with pytest.raises(SecureAppError, match="Cannot connect to 127.0.0.1:9"):
        HttpClient(retries=0).request("GET", "http://127.0.0.1:9/")


def test_a_create_in_one_thread_does_not_change_the_policy_of_another(server):
    """The customer fan-out sends from threads through one adapter: while a create waits for its
    answer in one thread, every other thread still has the replay-safe policy."""
    server.script = [("slow",)]
    client = HttpClient(retries=3)
    creating = threading.Thread(target=lambda: client.request("POST", url(server), create_once=True))
    creating.start()
    while not server.seen:
        time.sleep(0.01)
    assert client.adapter.max_retries.read == 3  # this thread: replay-safe (a create's policy has read=0)
    creating.join()
    assert client.adapter.max_retries.read == 3


class Recorder(http.server.BaseHTTPRequestHandler):
    """Answers 200 to anything and records the request line's target (a full URL when it was
    sent to it as a proxy)."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.targets.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


def test_a_proxy_from_the_environment_is_used_and_no_proxy_honoured(monkeypatch):
    """Broken by: dropping the environment's proxies (trust_env off) for the sake of speed."""
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    proxy.targets = []
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")
        monkeypatch.setenv("NO_PROXY", "excluded.invalid")
        client = HttpClient(retries=0)
        for _attempt in range(2):
            assert client.request("GET", "http://customer.invalid/a").status_code == 200
        assert proxy.targets == ["http://customer.invalid/a"] * 2
        # NO_PROXY still counts per host: this one goes direct (and fails: the name does not resolve)
        with pytest.raises(SecureAppError, match="Cannot connect to excluded.invalid"):
            client.request("GET", "http://excluded.invalid/b")
        assert len(proxy.targets) == 2
    finally:
        proxy.shutdown()


class Fixed(http.server.BaseHTTPRequestHandler):
    """Answers every request with the status, headers and body the server holds, and records what
    it was sent."""

    def log_message(self, *args):
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.server.seen.append({"method": self.command, "path": self.path, "body": self.rfile.read(length),
                                 "headers": dict(self.headers)})
        status, headers, body = self.server.answer
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer


@pytest.fixture()
def fixed():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Fixed)
    httpd.seen, httpd.answer = [], (200, {}, b"{}")
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd
    httpd.shutdown()


def test_get_and_post_send_what_msal_gives_them(fixed):
    client = HttpClient(retries=0)
    base = f"http://127.0.0.1:{fixed.server_address[1]}"
    assert client.get(base + "/discovery", params={"a": "1"}, headers={"X-Test": "g"}).status_code == 200
    assert client.post(base + "/token", data={"grant_type": "refresh_token"}, headers={"X-Test": "p"}).status_code == 200
    get, post = fixed.seen
    assert (get["method"], get["path"], get["headers"]["X-Test"]) == ("GET", "/discovery?a=1", "g")
    assert (post["method"], post["path"], post["body"]) == ("POST", "/token", b"grant_type=refresh_token")
    assert post["headers"]["User-Agent"] == "partnercenter.secure_app"


@pytest.mark.parametrize("option,value,expected", [
    ("timeout", 0, "timeout must be a positive number of seconds, not 0."),
    ("max_retry_wait", -1, "max_retry_wait must be a positive number of seconds, not -1."),
    ("deadline", 0, "deadline must be a positive number of seconds, not 0."),
    ("retries", -1, "retries must be 0 or more, not -1."),
])
def test_invalid_numbers_are_one_sentence(option, value, expected):
    with pytest.raises(SecureAppError) as caught:
        HttpClient(**{option: value})
    assert caught.value.message == expected


@pytest.mark.parametrize("status", [500, 502, 504])
def test_transient_server_errors_are_retried_for_replay_safe_calls_only(server, status):
    server.script = [("status", status), ("ok",)]
    assert HttpClient(retries=2).request("GET", url(server)).status_code == 200
    server.script, server.seen[:] = [("status", status), ("ok",)], []
    assert HttpClient(retries=2).request("POST", url(server), create_once=True).status_code == status
    assert len(server.seen) == 1


def test_a_503_is_retried_even_for_a_create(server):
    server.script = [("status", 503), ("ok",)]
    client = HttpClient(retries=2)
    assert client.request("POST", url(server), create_once=True).status_code == 200
    assert client.retries_seen == 1


def test_a_refused_connection_is_retried_twice_at_most():
    started = time.monotonic()
    with pytest.raises(SecureAppError, match="Cannot connect to 127.0.0.1:9"):
        HttpClient(retries=6).request("GET", "http://127.0.0.1:9/")
    assert time.monotonic() - started < 5  # six retries with backoff would take longer


@pytest.mark.parametrize("body,headers,expected,code", [
    (b'{"error": {"code": "Request_BadRequest", "message": "Bad value."}}', {"request-id": "r-1"},
     "Failed to update app: HTTP 400 Request_BadRequest Bad value (request id r-1).", "Request_BadRequest"),
    (b'{"code": 600, "description": "Customer not found"}', {"MS-CorrelationId": "c-1"},
     "Failed to update app: HTTP 400 600 Customer not found (correlation id c-1).", "600"),
    (b'not json', {"x-ms-request-id": "k-1"}, "Failed to update app: HTTP 400 (request id k-1).", None),
    (b'{"error": {"code": "X"}}', {}, "Failed to update app: HTTP 400 X.", "X"),
])
def test_service_errors_name_code_message_and_the_support_id(fixed, body, headers, expected, code):
    fixed.answer = (400, headers, body)
    response = HttpClient(retries=0).request("GET", f"http://127.0.0.1:{fixed.server_address[1]}/x")
    error = service_error("update app", response)
    assert (error.message, error.code, error.status) == (expected, code, 400)
    assert error.details == headers


def test_the_pool_grows_with_the_concurrency():
    client = HttpClient(pool_size=4)
    client.ensure_pool(2)
    assert client.adapter._pool_maxsize == 4  # noqa: SLF001 - never shrinks
    client.ensure_pool(40)
    assert client.adapter._pool_maxsize == 40  # noqa: SLF001


MFA_HINTS = {401: (StatusHint("MFA needed.", code="mfa_required", when=lambda body: "MFA" in str(body)),
                   StatusHint("token refused ({code}).")),
             403: StatusHint("no role.", code="forbidden_here")}


@pytest.mark.parametrize("status,body,expected,code", [
    (401, b'{"code": 900, "description": "MFA required"}', "Failed to read it: MFA needed (request id r-9).",
     "mfa_required"),
    (401, b'{"error": {"code": "InvalidToken", "message": "m"}}', "Failed to read it: token refused (InvalidToken) "
     "(request id r-9).", "InvalidToken"),
    (403, b'{"error": {"code": "Denied", "message": "m"}}', "Failed to read it: no role (request id r-9).",
     "forbidden_here"),
    (409, b'{"error": {"code": "Conflict", "message": "Exists."}}', "Failed to read it: HTTP 409 Conflict Exists "
     "(request id r-9).", "Conflict"),
])
def test_a_status_hint_replaces_the_services_sentence_and_keeps_the_support_id(fixed, status, body, expected, code):
    """Broken by: a hint chosen without its 'when' test, the service's code lost, the id dropped."""
    fixed.answer = (status, {"request-id": "r-9"}, body)
    response = HttpClient(retries=0).request("GET", f"http://127.0.0.1:{fixed.server_address[1]}/x")
    error = service_error("read it", response, hints=MFA_HINTS)
    assert (error.message, error.code, error.status, error.details) == (expected, code, status, {"request-id": "r-9"})


@pytest.mark.parametrize("missing_ok", [True, False])
def test_missing_is_an_answer_only_when_the_caller_says_so(fixed, missing_ok):
    """Broken by: missing_ok ignored, or applied to every status."""
    base = f"http://127.0.0.1:{fixed.server_address[1]}/x"
    client = HttpClient(retries=0)
    fixed.answer = (404, {}, b'{"error": {"code": "NotFound", "message": "No such thing."}}')
    if missing_ok:
        assert service_error("read it", client.request("GET", base), missing_ok=True) is None
        assert checked_response(client.request("GET", base), "read it", missing_ok=True) is None
    else:
        with pytest.raises(SecureAppError, match=r"^Failed to read it: HTTP 404 NotFound No such thing\.$"):
            checked_response(client.request("GET", base), "read it")
    fixed.answer = (400, {}, b"{}")
    assert service_error("read it", client.request("GET", base), missing_ok=missing_ok).status == 400
    fixed.answer = (204, {}, b"")
    assert checked_response(client.request("GET", base), "read it", expected=(204,)).status_code == 204


def test_netrc_is_read_once_per_origin_and_still_applies(fixed, tmp_path, monkeypatch):
    """Broken by: reading the netrc file on every request again (requests' default), or dropping
    the entry it gives (a partner's proxy set-up may rely on it)."""
    import requests  # pylint: disable=import-outside-toplevel

    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login proxyuser password proxypass\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    reads = []
    original = requests.utils.get_netrc_auth

    def counting(url, *args, **kwargs):
        reads.append(url)
        return original(url, *args, **kwargs)

    monkeypatch.setattr(requests.utils, "get_netrc_auth", counting)
    monkeypatch.setattr(requests.sessions, "get_netrc_auth", counting)
    client = HttpClient(retries=0)
    base = f"http://127.0.0.1:{fixed.server_address[1]}"
    for path in ("/a", "/b", "/c"):
        assert client.get(base + path).status_code == 200
    assert len(reads) == 1
    assert [seen["headers"].get("Authorization") for seen in fixed.seen] == ["Basic cHJveHl1c2VyOnByb3h5cGFzcw=="] * 3


def test_without_a_netrc_entry_the_request_keeps_its_own_authorization(fixed, tmp_path, monkeypatch):
    """Broken by: an authentication object that changes the request when netrc has no entry."""
    netrc = tmp_path / "netrc"
    netrc.write_text("machine elsewhere.invalid login u password p\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    client = HttpClient(retries=0)
    base = f"http://127.0.0.1:{fixed.server_address[1]}"
    client.get(base + "/a", headers={"Authorization": "Bearer abc"})
    client.get(base + "/b")
    assert [seen["headers"].get("Authorization") for seen in fixed.seen] == ["Bearer abc", None]


def test_the_ca_bundle_is_checked_once_per_pool_and_again_when_it_changes(fixed, monkeypatch):
    """Broken by: checking the bundle's path on every request again (two file system calls per
    request that every thread of a fan-out waits for), or never again when verify changes."""
    import requests  # pylint: disable=import-outside-toplevel

    checks = []
    original = requests.adapters.HTTPAdapter.cert_verify

    def counting(self, conn, url, verify, cert):
        checks.append(verify)
        return original(self, conn, url, verify, cert)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "cert_verify", counting)
    client = HttpClient(retries=0)
    base = f"http://127.0.0.1:{fixed.server_address[1]}"
    for path in ("/a", "/b", "/c"):
        client.get(base + path)
    assert len(checks) == 1 and checks[0]  # the system store, or REQUESTS_CA_BUNDLE where it is set
    client.get(base + "/d", verify=False)
    client.get(base + "/e", verify=False)
    assert checks[1:] == [False]
