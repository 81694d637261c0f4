"""The interactive consent (_consent.Consent) against the sandbox's identity platform, each mode
through to a refresh token: device code, browser (msal's listener, bound to the loopback address
only, fed by a sign-in done over HTTP), and a pasted redirect address or code (with the pending
sign-in saved between the two runs, stale after sign_in_timeout, removed once used). Then what
each refuses, in one sentence: a sign-in without MFA, an answer without a refresh token, a
redirect URI browser mode cannot listen on, a port taken, no sign-in in time, a pasted URL
without a code. The state file's own safety is in test_consent_state."""
from __future__ import annotations

import json
import os
import re
import socket
import stat
import threading
import time
import webbrowser
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import requests

from ansible_collections.partnercenter.secure_app.plugins.module_utils import _consent
from ansible_collections.partnercenter.secure_app.plugins.module_utils._consent import (
    LISTENER_IDLE_SECONDS, LOOPBACK, MODES, Consent, _flow_file, loopback_receiver, pasted_response)
from ansible_collections.partnercenter.secure_app.plugins.module_utils._context import Context
from ansible_collections.partnercenter.secure_app.plugins.module_utils._errors import SecureAppError


def free_port():
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def apps(world):
    """Two SAM apps for these tests, with localhost redirect URIs (any port, as Entra allows): a
    confidential one, as the SAM app is (the browser and code modes must send its secret), and one
    that also allows device code (a fallback public client)."""
    from conformance_helpers import (  # pylint: disable=import-outside-toplevel,import-error
        create_app, device_code_token, graph_session)

    ep = world["ep"]
    authority = f"{ep['cloud']['login']}/{ep['partner_tenant_id']}"
    admin = device_code_token(world["api"], authority, "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
                              [ep["cloud"]["graph"] + "/.default"], ep["accounts"]["admin"]["upn"])
    graph = graph_session(ep, admin["access_token"])
    loopback = ("http://localhost", "http://127.0.0.1")
    made = {kind: create_app(graph, f"Consent flow unit tests ({kind})", redirects=loopback)
            for kind in ("web", "device")}
    assert graph.patch(f"/applications/{made['device']['object_id']}",
                       json={"isFallbackPublicClient": True}).status_code == 204
    return made


@pytest.fixture(scope="module")
def app(apps):
    return apps["web"]


@pytest.fixture(scope="module")
def device_app(apps):
    return apps["device"]


def make_context(world, app):
    options = {"cloud": "AzureCloud", "cloud_endpoints": world["ep"]["cloud"], "ca_bundle": world["ep"]["ca_file"],
               "timeout": 30, "retries": 0, "client_id": app["app_id"], "client_secret": app["secret"],
               "tenant_id": world["ep"]["partner_tenant_id"]}
    return Context(options.get)


@pytest.fixture()
def context(world, app):
    made = make_context(world, app)
    yield made
    made.close()


@pytest.fixture()
def device_context(world, device_app):
    made = make_context(world, device_app)
    yield made
    made.close()


def parameters(app, tmp_path, **changes):
    params = {"client_id": app["app_id"], "mode": "device_code", "scopes": None, "resource": None,
              "redirect_uri": f"http://localhost:{free_port()}", "open_browser": False, "code": None,
              "require_mfa": True, "sign_in_timeout": 30, "login_hint": None, "prompt": None,
              "state_dir": str(tmp_path / "state")}
    params.update(changes)
    return params


def browser_session(world):
    session = requests.Session()
    session.verify = world["ep"]["ca_bundle"]
    session.trust_env = False
    return session


def sign_in(world, url, user="service"):
    """The sign-in pages walked over HTTP: what the browser is then sent to (the sandbox's result)."""
    from sandbox.testing import sign_in as walk  # pylint: disable=import-outside-toplevel,import-error

    account = world["ep"]["accounts"][user]
    return walk(browser_session(world), url, account["upn"], account["password"], account.get("mfa_code"))


