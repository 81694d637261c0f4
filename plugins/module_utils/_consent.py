# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

The interactive consent that yields a refresh token: authorization code with PKCE through a
localhost listener (msal's), device code, or a code / redirect URL the user pasted. Used by the
consent action plugin on the controller."""

from __future__ import annotations

import json
import os
import socket
import stat
import tempfile
import time
from typing import Any, Callable
from urllib.parse import parse_qs, urlparse

from ._clouds import is_guid, shown_value
from ._context import Context
from ._errors import SecureAppError
from ._identity import TokenResult

try:
    from msal.oauth2cli.authcode import AuthCodeReceiver
except ImportError:  # reported by Identity, which needs msal first
    AuthCodeReceiver = None

MODES = ("browser", "device_code", "code")
# How long the browser-mode listener waits for a connection to send its request.
LISTENER_IDLE_SECONDS = 5


LOOPBACK = "127.0.0.1"


def loopback_receiver(port: int) -> Any:
    """msal's listener, bound to the loopback address. msal binds every interface (0.0.0.0) when it
    detects a container (Docker, Podman, Kubernetes), which would offer the sign-in's code to the
    network: such a listener is closed at once and the same server class and handler are bound
    to 127.0.0.1 instead. A listener that cannot be checked or rebound is refused."""
    receiver = AuthCodeReceiver(port=port)
    server = getattr(receiver, "_server", None)
    address = getattr(server, "server_address", None)
    if server is not None and address and address[0] != LOOPBACK:
        server_class, handler, bound_port = type(server), server.RequestHandlerClass, address[1]
        server.server_close()
        receiver._server = server = server_class((LOOPBACK, bound_port), handler)  # pylint: disable=protected-access
        address = server.server_address
    if not address or address[0] != LOOPBACK:
        if server is not None:
            server.server_close()
        raise SecureAppError("The browser-mode listener could not be bound to the loopback address only (this msal "
                             "release binds it another way), and it would take the sign-in's code from the network: "
                             "use mode: device_code or mode: code.", code="listener_not_loopback")
    return receiver


def _flow_file(state_dir: str, client_id: str, tenant: str) -> str:
    """The pending sign-in's file. client_id must be a GUID and the tenant was checked already, so
    neither can lead the path out of the state directory."""
    if not is_guid(client_id):
        raise SecureAppError(f"client_id {shown_value(client_id)!r} is not an application id: give the app's id (a GUID).",
                             code="invalid_client_id")
    safe_tenant = "".join(c if c.isalnum() or c in "-." else "_" for c in tenant)
    return os.path.join(os.path.expanduser(state_dir), f"consent-{client_id.lower()}-{safe_tenant}.json")


def _private_directory(path: str) -> None:
    """The state directory: created 0700; an existing one must be a directory (not a link) of mode
    0700 that the user owns, as a PKCE verifier others can read or replace is theirs too."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
    except FileExistsError:  # a file or a dangling link where the directory should be: refused below
        pass
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise SecureAppError(f"state_dir {path} is a link or not a directory: give a directory of your own.",
                             code="unsafe_state_dir")
    if info.st_uid != os.geteuid():
        raise SecureAppError(f"state_dir {path} belongs to another user (uid {info.st_uid}): give a directory of your "
                             "own.", code="unsafe_state_dir")
    if stat.S_IMODE(info.st_mode) != 0o700:
        raise SecureAppError(f"state_dir {path} has mode {stat.S_IMODE(info.st_mode):04o}, and the pending sign-in "
                             "must be yours alone: chmod 700 it or give another directory.", code="unsafe_state_dir")


def _save_private(path: str, data: dict[str, Any]) -> None:
    """Written to a new 0600 file beside the target, then renamed over it: an existing file's mode
    or a link planted at the path never decides where the PKCE verifier goes or who reads it."""
    directory = os.path.dirname(path)
    _private_directory(directory)
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".consent-", suffix=".json")
    try:
        with os.fdopen(descriptor, "w") as handle:  # mkstemp creates it 0600, O_EXCL
            json.dump(data, handle)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _load_private(path: str) -> dict[str, Any] | None:
    """The saved flow, read without following a link; None when there is none."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return None
    except OSError:
        raise SecureAppError(f"The pending sign-in file {path} cannot be read safely (a link?): remove it and run "
                             "again.", code="unsafe_state_file") from None
    with os.fdopen(descriptor) as handle:
        return json.load(handle)


def pasted_response(pasted: str, flow: dict[str, Any] | None) -> dict[str, str]:
    """The redirect URL the browser was sent to (or just the code) as msal's auth_response."""
    text = pasted.strip()
    if text.startswith(("http://", "https://")):
        query = parse_qs(urlparse(text).query)
        response = {key: values[0] for key, values in query.items()}
        if not response.get("code") and not response.get("error"):
            raise SecureAppError("The pasted URL carries no 'code' parameter: paste the whole address the browser "
                                 "was sent to after the sign-in.")
        return response
    response = {"code": text}
    if flow and flow.get("state"):
        response["state"] = flow["state"]
    return response


