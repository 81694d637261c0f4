"""What every request to an emulated service goes through, whichever route it takes or misses: the
one outermost middleware of each service.

In order: the request's ids (made up, or the caller's echoed as the service echoes them); the URL
variants the service accepts (mapped onto the route they name, once, here); the test API's
injected faults and latency; the handler; and whatever comes out of it (an answer, a raised
`ServiceError`, an unknown route or method, a crash) rendered in the service's own shape, with the
ids added to every answer in `finally`."""
from __future__ import annotations

import asyncio
import json
import logging
import random
import re
from typing import Any, Awaitable, Callable

from aiohttp import web

from .errors import CURRENT_IDS, JSON_CONTENT_TYPES, RequestIds, ServiceError, render

log = logging.getLogger("sandbox")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

COUNTED_WRITES = {"graph", "partner_center", "vault", "management"}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# What a service forgives in a URL: a trailing slash, and the case of its fixed path segments
# (never of ids and names, which each handler compares as the service does). Repeated slashes are
# refused everywhere: an empty segment names nothing (the identity platform answers a 404 for
# `//oauth2/...`, an empty tenant).
TRAILING_SLASH = {"graph", "vault", "management"}
CASE_INSENSITIVE_SEGMENTS = {"graph", "management"}
# Graph's service root serves these versions; the sandbox serves v1.0 only.
GRAPH_VERSIONS = {"v1.0", "beta"}
GRAPH_AGS_DIAGNOSTIC = json.dumps({"ServerInfo": {"DataCenter": "Sandbox", "Slice": "E", "Ring": "0",
                                                  "ScaleUnit": "000", "RoleInstance": "sandbox"}},
                                  separators=(",", ":"))

# Injected faults and crashes, per service: (code, message) by status, in the service's words.
FAULT_ERRORS: dict[str, dict[int, tuple[Any, str]]] = {
    "graph": {429: ("TooManyRequests", "Too many requests."),
              503: ("serviceNotAvailable", "The service is temporarily unavailable for maintenance or is overloaded."),
              500: ("generalException", "An unspecified error has occurred.")},
    "login": {429: ("temporarily_unavailable", "The server is temporarily unable to handle the request."),
              503: ("temporarily_unavailable", "The server is temporarily unable to handle the request."),
              500: ("server_error", "A transient error has occurred. Please try again.")},
    "vault": {429: ("Throttled", "Request was not processed because too many requests were received."),
              503: ("ServiceUnavailable", "The service is unavailable. Retry the request later."),
              500: ("InternalServerError", "An internal server error occurred.")},
    "management": {429: ("TooManyRequests", "The request was throttled. Retry after the time in Retry-After."),
                   503: ("ServiceUnavailable", "The service is unavailable. Retry the request later."),
                   500: ("InternalServerError", "An internal server error occurred.")},
    "partner_center": {429: (429, "Too many requests. Retry after the time in Retry-After."),
                       503: (503, "The service is unavailable. Retry the request later."),
                       500: (500, "An internal server error occurred.")},
    "test": {500: ("InternalServerError", "The sandbox's test API failed; see the sandbox log.")},
}
LOGIN_AADSTS = {429: 50196, 503: 90033, 500: 90033}


def _json(body: Any, status: int) -> web.Response:
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")


def fault_error(service: str, status: int, injected: bool = True) -> ServiceError:
    code, message = FAULT_ERRORS[service].get(status) or FAULT_ERRORS[service].get(500) or ("Error", "Error.")
    if injected:
        message += " (injected fault)"
    return ServiceError(status, code, message, aadsts=LOGIN_AADSTS.get(status, 90033))


