# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

One write (POST, PATCH, PUT, DELETE) to Microsoft Graph, Resource Manager or Partner Center over
the run's session. What may be sent again after a lost answer is decided once here: PUT and
DELETE are idempotent by HTTP's definition and get every retry; POST and PATCH are sent again
only when the service said it did not act (429, 503), unless the caller declares the request
idempotent. What it shares with the read (the API, the path) is in _api."""

from __future__ import annotations

import uuid
from typing import Any

from ._api import API_ARGUMENT_SPEC, access_token, base_url, check_path
from ._context import Context
from ._errors import SecureAppError
from ._http import json_body, service_error

WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")
IDEMPOTENT_METHODS = frozenset({"PUT", "DELETE"})
DEFAULT_STATUS_CODES = [200, 201, 202, 204]
# Headers the collection sets itself: a task may not replace them.
RESERVED_HEADERS = frozenset({"authorization", "host", "content-length"})
# The ids each API answers with, first found first: support asks for them.
REQUEST_ID_HEADERS = ("request-id", "x-ms-request-id", "MS-RequestId")

API_WRITE_ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    **API_ARGUMENT_SPEC,
    "method": {"type": "str", "required": True, "choices": list(WRITE_METHODS)},
    "body": {"type": "raw"},
    "secret_body": {"type": "dict", "no_log": True},
    "headers": {"type": "dict", "default": {}},
    "status_code": {"type": "list", "elements": "int", "default": DEFAULT_STATUS_CODES},
    "idempotent": {"type": "bool"},
    "changed": {"type": "bool", "default": True},
}


def merged_body(body: Any, secret_body: dict[str, Any] | None) -> Any:
    """The body with the secret parts laid over it, nested dictionaries merged key by key."""
    if not secret_body:
        return body
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise SecureAppError("secret_body needs body to be a dictionary (or absent): it is merged into it key by key.")

    def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
        result = dict(base)
        for key, value in over.items():
            result[key] = merge(result[key], value) if isinstance(value, dict) and isinstance(result.get(key), dict) \
                else value
        return result
    return merge(body, secret_body)


def check_request(params: dict[str, Any]) -> None:
    check_path(params["path"])
    reserved = sorted(name for name in params["headers"] or {} if str(name).lower() in RESERVED_HEADERS)
    if reserved:
        raise SecureAppError(f"headers may not set {', '.join(reserved)}: the collection sets it from the token and "
                             "the body.")
    if params["method"] == "DELETE" and (params["body"] is not None or params["secret_body"]):
        raise SecureAppError("A DELETE carries no body: leave body and secret_body out.")
    if not params["status_code"]:
        raise SecureAppError("status_code is empty: give the statuses that mean success, such as [201] for a create.")


def is_replay_safe(method: str, idempotent: bool | None) -> bool:
    return method in IDEMPOTENT_METHODS if idempotent is None else idempotent


def send(context: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Send the write; the result holds the status, the answer and its request id. Nothing is
    sent in check mode (the caller does not call this)."""
    base = base_url(context, params["api"])
    headers = {str(name): str(value) for name, value in (params["headers"] or {}).items()}
    headers.update({"Authorization": f"Bearer {access_token(context, params['api'])}", "Accept": "application/json"})
    if params["api"] == "partner_center":
        headers.setdefault("MS-RequestId", str(uuid.uuid4()))
        headers.setdefault("MS-CorrelationId", str(uuid.uuid4()))
    body = merged_body(params["body"], params["secret_body"])
    arguments: dict[str, Any] = {"headers": headers}
    if body is not None:
        arguments["json"] = body
    method, path = params["method"], params["path"]
    response = context.http.request(method, base + path, create_once=not is_replay_safe(method, params["idempotent"]),
                                    **arguments)
    if response.status_code not in params["status_code"]:
        raise service_error(f"{method} {params['api']} {path}", response)
    request_id = next((response.headers[name] for name in REQUEST_ID_HEADERS if response.headers.get(name)), None)
    return {"status_code": response.status_code, "json": json_body(response) if response.content else None,
            "location": response.headers.get("Location"), "request_id": request_id}
