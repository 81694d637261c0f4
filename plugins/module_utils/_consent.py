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
import time
from typing import Any, Callable
from urllib.parse import parse_qs, urlparse

from ._context import Context
from ._errors import SecureAppError
from ._identity import TokenResult

try:
    from msal.oauth2cli.authcode import AuthCodeReceiver
except ImportError:  # reported by Identity, which needs msal first
    AuthCodeReceiver = None

MODES = ("browser", "device_code", "code")


def _flow_file(state_dir: str, client_id: str, tenant: str) -> str:
    safe_tenant = "".join(c if c.isalnum() or c in "-." else "_" for c in tenant)
    return os.path.join(os.path.expanduser(state_dir), f"consent-{client_id}-{safe_tenant}.json")


def _save_private(path: str, data: dict[str, Any]) -> None:
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(data, handle)


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
        self.client_secret = params.get("client_secret")
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
        try:
            receiver = AuthCodeReceiver(port=redirect.port or 80)
        except OSError as exc:
            raise SecureAppError(f"Cannot listen on {self.params['redirect_uri']} ({exc.strerror}): free the port or "
                                 "register another localhost redirect URI.") from None
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
        if not response:
            raise SecureAppError(f"No sign-in arrived within {self.params['sign_in_timeout']} seconds: open the printed "
                                 "URL sooner, or raise sign_in_timeout.", code="timeout")
        return self.context.identity.redeem_auth_code(self.client_id, self.client_secret, self.tenant, flow, response)

    def pasted_code(self) -> TokenResult:
        path = _flow_file(self.params["state_dir"], self.client_id, self.tenant)
        flow = None
        if os.path.exists(path):
            with open(path) as handle:
                flow = json.load(handle)
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
            if flow:
                response = pasted_response(pasted, flow)
                flow.pop("saved_at", None)
                return self.context.identity.redeem_auth_code(
                    self.client_id, self.client_secret, self.tenant, flow, response)
            response = pasted_response(pasted, None)
            return self.context.identity.redeem_plain_code(self.client_id, self.client_secret, self.tenant,
                                                           response["code"], self.scopes, self.params["redirect_uri"])
        finally:
            if os.path.exists(path):
                os.unlink(path)  # a code is good for one redemption; a retry starts afresh