def approve_device_code(world, user="service"):
    """A show callback that approves the device code it is shown, as the user would."""
    shown = []

    def show(message):
        shown.append(message)
        user_code = re.search(r"enter the code (\S+)", message).group(1)
        approved = world["api"].call("POST", "/device-codes/approve",
                                     {"user_code": user_code, "upn": world["ep"]["accounts"][user]["upn"]})
        assert approved["approved"] == 1
    return show, shown


def query_of(url):
    return {key: values[0] for key, values in parse_qs(urlparse(url).query).items()}


# device code ----------------------------------------------------------------------------------
def test_device_code_gives_a_refresh_token_for_partner_center(device_context, world, device_app, tmp_path):
    """Broken by: another mode's flow for device_code, or a default scope other than Partner Center's."""
    show, shown = approve_device_code(world)
    result = Consent(device_context, parameters(device_app, tmp_path), show).run()
    assert result.refresh_token and result.mfa
    assert result.identity()["upn"] == world["ep"]["accounts"]["service"]["upn"]
    assert result.scope == world["ep"]["cloud"]["partner_center"] + "/user_impersonation"
    assert len(shown) == 1


@pytest.mark.parametrize("resource, scopes, expected", [
    (None, None, "partner_center"), ("graph", None, "graph"), ("partner_center", None, "partner_center"),
    ("graph", ["{partner_center}/user_impersonation"], "partner_center")])
def test_the_scopes_asked_for(device_context, world, device_app, tmp_path, resource, scopes, expected):
    """Broken by: scopes or resource ignored, or another default resource."""
    cloud = world["ep"]["cloud"]
    params = parameters(device_app, tmp_path, resource=resource,
                        scopes=[s.format(**cloud) for s in scopes] if scopes else None)
    consent = Consent(device_context, params, print)
    default = device_context.cloud.default_scope(expected)
    wanted = [f"{cloud['partner_center']}/user_impersonation"] if scopes else [default]
    assert consent.scopes == wanted
    assert (consent.client_id, consent.tenant) == (device_app["app_id"], world["ep"]["partner_tenant_id"])
    assert consent.client_secret == device_app["secret"]
    show, _shown = approve_device_code(world)
    consent.show = show
    token = consent.run()
    assert token.scope.startswith(cloud[expected]), token.scope


def test_a_sign_in_without_mfa_is_refused_unless_allowed(device_context, world, device_app, tmp_path):
    """Broken by: require_mfa ignored either way, or the sentence without the account."""
    show, _shown = approve_device_code(world, "nomfa")
    with pytest.raises(SecureAppError) as raised:
        Consent(device_context, parameters(device_app, tmp_path), show).run()
    assert raised.value.code == "mfa_not_done"
    assert raised.value.message == (
        f"{world['ep']['accounts']['nomfa']['upn']} signed in without multi-factor authentication, so Partner Center "
        "will refuse its tokens: enable MFA for the account and run the consent again (or set require_mfa: false).")
    show, _shown = approve_device_code(world, "nomfa")
    result = Consent(device_context, parameters(device_app, tmp_path, require_mfa=False), show).run()
    assert result.refresh_token and not result.mfa


def canned_token(faults, **fields):
    """The token endpoint answers with these fields (an identity platform misbehaving)."""
    faults({"service": "login", "method": "POST", "path": "/oauth2/v2.0/token$", "count": 1,
            "body": dict({"token_type": "Bearer", "expires_in": 3600, "access_token": "opaque"}, **fields)})


def test_an_answer_without_a_refresh_token_is_refused(device_context, device_app, tmp_path, faults):
    """Broken by: a consent that returns without a refresh token."""
    canned_token(faults)
    with pytest.raises(SecureAppError) as raised:
        Consent(device_context, parameters(device_app, tmp_path, require_mfa=False), lambda message: None).run()
    assert raised.value.code == "no_refresh_token"
    assert raised.value.message == ("The sign-in returned no refresh token: include offline_access consent for the "
                                    "app and run the consent again.")


