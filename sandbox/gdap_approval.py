"""The customer's side of a GDAP relationship: the invitation link the partner sends (in the
Microsoft 365 admin center, served here on the login host), where the customer's Global
Administrator signs in, reviews the partner's roles and approves. Approval moves the relationship
from approvalPending to approved; the clock then takes it through activating to active.

Microsoft's link is {admin center}/AdminPortal/Home#/partners/invitation/granularAdminRelationships/{id};
the part after '#' never reaches a server, so /AdminPortal/Home is a small page whose script opens
the sandbox's own page for that relationship."""
from __future__ import annotations

import html
import json
import secrets

from aiohttp import web

from . import gdap, pages
from .context import Sandbox, sandbox_of
from .ids import hash_secret

INVITATION = "/AdminPortal/partners/invitation/granularAdminRelationships/{id}"
SESSION_SECONDS = 600


def approve(sandbox: Sandbox, relationship_id: str, user: dict, user_tenant_id: str) -> str | None:
    """Approve as this user; None when done, else why not (one sentence)."""
    row = sandbox.store.one("SELECT * FROM gdap_relationships WHERE id=?", (relationship_id,))
    if row is None:
        return "There is no such relationship request."
    if user_tenant_id != row["customer_id"] or "Global Administrator" not in user.get("x_roles", []):
        return "Only a Global Administrator of the customer's tenant can approve this relationship."
    status = gdap.relationship_status(sandbox, row)
    if status != "approvalPending":
        return f"This relationship is {status}: only a relationship awaiting approval can be approved."
    now = sandbox.now()
    sandbox.store.execute("UPDATE gdap_relationships SET status='approved', approved=?, modified=?, version=version+1"
                          " WHERE id=?", (now, now, relationship_id))
    return None


def _html(body: str, status: int = 200) -> web.Response:
    return web.Response(text=body, status=status, content_type="text/html",
                        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"})


async def home(request: web.Request) -> web.Response:
    script = ("<script>var m=location.hash.match(/granularAdminRelationships\\/([^/?#]+)/);"
              "if(m){location.replace('/AdminPortal/partners/invitation/granularAdminRelationships/'"
              "+encodeURIComponent(m[1]));}</script>")
    return _html(pages.page("Microsoft 365 admin center", "<p id=\"home\">Opening the partner's invitation...</p>"
                            + script))


def _details(sandbox: Sandbox, row) -> str:
    partner = sandbox.store.tenant(row["partner_id"]) or {}
    roles = "".join(f"<li>{html.escape(gdap.ROLE_NAMES.get(r, r))}</li>" for r in json.loads(row["roles"]))
    return (f"<p><b>{html.escape(partner.get('display_name') or row['partner_id'])}</b> asks for these roles in your "
            f"organization for {row['duration_days']} days (relationship "
            f"<span id=\"relationship\">{html.escape(row['display_name'])}</span>):</p><ul id=\"roles\">{roles}</ul>")


def _sign_in_form(action: str, error: str | None = None, login_hint: str = "") -> str:
    problem = f"<div class=\"error\" id=\"error\" role=\"alert\">{html.escape(error)}</div>" if error else ""
    return (f"{problem}<form method=\"post\" action=\"{html.escape(action)}\" id=\"signin\">"
            "<input type=\"hidden\" name=\"step\" value=\"credentials\">"
            "<label for=\"username\">Email</label>"
            f"<input type=\"email\" id=\"username\" name=\"username\" value=\"{html.escape(login_hint)}\">"
            "<label for=\"password\">Password</label><input type=\"password\" id=\"password\" name=\"password\">"
            "<button type=\"submit\" id=\"next\">Sign in</button></form>")


async def invitation(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    row = sandbox.store.one("SELECT * FROM gdap_relationships WHERE id=?", (request.match_info["id"],))
    if row is None:
        return _html(pages.page("Partner invitation", "<p class=\"error\" id=\"error\">This invitation link is not "
                                "valid.</p>"), 404)
    action = request.path
    if request.method == "GET":
        return _html(pages.page("Approve partner roles", _details(sandbox, row)
                                + "<p>Sign in as a Global Administrator of your organization.</p>"
                                + _sign_in_form(action)))
    from .identity import find_user_by_upn  # identity imports gdap

    form = dict(await request.post())
    if form.get("step") == "credentials":
        tenant_id, user = find_user_by_upn(sandbox, form.get("username", ""))
        if user is None or hash_secret(form.get("password", "")) != user["x_password_hash"]:
            return _html(pages.page("Approve partner roles", _details(sandbox, row) + _sign_in_form(
                action, "Your account or password is incorrect.", form.get("username", ""))))
        if tenant_id != row["customer_id"] or "Global Administrator" not in user.get("x_roles", []):
            return _html(pages.page("Approve partner roles", _details(sandbox, row) + _sign_in_form(
                action, "Only a Global Administrator of this customer's organization can approve.",
                form.get("username", ""))))
        session = secrets.token_urlsafe(24)
        sandbox.store.execute("INSERT INTO logins VALUES(?, ?, ?)", (
            hash_secret(session), json.dumps({"user_id": user["id"], "tenant_id": tenant_id, "relationship": row["id"]}),
            sandbox.now() + SESSION_SECONDS))
        status = gdap.relationship_status(sandbox, row)
        if status != "approvalPending":
            return _html(pages.page("Approve partner roles", _details(sandbox, row)
                                    + f"<p id=\"status\">This relationship is {html.escape(status)}.</p>"))
        return _html(pages.page("Approve partner roles", _details(sandbox, row) + (
            f"<p>Signed in as {html.escape(user['userPrincipalName'])}.</p>"
            f"<form method=\"post\" action=\"{html.escape(action)}\" id=\"approve\">"
            f"<input type=\"hidden\" name=\"step\" value=\"approve\"><input type=\"hidden\" name=\"session\" "
            f"value=\"{html.escape(session)}\">"
            "<button type=\"submit\" id=\"approve_all\">Approve all</button></form>")))
    if form.get("step") == "approve":
        found = sandbox.store.one("SELECT data, expires FROM logins WHERE id=?", (hash_secret(form.get("session", "")),))
        data = json.loads(found["data"]) if found and found["expires"] > sandbox.now() else None
        if data is None or data.get("relationship") != row["id"]:
            return _html(pages.page("Approve partner roles", _details(sandbox, row) + _sign_in_form(
                action, "Your sign-in has expired: sign in again.")), 400)
        sandbox.store.execute("DELETE FROM logins WHERE id=?", (hash_secret(form["session"]),))
        user = sandbox.store.get_object(data["user_id"], "user")
        problem = approve(sandbox, row["id"], user, data["tenant_id"])
        if problem:
            return _html(pages.page("Approve partner roles", f"<p class=\"error\" id=\"error\">{html.escape(problem)}"
                                    "</p>"), 400)
        return _html(pages.page("Partner roles approved", _details(sandbox, row)
                                + "<p id=\"approved\">You approved these roles. The partner's access becomes active "
                                  "in a few minutes.</p>"))
    return _html(pages.page("Approve partner roles", _sign_in_form(action)), 400)


def routes() -> list[web.RouteDef]:
    return [
        web.get("/AdminPortal/Home", home),
        web.get(INVITATION, invitation),
        web.post(INVITATION, invitation),
    ]
