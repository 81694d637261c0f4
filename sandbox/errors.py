"""One error path for every emulated service.

A handler (or anything it calls) raises `ServiceError`, or returns what one of the services' helper
functions (`graph_error`, `aad_error`, `kv_error`, `arm_error`, `pc_error`) builds from one; the
renderer of the service writes it in that service's own shape, with the ids of the request being
answered (`RequestIds`, set by the outermost middleware of each service, see `boundary.py`).

This module is a leaf: it imports nothing of the sandbox, so every service may use it."""
from __future__ import annotations

import contextvars
import datetime
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import web

# The JSON media type each service answers with (Graph's is OData's, with its parameters).
JSON_CONTENT_TYPES = {
    "graph": "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8",
    "login": "application/json; charset=utf-8",
    "vault": "application/json; charset=utf-8",
    "management": "application/json; charset=utf-8",
    "partner_center": "application/json; charset=utf-8",
    "test": "application/json; charset=utf-8",
}


@dataclass
class RequestIds:
    """The ids of one request: the one the service makes up, and those the caller sent."""

    service: str
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    # The caller's own id for the request (client-request-id, x-ms-client-request-id), if sent.
    client_request_id: str | None = None
    # Resource Manager's x-ms-correlation-request-id and Partner Center's MS-CorrelationId: the
    # caller's when sent, otherwise one made up here.
    correlation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    now: float = field(default_factory=time.time)  # the sandbox clock when the request arrived
    login_url: str = "https://login.microsoftonline.com"


CURRENT_IDS: contextvars.ContextVar[RequestIds | None] = contextvars.ContextVar("current_ids", default=None)


def current_ids(service: str) -> RequestIds:
    """The ids of the request being answered; fresh ones outside a request (a helper called by a
    test or a tool)."""
    ids = CURRENT_IDS.get()
    return ids if ids is not None else RequestIds(service)


class ServiceError(Exception):
    """An error answer of an emulated service: raise it anywhere in a handler.

    `code` is the service's own code: Graph's, Key Vault's and Resource Manager's `error.code`;
    the identity platform's OAuth `error` (with the AADSTS number in `aadsts`); Partner Center's
    numeric `code`. `service` names the shape when it is not that of the service answering."""

    def __init__(self, status: int, code: str | int, message: str, *, headers: dict[str, str] | None = None,
                 inner_code: str | None = None, aadsts: int | None = None, suberror: str | None = None,
                 data: list[Any] | None = None, service: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        self.inner_code = inner_code
        self.aadsts = aadsts
        self.suberror = suberror
        self.data = data
        self.service = service


def graph_time(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def entra_time(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


# the services' shapes --------------------------------------------------------------------------
def graph_body(error: ServiceError, ids: RequestIds) -> dict[str, Any]:
    """Graph's error object, innerError naming the request as the response headers do."""
    return {"error": {"code": error.code, "message": error.message, "innerError": {
        "date": graph_time(ids.now), "request-id": ids.request_id,
        "client-request-id": ids.client_request_id or ids.request_id}}}


def login_body(error: ServiceError, ids: RequestIds) -> dict[str, Any]:
    """The identity platform's OAuth error: the trace id is the response's x-ms-request-id and the
    correlation id the caller's client-request-id (msal sends one with every request)."""
    number = error.aadsts or 90000
    stamp = entra_time(ids.now)
    correlation_id = ids.client_request_id or ids.correlation_id
    body: dict[str, Any] = {
        "error": error.code,
        "error_description": f"AADSTS{number}: {error.message} Trace ID: {ids.request_id} Correlation ID: "
                             f"{correlation_id} Timestamp: {stamp}",
        "error_codes": [number],
        "timestamp": stamp,
        "trace_id": ids.request_id,
        "correlation_id": correlation_id,
        "error_uri": f"{ids.login_url}/error?code={number}",
    }
    if error.suberror:
        body["suberror"] = error.suberror
    return body


def vault_body(error: ServiceError, ids: RequestIds) -> dict[str, Any]:
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.inner_code:
        body["innererror"] = {"code": error.inner_code}
    return {"error": body}


def arm_body(error: ServiceError, ids: RequestIds) -> dict[str, Any]:
    return {"error": {"code": error.code, "message": error.message}}


def partner_center_body(error: ServiceError, ids: RequestIds) -> dict[str, Any]:
    """Partner Center's error: a numeric code, a description, data and the source."""
    return {"code": error.code, "description": error.message, "data": list(error.data or []), "source": "PartnerFD"}


def test_api_body(error: ServiceError, ids: RequestIds) -> dict[str, Any]:
    return {"error": error.message}


RENDERERS: dict[str, Callable[[ServiceError, RequestIds], dict[str, Any]]] = {
    "graph": graph_body,
    "login": login_body,
    "vault": vault_body,
    "management": arm_body,
    "partner_center": partner_center_body,
    "test": test_api_body,
}


def render(error: ServiceError, service: str) -> web.Response:
    """The response of `error` in the shape of its service (or of `service`, the one answering)."""
    shape = error.service or service
    body = RENDERERS[shape](error, current_ids(shape))
    response = web.Response(status=error.status, text=json.dumps(body), headers=error.headers)
    response.headers["Content-Type"] = JSON_CONTENT_TYPES[shape]
    return response