def test_an_unnamed_account_without_mfa(device_context, device_app, tmp_path, faults):
    """Broken by: no stand-in for an account the token does not name."""
    canned_token(faults, refresh_token="r")
    with pytest.raises(SecureAppError) as raised:
        Consent(device_context, parameters(device_app, tmp_path), lambda message: None).run()
    assert raised.value.code == "mfa_not_done"
    assert raised.value.message.startswith("The account signed in without multi-factor authentication, ")
    canned_token(faults, refresh_token="r")
    result = Consent(device_context, parameters(device_app, tmp_path, require_mfa=False), lambda message: None).run()
    assert result.refresh_token == "r"


def test_the_modes():
    """Broken by: a mode renamed or dropped (the action's choices come from MODES)."""
    assert MODES == ("browser", "device_code", "code")


# browser ----------------------------------------------------------------------------------------
def listener_sign_in(world, user="service", before=None):
    """A show callback that signs in at the URL it is shown and posts the answer to the listener,
    as the browser does; it records the URL, and the socket default timeout while it waits."""
    seen = {}

    def finish(url):
        if before:
            before()
        result = sign_in(world, url, user)
        action, fields = result["form_post"]
        seen["posted"] = requests.post(action, data=fields, timeout=30).status_code

    def show(message):
        seen["message"] = message
        seen["timeout"] = socket.getdefaulttimeout()
        url = message.rsplit(" ", 1)[1]
        seen["thread"] = threading.Thread(target=finish, args=(url,), daemon=True)
        seen["thread"].start()
    return show, seen


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_browser_mode_through_the_listener(context, world, app, tmp_path, host):
    """Broken by: the listener's socket timeout not set or not restored, login_hint or prompt not
    passed, localhost or 127.0.0.1 refused."""
    port = free_port()
    params = parameters(app, tmp_path, mode="browser", redirect_uri=f"http://{host}:{port}", sign_in_timeout=20,
                        login_hint=world["ep"]["accounts"]["service"]["upn"], prompt="consent")
    show, seen = listener_sign_in(world)
    socket.setdefaulttimeout(7.5)
    try:
        result = Consent(context, params, show).run()
        assert socket.getdefaulttimeout() == 7.5
    finally:
        socket.setdefaulttimeout(None)
    seen["thread"].join(10)
    assert result.refresh_token and result.mfa and seen["posted"] == 200
    assert seen["timeout"] == LISTENER_IDLE_SECONDS == 5
    prefix = "Sign in as the service account to consent (waiting 20 s): "
    assert seen["message"].startswith(prefix)
    query = query_of(seen["message"][len(prefix):])
    assert query["response_mode"] == "form_post" and query["redirect_uri"] == f"http://{host}:{port}"
    assert query["login_hint"] == world["ep"]["accounts"]["service"]["upn"] and query["prompt"] == "consent"
    assert query["client_id"] == app["app_id"] and query["state"] and query["code_challenge"]


def test_a_silent_connection_does_not_hold_the_listener(context, world, app, tmp_path):
    """A connection that sends nothing is dropped after LISTENER_IDLE_SECONDS; the sign-in that
    comes next is served (without the timeout it would wait for sign_in_timeout).
    Broken by: no socket timeout while the listener waits."""
    port = free_port()
    silent = socket.socket()

    def connect_silently():
        silent.connect((LOOPBACK, port))

    show, seen = listener_sign_in(world, before=connect_silently)
    hang_up = threading.Timer(11, silent.close)  # so that a listener without the timeout ends too
    hang_up.start()
    started = time.monotonic()
    try:
        result = Consent(context, parameters(app, tmp_path, mode="browser", redirect_uri=f"http://localhost:{port}",
                                             sign_in_timeout=20), show).run()
    finally:
        hang_up.cancel()
        silent.close()
    assert result.refresh_token and seen["posted"] == 200
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("opens", [True, False])
def test_browser_mode_opens_the_browser_when_asked(context, world, app, tmp_path, monkeypatch, caplog, opens):
    """When no browser opens, the URL the task printed is the way: msal's own warning (about
    containers, with the URL again) is not added.
    Broken by: open_browser ignored either way, or msal's warning let through."""
    opened = []

    def open_browser(url, *args, **kwargs):
        opened.append(url)
        return opens

    monkeypatch.setattr(webbrowser, "open", open_browser)
    show, seen = listener_sign_in(world)
    params = parameters(app, tmp_path, mode="browser", open_browser=True)
    with caplog.at_level("WARNING", logger="msal"):
        assert Consent(context, params, show).run().refresh_token
    assert opened == [seen["message"].rsplit(" ", 1)[1]]
    assert [r.getMessage() for r in caplog.records if r.name.startswith("msal")] == []
    opened.clear()
    show, seen = listener_sign_in(world)
    assert Consent(context, parameters(app, tmp_path, mode="browser"), show).run().refresh_token
    assert opened == []