# ids ---------------------------------------------------------------------------------------------
def request_ids(service: str, request: web.Request, now: float, login_url: str) -> RequestIds:
    headers = request.headers
    ids = RequestIds(service, now=now, login_url=login_url)
    if service == "graph":
        ids.client_request_id = headers.get("client-request-id")
    elif service in ("login", "vault", "management"):
        ids.client_request_id = headers.get("client-request-id") or headers.get("x-ms-client-request-id")
    if service == "management" and headers.get("x-ms-correlation-request-id"):
        ids.correlation_id = headers["x-ms-correlation-request-id"]
    if service == "partner_center":  # Partner Center echoes the caller's ids and makes up missing ones
        ids.request_id = headers.get("MS-RequestId") or ids.request_id
        ids.correlation_id = headers.get("MS-CorrelationId") or ids.correlation_id
    return ids


def correlation_headers(service: str, request: web.Request, ids: RequestIds) -> dict[str, str]:
    """The ids each service returns so that support can find a request: Graph's request-id and
    client-request-id (the caller's, or the request id); the identity platform's and Key Vault's
    x-ms-request-id with the caller's client-request-id echoed; Resource Manager's request and
    correlation ids; Partner Center's MS-RequestId and MS-CorrelationId."""
    sent = request.headers
    if service == "graph":
        return {"request-id": ids.request_id, "client-request-id": ids.client_request_id or ids.request_id,
                "x-ms-ags-diagnostic": GRAPH_AGS_DIAGNOSTIC}
    if service == "partner_center":
        return {"MS-RequestId": ids.request_id, "MS-CorrelationId": ids.correlation_id}
    if service == "test":
        return {}
    headers = {"x-ms-request-id": ids.request_id}
    for name in ("client-request-id", "x-ms-client-request-id"):
        if sent.get(name) and (service == "login" or name.startswith("x-ms-")):
            headers[name] = sent[name]
    if service == "management":
        headers["x-ms-correlation-request-id"] = ids.correlation_id
    return headers


# URLs --------------------------------------------------------------------------------------------
def route_templates(app: web.Application) -> list[list[str]]:
    """The path segments of every route of the app ('{name}' for a variable one)."""
    return [resource.canonical.split("/")[1:] for resource in app.router.resources()]


def canonical_path(service: str, path: str, templates: list[list[str]]) -> str | None:
    """The path of a route this URL names in the service's forgiving reading, or None."""
    parts = path.split("/")[1:]
    if service in TRAILING_SLASH and len(parts) > 1 and parts[-1] == "":
        parts = parts[:-1]
    if "" in parts:
        return None
    if service in CASE_INSENSITIVE_SEGMENTS:
        for template in templates:
            if len(template) == len(parts) and all(
                    fixed.startswith("{") or fixed.lower() == part.lower() for fixed, part in zip(template, parts)):
                parts = [part if fixed.startswith("{") else fixed for fixed, part in zip(template, parts)]
                break
    return "/" + "/".join(parts)


async def reroute(request: web.Request, service: str) -> web.Request | None:
    """The request as addressed to the route its URL names in the service's reading, or None."""
    canonical = canonical_path(service, request.path, request.app["route_templates"])
    if canonical is None or canonical == request.path:
        return None
    url = request.rel_url.with_path(canonical).with_query(request.rel_url.query)
    rerouted = request.clone(rel_url=url)
    match_info = await request.app.router.resolve(rerouted)
    refusal = getattr(match_info, "http_exception", None)
    if refusal is not None and refusal.status != 405:  # a route that exists refuses the method itself
        return None
    match_info.add_app(request.app)
    match_info.freeze()
    rerouted._match_info = match_info  # aiohttp resolves before middlewares and has no public setter
    return rerouted


