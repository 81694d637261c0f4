# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

What the api (write) and api_info (read) modules share: the API a request goes to (its base URL
in the cloud and the resource of its token), the path after it, the customer tenant whose token a
partner_token fact gives, and the read with the API's paging. The write is in _api_write. The
doc fragment partnercenter.secure_app.api_request documents these options."""

from __future__ import annotations

from typing import Any

from ._context import Context
from ._errors import SecureAppError
from ._http import follow_pages, json_body, same_origin_link, service_error
from ._partner_token import RESOURCE_OF_API

# The cloud attribute holding each API's base URL.
BASE_OF_API = {"graph": "graph", "resource_manager": "resource_manager", "partner_center": "partner_center"}

API_ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "api": {"type": "str", "required": True, "choices": list(BASE_OF_API)},
    "path": {"type": "str", "required": True},
    "customer_tenant_id": {"type": "str"},
}


def token_resource(params: dict[str, Any]) -> str:
    """The partner_token resource whose token the chosen API takes."""
    return RESOURCE_OF_API[params["api"]]


def check_path(path: Any) -> None:
    if not str(path).startswith("/"):
        raise SecureAppError(f"path {path!r} must start with '/': give the path after the API's base URL.")


def base_url(context: Context, api: str) -> str:
    return getattr(context.cloud, BASE_OF_API[api])


def access_token(context: Context, api: str) -> str:
    return context.token(RESOURCE_OF_API[api], f"call {api}")


def read(context: Context, params: dict[str, Any]) -> dict[str, Any]:
    """A GET of params' path, and with follow_pages the value entries of every page (only links on
    the API's own origin are followed: the token goes with them)."""
    check_path(params["path"])
    base = base_url(context, params["api"])
    headers = {"Authorization": f"Bearer {access_token(context, params['api'])}", "Accept": "application/json"}
    action = f"read {params['api']} {params['path']}"

    def fetch(url: str, _headers: dict) -> object:
        response = context.http.request("GET", url, headers=headers)
        if response.status_code != 200:
            raise service_error(action, response)
        return json_body(response)

    def next_of(body: object) -> tuple[str, dict] | None:
        next_link = (body.get("@odata.nextLink") or body.get("nextLink")) if isinstance(body, dict) else None
        return (same_origin_link(next_link, base), {}) if next_link and params["follow_pages"] else None

    first = fetch(base + params["path"], {})
    entries = [entry for body in follow_pages(context.http, f"{params['api']} {params['path']}", first, next_of, fetch)
               for entry in ((body.get("value") or []) if isinstance(body, dict) else [])]
    return {"changed": False, "json": first, "entries": entries}