class Consent:
    def __init__(self, context: Context, params: dict[str, Any], show: Callable[[str], None]) -> None:
        self.context = context
        self.params = params
        self.show = show
        self.client_id = params["client_id"]
        self.client_secret = context.client_credential()
        self.tenant = context.tenant()
        self.scopes = params.get("scopes") or [context.cloud.default_scope(params.get("resource") or "partner_center")]

    def run(self) -> TokenResult:
        mode = self.params["mode"]
        if mode == "device_code":
            result = self.context.identity.device_code(self.client_id, self.tenant, self.scopes, self.show,
                                                       self.params["sign_in_timeout"])
        elif mode == "browser":
            result = self.browser()
        else:
            result = self.pasted_code()
        if self.params["require_mfa"] and not result.mfa:
            upn = result.identity().get("upn") or "The account"
            raise SecureAppError(f"{upn} signed in without multi-factor authentication, so Partner Center will refuse "
                                 "its tokens: enable MFA for the account and run the consent again (or set "
                                 "require_mfa: false).", code="mfa_not_done")
        if not result.refresh_token:
            raise SecureAppError("The sign-in returned no refresh token: include offline_access consent for the app "
                                 "and run the consent again.", code="no_refresh_token")
        return result

    def _flow(self, response_mode: str) -> dict[str, Any]:
        return self.context.identity.auth_code_flow(
            self.client_id, self.client_secret, self.tenant, self.scopes, self.params["redirect_uri"],
            response_mode=response_mode, login_hint=self.params.get("login_hint"), prompt=self.params.get("prompt"))

    def browser(self) -> TokenResult:
        redirect = urlparse(self.params["redirect_uri"])
        if redirect.scheme != "http" or redirect.hostname not in ("localhost", "127.0.0.1"):
            raise SecureAppError("Browser mode listens on the redirect URI, which must be http://localhost:PORT: "
                                 "register one on the app, or use mode: code.")
        if AuthCodeReceiver is None:
            raise SecureAppError("msal's local listener is not available: install msal >= 1.28.")
        flow = self._flow("form_post")
        # msal's listener serves one connection at a time; a connection that sends nothing would
        # hold it until the sign-in times out. Sockets made while the default timeout is set, the
        # accepted connections among them, give up after LISTENER_IDLE_SECONDS of silence.
        previous_default = socket.getdefaulttimeout()
        socket.setdefaulttimeout(LISTENER_IDLE_SECONDS)
        try:
            try:
                receiver = loopback_receiver(redirect.port or 80)
            except OSError as exc:
                raise SecureAppError(f"Cannot listen on {self.params['redirect_uri']} ({exc.strerror}): free the port "
                                     "or register another localhost redirect URI.") from None
            with receiver:
                self.show(f"Sign in as the service account to consent (waiting {self.params['sign_in_timeout']} s): "
                          f"{flow['auth_uri']}")
                try:
                    response = receiver.get_auth_response(
                        auth_uri=flow["auth_uri"] if self.params["open_browser"] else None,
                        timeout=self.params["sign_in_timeout"], state=flow["state"],
                        auth_uri_callback=lambda uri: None)
                except RuntimeError:
                    response = None
        finally:
            socket.setdefaulttimeout(previous_default)
        if not response:
            raise SecureAppError(
                f"No sign-in arrived at {self.params['redirect_uri']} within {self.params['sign_in_timeout']} seconds "
                "(the listener answers on this machine's loopback address only): open the printed URL in a browser "
                "on this machine sooner, raise sign_in_timeout, or use mode: code or device_code on a remote "
                "controller.", code="timeout")
        return self.context.identity.redeem_auth_code(self.client_id, self.client_secret, self.tenant, flow, response)

    def pasted_code(self) -> TokenResult:
        path = _flow_file(self.params["state_dir"], self.client_id, self.tenant)
        flow = _load_private(path)
        pasted = self.params.get("code")
        if not pasted:
            flow = self._flow("query")
            flow["saved_at"] = time.time()
            _save_private(path, flow)
            raise SecureAppError(
                "Open this URL in a browser, sign in as the service account and consent; the browser then goes to "
                f"{self.params['redirect_uri']}, which may not load: copy that whole address and run again with "
                f"code set to it. URL: {flow['auth_uri']}", code="code_required", details={"auth_uri": flow["auth_uri"]})
        try:
            age = time.time() - float((flow or {}).get("saved_at") or 0)
            if flow and not 0 <= age <= self.params["sign_in_timeout"]:
                raise SecureAppError(
                    f"The pending sign-in was started {age:.0f} s ago, longer than sign_in_timeout "
                    f"({self.params['sign_in_timeout']} s), so it is stale: run again without code to start a new "
                    "one, and paste its redirect address sooner.", code="sign_in_stale")
            if flow:
                response = pasted_response(pasted, flow)
                flow.pop("saved_at", None)
                return self.context.identity.redeem_auth_code(
                    self.client_id, self.client_secret, self.tenant, flow, response)
            response = pasted_response(pasted, None)
            return self.context.identity.redeem_plain_code(self.client_id, self.client_secret, self.tenant,
                                                           response["code"], self.scopes, self.params["redirect_uri"])
        finally:
            if os.path.lexists(path):
                os.unlink(path)  # a code is good for one redemption; a retry starts afresh