def unknown_route(service: str, request: web.Request, exception: web.HTTPException) -> ServiceError:
    """A path or method the service does not serve, in the service's own words."""
    method, path = request.method, request.path
    if exception.status == 405:
        allowed = sorted(getattr(exception, "allowed_methods", ()) or ())
        headers = {"Allow": ", ".join(allowed)} if allowed else {}
        if service == "graph":
            return ServiceError(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request "
                                "target.", headers=headers)
        if service == "login":
            return ServiceError(400, "invalid_request", f"The endpoint only accepts {', '.join(allowed)} requests. "
                                f"Received a {method} request.", aadsts=900561, headers=headers)
        message = f"The requested resource does not support http method '{method}'."
        if service == "partner_center":
            return ServiceError(405, 405, message, headers=headers)
        return ServiceError(405, "MethodNotAllowed", message, headers=headers)
    if service == "graph":
        parts = path.split("/")[1:]
        if parts[0] not in GRAPH_VERSIONS:
            return ServiceError(400, "BadRequest", f"Invalid version: {parts[0]}")
        return ServiceError(400, "BadRequest", f"Resource not found for the segment "
                            f"'{unknown_segment(parts, request.app['route_templates'])}'.")
    if service == "login":
        return ServiceError(404, "invalid_request", f"Invalid request. Request is malformed or invalid: no "
                            f"endpoint at '{path}'.", aadsts=9002313)
    message = f"No HTTP resource was found that matches the request URI '{request.url.with_query(None)}'."
    if service == "partner_center":
        return ServiceError(404, 404, message)
    return ServiceError(404, "NotFound", message)


def framework_refusal(service: str, exception: web.HTTPException) -> ServiceError:
    """A refusal of the web framework itself (a body over the size limit, ...): its status, in the
    service's shape *(codes unverified)*."""
    # The phrase is looked up by status, not taken from the framework: Python renamed some of them
    # (413 is "Content Too Large" from 3.13), and the service's code must not change with them.
    phrase = REFUSAL_PHRASES.get(exception.status, exception.reason)
    code: Any = exception.status if service == "partner_center" else phrase.replace(" ", "")
    if service == "login":
        code = "invalid_request"
    return ServiceError(exception.status, code, f"{phrase}.", aadsts=90033)


# The framework's refusals, in the names that the services' error codes use.
REFUSAL_PHRASES = {
    400: "Bad Request",
    411: "Length Required",
    413: "Request Entity Too Large",
    414: "Request URI Too Long",
    415: "Unsupported Media Type",
    431: "Request Header Fields Too Large",
}


def unknown_segment(parts: list[str], templates: list[list[str]]) -> str:
    """The first segment of the path that no route has at that place (Graph names it)."""
    known = 0
    for template in templates:
        depth = 0
        for fixed, part in zip(template, parts):
            if not (fixed.startswith("{") or fixed.lower() == part.lower()):
                break
            depth += 1
        known = max(known, depth)
    return parts[min(known, len(parts) - 1)]


# faults and accounting --------------------------------------------------------------------------
async def crafted_response(rule: dict[str, Any], request: web.Request) -> web.StreamResponse | None:
    """The fault kinds that answer in a service's place, as a hostile or broken server would:
    echo_form (an OAuth error whose error_description quotes the posted form, as a proxy or a
    misconfigured endpoint does), body (a canned JSON body: a next-page link that points at
    itself), redirect (a redirect to another origin)."""
    if rule.get("echo_form"):
        posted = await request.text()
        return _json({"error": "invalid_request", "error_codes": [9002313],
                      "error_description": f"AADSTS9002313: Invalid request. Request body: {posted}"},
                     int(rule.get("status") or 400))
    if "body" in rule:
        return _json(rule["body"], int(rule.get("status") or 200))
    if rule.get("redirect"):
        return web.Response(status=int(rule.get("status") or 302), headers={"Location": rule["redirect"]})
    return None