def test_an_answer_to_another_sign_in_is_not_taken(context, world, app, tmp_path):
    """The listener checks the state: a posted answer with another state is turned away, and the
    real one that follows is redeemed.
    Broken by: the listener not given the flow's state."""
    params = parameters(app, tmp_path, mode="browser")
    forged = {}

    def forge():
        forged["status"] = requests.post(params["redirect_uri"], data={"code": "forged", "state": "another"},
                                         timeout=10).status_code

    show, seen = listener_sign_in(world, before=forge)
    assert Consent(context, params, show).run().refresh_token
    assert forged["status"] == 400 and seen["posted"] == 200


def test_no_sign_in_in_time(context, app, tmp_path):
    """Broken by: sign_in_timeout not given to the listener, or the timeout's sentence changed."""
    params = parameters(app, tmp_path, mode="browser", sign_in_timeout=1)
    shown, outcome = [], {}

    def run():
        try:
            Consent(context, params, shown.append).run()
        except SecureAppError as error:
            outcome["error"] = error

    waiting = threading.Thread(target=run, daemon=True)  # a listener without the timeout would wait longer
    waiting.start()
    waiting.join(4)
    assert not waiting.is_alive() and "error" in outcome
    assert outcome["error"].code == "timeout"
    assert outcome["error"].message == (
        f"No sign-in arrived at {params['redirect_uri']} within 1 seconds (the listener answers on this machine's "
        "loopback address only): open the printed URL in a browser on this machine sooner, raise sign_in_timeout, or "
        "use mode: code or device_code on a remote controller.")
    assert shown[0].startswith("Sign in as the service account to consent (waiting 1 s): https://")
    assert socket.getdefaulttimeout() is None


@pytest.mark.parametrize("redirect_uri", ["https://localhost:8400", "http://example.com:8400", "http://10.0.0.1:8400",
                                          "localhost:8400"])
def test_browser_mode_needs_a_localhost_redirect(context, app, tmp_path, redirect_uri):
    """Broken by: an https, remote or schemeless redirect accepted."""
    with pytest.raises(SecureAppError) as raised:
        Consent(context, parameters(app, tmp_path, mode="browser", redirect_uri=redirect_uri), print).run()
    assert raised.value.message == ("Browser mode listens on the redirect URI, which must be http://localhost:PORT: "
                                    "register one on the app, or use mode: code.")


def test_browser_mode_needs_msals_listener(context, app, tmp_path, monkeypatch):
    """Broken by: no check that msal has the listener."""
    monkeypatch.setattr(_consent, "AuthCodeReceiver", None)
    with pytest.raises(SecureAppError) as raised:
        Consent(context, parameters(app, tmp_path, mode="browser"), print).run()
    assert raised.value.message == "msal's local listener is not available: install msal >= 1.28."


