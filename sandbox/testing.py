"""Helpers for tests and demos: start a sandbox process and wait until it serves, call its test
API, and fill its sign-in pages over HTTP as a browser would."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlparse

import requests


class SandboxProcess:
    """`python -m sandbox serve` in a child process; usable as a context manager."""

    def __init__(self, state_dir: Path, *extra_args: str, python: str = sys.executable) -> None:
        self.state_dir = Path(state_dir)
        # The sandbox ends when this process does, however it ends (killed, or a forked test child
        # that exits without running its fixtures' teardown): its input is a pipe only we hold.
        self.args = [python, "-m", "sandbox", "serve", "--state", str(self.state_dir), "--exit-with-stdin",
                     *extra_args]
        self.process: subprocess.Popen | None = None
        self.endpoints: dict[str, Any] = {}
        self.log_path = self.state_dir / "sandbox.log"

    def start(self, timeout: float = 30) -> "SandboxProcess":
        self.state_dir.mkdir(parents=True, exist_ok=True)
        endpoints_file = self.state_dir / "endpoints.json"
        endpoints_file.unlink(missing_ok=True)
        root = Path(__file__).resolve().parent.parent
        env = dict(os.environ, PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
                                        cwd=str(root), env=env)
        log.close()  # the child has its own copy
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sandbox exited early:\n{self.log_path.read_text()[-2000:]}")
            if endpoints_file.exists():
                self.endpoints = json.loads(endpoints_file.read_text())
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("sandbox did not start in time")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process and self.process.stdin and not self.process.stdin.closed:
            self.process.stdin.close()

    def __enter__(self) -> "SandboxProcess":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class TestApi:
    """The sandbox's inspection and fault API."""

    def __init__(self, endpoints: dict[str, Any]) -> None:
        self.base = endpoints["test_api"] + "/sandbox"
        self.session = requests.Session()
        self.session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify
        self.session.verify = endpoints["ca_bundle"]

    def get(self, path: str) -> Any:
        response = self.session.get(self.base + path, timeout=30)
        response.raise_for_status()
        return response.json()

    def call(self, method: str, path: str, body: Any = None) -> Any:
        response = self.session.request(method, self.base + path, json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def state(self) -> dict[str, Any]:
        return self.get("/state")


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.error: str | None = None
        self.code: str | None = None
        self._capture: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": attributes.get("action", ""), "id": attributes.get("id", ""), "fields": {}})
        elif tag == "input" and self.forms and attributes.get("name"):
            if attributes.get("type") != "checkbox":
                self.forms[-1]["fields"][attributes["name"]] = attributes.get("value", "")
        if attributes.get("id") in ("error", "code"):
            self._capture = attributes["id"]

    def handle_data(self, data: str) -> None:
        if self._capture == "error":
            self.error = (self.error or "") + data
        elif self._capture == "code":
            self.code = (self.code or "") + data

    def handle_endtag(self, tag: str) -> None:
        self._capture = None


def parse_page(html: str) -> _Forms:
    parser = _Forms()
    parser.feed(html)
    return parser


class SignInError(Exception):
    pass


def sign_in(session: requests.Session, url: str, upn: str, password: str, mfa_code: str | None = None,
            accept: bool = True, consent_for_org: bool = False, method: str = "GET",
            data: dict[str, str] | None = None) -> dict[str, Any]:
    """Walk the sign-in pages from `url` like a browser: credentials, MFA code, consent.

    Returns {"redirect": URL} (query mode), {"form_post": (redirect_uri, fields)}, {"code": code}
    (out-of-band), or {"done": True} (device code)."""
    response = session.request(method, url, data=data, allow_redirects=False, timeout=30)
    for _attempt in range(6):
        if response.status_code in (301, 302, 303):
            return {"redirect": response.headers["Location"]}
        page = parse_page(response.text)
        if page.error and not page.forms:
            raise SignInError(page.error.strip())
        if page.code:
            return {"code": page.code.strip()}
        if 'id="done"' in response.text:
            return {"done": True}
        if not page.forms:
            raise SignInError(f"unexpected page (HTTP {response.status_code})")
        form = page.forms[0]
        fields = dict(form["fields"])
        step = fields.get("step")
        if step == "credentials":
            if page.error:
                raise SignInError(page.error.strip())
            fields.update(username=upn, password=password)
        elif step == "mfa":
            if page.error:
                raise SignInError(page.error.strip())
            if mfa_code is None:
                raise SignInError("the account asks for an MFA code")
            fields["otc"] = mfa_code
        elif step == "consent":
            fields["accept"] = "yes" if accept else "no"
            if consent_for_org:
                fields["consent_org"] = "1"
        else:  # the browser auto-submits form_post to the redirect URI
            return {"form_post": (form["action"], fields)}
        response = session.post(urljoin(response.url, form["action"]), data=fields, allow_redirects=False, timeout=30)
    raise SignInError("too many sign-in steps")


def auth_response(result: dict[str, Any]) -> dict[str, str]:
    """The parameters msal's acquire_token_by_auth_code_flow wants, from a sign_in result."""
    if "form_post" in result:
        return dict(result["form_post"][1])
    query = parse_qs(urlparse(result["redirect"]).query)
    return {k: v[0] for k, v in query.items()}


def complete_device_code(session: requests.Session, verification_uri: str, user_code: str, upn: str,
                         password: str, mfa_code: str | None = None) -> dict[str, Any]:
    entry = session.get(verification_uri, timeout=30)
    action = urljoin(entry.url, parse_page(entry.text).forms[0]["action"])
    return sign_in(session, action, upn, password, mfa_code, method="POST", data={"code": user_code})


def approve_invitation(session: requests.Session, url: str, upn: str, password: str) -> str:
    """Open a GDAP invitation link like the customer's Global Administrator and approve all;
    returns the final page's text (raises SignInError with the page's error otherwise)."""
    if "#" in url:  # the admin center's link: its page's script opens the relationship's page
        base, fragment = url.split("#", 1)
        url = urljoin(base, "/AdminPortal/partners/invitation/granularAdminRelationships/" + fragment.rsplit("/", 1)[1])
    page = session.get(url, timeout=30)
    form = parse_page(page.text).forms[0]
    response = session.post(urljoin(url, form["action"]), data={**form["fields"], "username": upn,
                                                                "password": password}, timeout=30)
    parsed = parse_page(response.text)
    approve = [f for f in parsed.forms if f["id"] == "approve"]
    if not approve:
        raise SignInError(parsed.error or "no approval form")
    done = session.post(urljoin(url, approve[0]["action"]), data=approve[0]["fields"], timeout=30)
    if done.status_code != 200 or "id=\"approved\"" not in done.text:
        raise SignInError(parse_page(done.text).error or f"HTTP {done.status_code}")
    return done.text