async def injected_fault(service: str, request: web.Request) -> web.StreamResponse | None:
    """Apply the test API's latency and the first fault rule this request meets: raise the
    service's error, drop the connection, or return the hostile answer the rule names."""
    sandbox = request.app["sandbox"]
    if service == "test":
        return None
    if sandbox.latency_ms:
        await asyncio.sleep(sandbox.latency_ms / 1000)
    for rule in sandbox.faults:
        if rule.get("service", "*") not in ("*", service):
            continue
        if rule.get("method") and rule["method"].upper() != request.method:
            continue
        if not re.search(rule.get("path", ""), request.path):
            continue
        if rule.get("count") is not None and rule["count"] <= 0:
            continue
        if rule.get("skip"):  # the first matching requests pass: a fault at a later step of a sequence
            rule["skip"] -= 1
            continue
        if random.random() >= float(rule.get("probability", 1.0)):
            continue
        rule["hits"] = rule.get("hits", 0) + 1
        if rule.get("count") is not None:
            rule["count"] -= 1
        if rule.get("latency_ms"):
            await asyncio.sleep(rule["latency_ms"] / 1000)
        if rule.get("crash"):  # a handler that fails: the service's own 500
            raise RuntimeError("injected crash")
        if rule.get("drop"):
            sandbox.count("faults_dropped")
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError()
        crafted = await crafted_response(rule, request)
        if crafted is not None:
            return crafted
        if rule.get("status"):
            sandbox.count(f"faults_{rule['status']}")
            error = fault_error(service, int(rule["status"]))
            if rule.get("retry_after") is not None:
                error.headers["Retry-After"] = str(rule["retry_after"])
            raise error
    return None


def count_request(service: str, request: web.Request) -> None:
    """What a benchmark or test counts: requests per service, discovery and token requests (per
    tenant in the state)."""
    request.app["sandbox"].count(f"requests_{service}")
    if service == "login":
        sandbox = request.app["sandbox"]
        if request.path.endswith("/openid-configuration"):
            sandbox.count("discovery_requests")
        elif request.path.endswith("/token"):
            sandbox.count("token_requests")


def record_write(service: str, request: web.Request, response: web.StreamResponse) -> None:
    if service in COUNTED_WRITES and request.method in WRITE_METHODS and response.status < 400:
        request.app["sandbox"].store.record_write(service, request.method, request.path, response.status)


# the middleware ----------------------------------------------------------------------------------
def service_boundary(service: str):
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        sandbox = request.app["sandbox"]
        ids = request_ids(service, request, sandbox.now(), sandbox.urls.get("login", ""))
        token = CURRENT_IDS.set(ids)
        response: web.StreamResponse | None = None
        try:
            if getattr(request.match_info, "http_exception", None) is not None:
                rerouted = await reroute(request, service)
                if rerouted is not None:
                    request, handler = rerouted, rerouted.match_info.handler
            count_request(service, request)
            response = await injected_fault(service, request)
            if response is None:
                response = await handler(request)
                record_write(service, request, response)
        except ServiceError as error:
            response = render(error, service)
        except web.HTTPException as exception:
            if exception.status < 400:
                raise
            if exception.status in (404, 405):
                response = render(unknown_route(service, request, exception), service)
            else:  # aiohttp's own refusals (a body over the size limit, ...) keep their status
                response = render(framework_refusal(service, exception), service)
        except Exception:  # a handler crash becomes the service's own 500
            log.exception("%s %s %s failed", service, request.method, request.path)
            response = render(fault_error(service, 500, injected=False), service)
        finally:
            if response is not None:
                response.headers.update(correlation_headers(service, request, ids))
                if response.content_type == "application/json":
                    response.headers["Content-Type"] = JSON_CONTENT_TYPES[service]
                    if service == "login" and request.method == "POST":  # tokens, and errors instead of them
                        response.headers["Cache-Control"] = "no-store, no-cache"
                        response.headers["Pragma"] = "no-cache"
            CURRENT_IDS.reset(token)
        return response
    return middleware


async def drop_framework_headers(request: web.Request, response: web.StreamResponse) -> None:
    """No Microsoft service names aiohttp and Python in a Server header."""
    response.headers.popall("Server", None)


def install(app: web.Application, service: str) -> None:
    """Put the boundary around every route of the app (call after the routes are added)."""
    app.middlewares.append(service_boundary(service))
    app.on_response_prepare.append(drop_framework_headers)
    app["route_templates"] = route_templates(app)