@pytest.mark.parametrize("port", [None, "taken"])
def test_a_port_in_use_is_one_sentence(context, app, tmp_path, port):
    """Without a port the listener takes 80, as the URI means.
    Broken by: another default port, or the OSError let through."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    number = 80 if port is None else free_port()
    try:
        try:
            holder.bind(("0.0.0.0", number))
            holder.listen(1)
            reason = "Address already in use"
        except OSError as exc:
            reason = exc.strerror
        redirect_uri = "http://localhost" if port is None else f"http://localhost:{number}"
        shown = []
        with pytest.raises(SecureAppError) as raised:
            Consent(context, parameters(app, tmp_path, mode="browser", redirect_uri=redirect_uri, sign_in_timeout=1),
                    shown.append).run()
    finally:
        holder.close()
    assert raised.value.message == (f"Cannot listen on {redirect_uri} ({reason}): free the port or register another "
                                    "localhost redirect URI.")
    assert shown == [] and socket.getdefaulttimeout() is None


# the listener ------------------------------------------------------------------------------------
def test_the_listener_answers_on_the_loopback_address_only():
    """msal binds every interface in a container (this test's own, when it runs in one): the
    listener is bound again, same port, server class and handler, to 127.0.0.1.
    Broken by: msal's listener on every interface kept, or rebuilt with another class, handler or port."""
    from msal.oauth2cli.authcode import AuthCodeReceiver  # pylint: disable=import-outside-toplevel

    port = free_port()
    with loopback_receiver(port) as receiver:
        server = receiver._server  # pylint: disable=protected-access
        assert server.server_address == (LOOPBACK, port)
        plain = AuthCodeReceiver(port=0)
        try:
            theirs = plain._server  # pylint: disable=protected-access
            assert type(server) is type(theirs) and server.RequestHandlerClass is theirs.RequestHandlerClass
        finally:
            plain.close()
        with socket.create_connection((LOOPBACK, port), timeout=5):
            pass
        # Another address of this machine (127.0.0.2 reaches a listener on every interface) is refused.
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.2", port), timeout=2).close()


class UncheckableReceiver:
    """An msal release whose listener is kept another way (no _server to check)."""

    def __init__(self, port=None):
        self.port = port
        self.closed = False


def test_a_listener_that_cannot_be_checked_is_refused(monkeypatch):
    """Broken by: a listener without a server taken as it is."""
    monkeypatch.setattr(_consent, "AuthCodeReceiver", UncheckableReceiver)
    with pytest.raises(SecureAppError) as raised:
        loopback_receiver(0)
    assert raised.value.code == "listener_not_loopback"
    assert raised.value.message == (
        "The browser-mode listener could not be bound to the loopback address only (this msal release binds it "
        "another way), and it would take the sign-in's code from the network: use mode: device_code or mode: code.")


class StubbornServer:
    """A listener that binds every interface whatever address it is given."""
    made: list = []

    def __init__(self, address, handler):
        self.asked, self.server_address, self.RequestHandlerClass = address, ("0.0.0.0", address[1]), handler
        self.closed = 0
        StubbornServer.made.append(self)

    def server_close(self):
        self.closed += 1


class StubbornReceiver:
    def __init__(self, port=None):
        self._server = StubbornServer(("0.0.0.0", port), "the handler")


def test_a_listener_that_cannot_be_bound_again_is_closed_and_refused(monkeypatch):
    """Broken by: the rebuilt listener not checked, or a refused one left open."""
    StubbornServer.made = []
    monkeypatch.setattr(_consent, "AuthCodeReceiver", StubbornReceiver)
    with pytest.raises(SecureAppError) as raised:
        loopback_receiver(8400)
    assert raised.value.code == "listener_not_loopback"
    first, second = StubbornServer.made
    assert (first.closed, second.closed) == (1, 1)
    assert second.asked == (LOOPBACK, 8400) and second.RequestHandlerClass == "the handler"


@pytest.mark.parametrize("address", [None, (), "absent"])
def test_a_listener_without_an_address_is_closed_and_refused(monkeypatch, address):
    """Broken by: a listener without an address taken, or left open."""
    class Receiver:
        def __init__(self, port=None):
            self._server = StubbornServer(("0.0.0.0", port), None)
            if address == "absent":
                del self._server.server_address
            else:
                self._server.server_address = address

    StubbornServer.made = []
    monkeypatch.setattr(_consent, "AuthCodeReceiver", Receiver)
    with pytest.raises(SecureAppError) as raised:
        loopback_receiver(8400)
    assert raised.value.code == "listener_not_loopback"
    assert [s.closed for s in StubbornServer.made] == [1]


def test_a_listener_on_the_loopback_address_is_kept(monkeypatch):
    """Broken by: a listener msal bound to 127.0.0.1 closed and bound again (or refused)."""
    class Receiver:
        def __init__(self, port=None):
            self._server = StubbornServer((LOOPBACK, port), None)
            self._server.server_address = (LOOPBACK, port)

    StubbornServer.made = []
    monkeypatch.setattr(_consent, "AuthCodeReceiver", Receiver)
    receiver = loopback_receiver(8400)
    assert StubbornServer.made == [receiver._server]  # pylint: disable=protected-access
    assert receiver._server.closed == 0  # pylint: disable=protected-access


# code ---------------------------------------------------------------------------------------------
def saved(params, app, world):
    return _flow_file(params["state_dir"], app["app_id"], world["ep"]["partner_tenant_id"])


def start_code(context, params):
    with pytest.raises(SecureAppError) as raised:
        Consent(context, params, print).run()
    assert raised.value.code == "code_required"
    return raised.value


def test_code_mode_in_two_runs(context, world, app, tmp_path):
    """Broken by: the flow not saved privately, saved_at not set, the query response mode not asked,
    or the file kept after use."""
    params = parameters(app, tmp_path, mode="code", login_hint="someone@example.com")
    started = time.time()
    first = start_code(context, params)
    url = first.details["auth_uri"]
    assert first.message == (
        "Open this URL in a browser, sign in as the service account and consent; the browser then goes to "
        f"{params['redirect_uri']}, which may not load: copy that whole address and run again with code set to it. "
        f"URL: {url}")
    query = query_of(url)
    assert query["response_mode"] == "query" and query["login_hint"] == "someone@example.com" and "prompt" not in query
    path = saved(params, app, world)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as handle:
        flow = json.load(handle)
    assert started <= flow["saved_at"] <= time.time() and flow["state"] == query["state"]
    redirect = sign_in(world, url)["redirect"]
    assert redirect.startswith(params["redirect_uri"])
    result = Consent(context, dict(params, code=f"  {redirect}\n"), print).run()
    assert result.refresh_token and result.mfa
    assert not os.path.lexists(path)


def test_code_mode_with_the_code_alone(context, world, app, tmp_path):
    """The pasted code gets the saved flow's state. Broken by: the saved state not added to a bare code."""
    params = parameters(app, tmp_path, mode="code")
    url = start_code(context, params).details["auth_uri"]
    code = query_of(sign_in(world, url)["redirect"])["code"]
    assert Consent(context, dict(params, code=code), print).run().refresh_token
    assert not os.path.lexists(saved(params, app, world))


def test_a_code_from_another_sign_in(context, world, app, tmp_path):
    """No pending sign-in here: the code is redeemed as it is (no PKCE verifier to match).
    Broken by: a code without a pending sign-in refused, or the file removed when there is none."""
    ep = world["ep"]
    params = parameters(app, tmp_path, mode="code")
    scope = f"{ep['cloud']['partner_center']}/user_impersonation offline_access openid profile"
    url = f"{ep['cloud']['login']}/{ep['partner_tenant_id']}/oauth2/v2.0/authorize?" + urlencode({
        "client_id": app["app_id"], "response_type": "code", "redirect_uri": params["redirect_uri"],
        "scope": scope, "response_mode": "query", "state": "s"})
    redirect = sign_in(world, url)["redirect"]
    result = Consent(context, dict(params, code=redirect), print).run()
    assert result.refresh_token and result.scope == f"{ep['cloud']['partner_center']}/user_impersonation"


@pytest.mark.parametrize("age, stale", [(-60, True), (-3, True), (0, False), (28, False), (33, True), (None, True)])
def test_a_pending_sign_in_goes_stale_after_sign_in_timeout(context, world, app, tmp_path, age, stale):
    """age: seconds since the flow was saved (negative: a clock that went back); None: no saved_at.
    Broken by: either bound dropped or moved, or a flow without saved_at taken as fresh."""
    params = parameters(app, tmp_path, mode="code", sign_in_timeout=30)
    url = start_code(context, params).details["auth_uri"]
    path = saved(params, app, world)
    with open(path) as handle:
        flow = json.load(handle)
    if age is None:
        del flow["saved_at"]
    else:
        flow["saved_at"] = time.time() - age
    _consent._save_private(path, flow)  # pylint: disable=protected-access
    redirect = sign_in(world, url)["redirect"]
    if stale:
        with pytest.raises(SecureAppError) as raised:
            Consent(context, dict(params, code=redirect), print).run()
        assert raised.value.code == "sign_in_stale"
        shown = abs(age) if age is not None else time.time()
        match = re.fullmatch(
            r"The pending sign-in was started (-?\d+) s ago, longer than sign_in_timeout \(30 s\), so it is stale: "
            r"run again without code to start a new one, and paste its redirect address sooner\.",
            raised.value.message)
        assert match and abs(abs(int(match.group(1))) - shown) <= 2, raised.value.message
    else:
        assert Consent(context, dict(params, code=redirect), print).run().refresh_token
    assert not os.path.lexists(path)


def test_a_failed_redemption_removes_the_pending_sign_in(context, world, app, tmp_path):
    """Broken by: the file kept after a failed redemption."""
    params = parameters(app, tmp_path, mode="code")
    url = start_code(context, params).details["auth_uri"]
    with pytest.raises(SecureAppError) as raised:
        declined = f"{params['redirect_uri']}/?error=access_denied&error_description=No+thanks"
        Consent(context, dict(params, code=f"{declined}&state={query_of(url)['state']}"), print).run()
    assert raised.value.message == "The sign-in was not completed: No thanks."
    assert not os.path.lexists(saved(params, app, world))


def test_a_pasted_url_without_a_code(context, world, app, tmp_path):
    """Broken by: a URL without code or error redeemed."""
    params = parameters(app, tmp_path, mode="code")
    start_code(context, params)
    with pytest.raises(SecureAppError) as raised:
        Consent(context, dict(params, code=f"{params['redirect_uri']}/?state=x"), print).run()
    assert raised.value.message == ("The pasted URL carries no 'code' parameter: paste the whole address the browser "
                                    "was sent to after the sign-in.")
    assert not os.path.lexists(saved(params, app, world))


@pytest.mark.parametrize("pasted, flow, expected", [
    ("  abc \n", None, {"code": "abc"}),
    ("abc", {"state": "s1"}, {"code": "abc", "state": "s1"}),
    ("abc", {"state": ""}, {"code": "abc"}),
    ("abc", {}, {"code": "abc"}),
    ("http://localhost:8400/?code=c1&state=s2&session_state=x", {"state": "s1"},
     {"code": "c1", "state": "s2", "session_state": "x"}),
    (" https://localhost/?error=access_denied", None, {"error": "access_denied"}),
    ("http://localhost/?code=c1&code=c2", None, {"code": "c1"}),
])
def test_pasted_response(pasted, flow, expected):
    """Broken by: the text not stripped, a code without the flow's state, a URL's parameters not taken as they are."""
    assert pasted_response(pasted, flow) == expected


@pytest.mark.parametrize("pasted", ["http://localhost:8400/?state=s", "https://localhost/", "http://x/?code=&error="])
def test_a_pasted_url_needs_a_code_or_an_error(pasted):
    """Broken by: an empty code or error taken as an answer."""
    with pytest.raises(SecureAppError, match="^The pasted URL carries no 'code' parameter"):
        pasted_response(pasted, {"state": "s"})
