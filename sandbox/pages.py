"""The HTML a browser sees during sign-in: plain forms a person, a browser test or an HTTP client
can fill in. Field names and element ids are stable so tests can rely on them."""
from __future__ import annotations

import html

STYLE = """body{font-family:Segoe UI,Helvetica,Arial,sans-serif;background:#f2f2f2;margin:0}
main{max-width:440px;margin:60px auto;background:#fff;padding:44px;box-shadow:0 2px 6px rgba(0,0,0,.2)}
h1{font-size:24px;font-weight:600;margin:0 0 16px}label{display:block;margin:12px 0 4px}
input[type=text],input[type=password],input[type=email]{width:100%;padding:6px;font-size:15px;box-sizing:border-box}
button{margin-top:20px;padding:8px 24px;background:#0067b8;color:#fff;border:0;font-size:15px}
button.secondary{background:#ccc;color:#000}.error{color:#e81123;margin:8px 0}.code{font-size:22px;font-family:monospace}
.banner{font-size:12px;color:#666;margin-bottom:20px}li{margin:4px 0}"""


def page(title: str, body: str, status_note: str = "") -> str:
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body><main>"
        "<div class=\"banner\">Microsoft cloud sandbox (partnercenter.secure_app) - not a Microsoft service</div>"
        f"<h1>{html.escape(title)}</h1>{status_note}{body}</main></body></html>"
    )


def _hidden(fields: dict[str, str]) -> str:
    return "".join(
        f"<input type=\"hidden\" name=\"{html.escape(k)}\" value=\"{html.escape(v)}\">" for k, v in fields.items()
    )


def _error(message: str | None) -> str:
    return f"<div class=\"error\" id=\"error\" role=\"alert\">{html.escape(message)}</div>" if message else ""


def sign_in(action: str, flow_id: str, app_name: str, login_hint: str = "", error: str | None = None) -> str:
    return page("Sign in", (
        f"<p>to continue to <b>{html.escape(app_name)}</b></p>{_error(error)}"
        f"<form method=\"post\" action=\"{html.escape(action)}\" id=\"signin\">{_hidden({'flow': flow_id, 'step': 'credentials'})}"
        "<label for=\"username\">Email or phone</label>"
        f"<input type=\"email\" id=\"username\" name=\"username\" value=\"{html.escape(login_hint)}\" autocomplete=\"username\">"
        "<label for=\"password\">Password</label>"
        "<input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\">"
        "<button type=\"submit\" id=\"next\">Sign in</button></form>"
    ))


def mfa(action: str, flow_id: str, upn: str, error: str | None = None) -> str:
    return page("Enter code", (
        f"<p>{html.escape(upn)}</p><p>Enter the code displayed in your authenticator app.</p>{_error(error)}"
        f"<form method=\"post\" action=\"{html.escape(action)}\" id=\"mfa\">{_hidden({'flow': flow_id, 'step': 'mfa'})}"
        "<label for=\"otc\">Code</label><input type=\"text\" id=\"otc\" name=\"otc\" inputmode=\"numeric\" autocomplete=\"one-time-code\">"
        "<button type=\"submit\" id=\"verify\">Verify</button></form>"
    ))


def consent(action: str, flow_id: str, app_name: str, upn: str, permissions: list[str], can_consent_for_org: bool) -> str:
    items = "".join(f"<li>{html.escape(p)}</li>" for p in permissions)
    org = ("<label><input type=\"checkbox\" name=\"consent_org\" id=\"consent_org\" value=\"1\"> Consent on behalf "
           "of your organization</label>") if can_consent_for_org else ""
    return page("Permissions requested", (
        f"<p>{html.escape(upn)}</p><p><b>{html.escape(app_name)}</b> would like to:</p><ul id=\"permissions\">{items}</ul>"
        f"<form method=\"post\" action=\"{html.escape(action)}\" id=\"consent\">{_hidden({'flow': flow_id, 'step': 'consent'})}{org}"
        "<button type=\"submit\" name=\"accept\" value=\"yes\" id=\"accept\">Accept</button> "
        "<button type=\"submit\" name=\"accept\" value=\"no\" id=\"cancel\" class=\"secondary\">Cancel</button></form>"
    ))


def form_post(redirect_uri: str, fields: dict[str, str]) -> str:
    """response_mode=form_post: the browser posts the code to the app's redirect URI."""
    return (
        "<!DOCTYPE html><html><head><title>Working...</title></head><body onload=\"document.forms[0].submit()\">"
        f"<form method=\"post\" action=\"{html.escape(redirect_uri)}\">{_hidden(fields)}"
        "<noscript><button type=\"submit\">Continue</button></noscript></form></body></html>"
    )


def show_code(code: str) -> str:
    return page("Copy this code", (
        "<p>Copy this code and paste it into the application that asked you to sign in.</p>"
        f"<p class=\"code\" id=\"code\">{html.escape(code)}</p>"
    ))


def device_code_entry(action: str, error: str | None = None) -> str:
    return page("Enter code", (
        f"<p>Enter the code displayed on your app or device.</p>{_error(error)}"
        f"<form method=\"post\" action=\"{html.escape(action)}\" id=\"devicecode\">"
        "<input type=\"text\" id=\"code\" name=\"code\" autocomplete=\"off\">"
        "<button type=\"submit\" id=\"next\">Next</button></form>"
    ))


def done(message: str) -> str:
    return page("You're signed in", f"<p id=\"done\">{html.escape(message)}</p>")


def error_page(code: int, message: str) -> str:
    return page("Sorry, but we're having trouble signing you in.",
                f"<p class=\"error\" id=\"error\">AADSTS{code}: {html.escape(message)}</p>")
