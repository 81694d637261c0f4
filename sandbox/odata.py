"""OData as Microsoft Graph serves it: one page of a collection with `@odata.nextLink`, and the
`$filter` forms the sandbox supports. Shared by every Graph collection (applications, groups,
GDAP relationships...), so that no service module imports another for them."""
from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from .context import json_response
from .errors import ServiceError

PAGE_SIZE = 100
# The $filter forms these collections support: "field eq 'v'" and "startswith(field,'v')", joined
# with "and" (case-insensitive on values, as Graph compares these string properties).
CLAUSE = re.compile(r"\s*(?:(?P<field>[\w/]+)\s+eq\s+'(?P<value>(?:[^']|'')*)'"
                    r"|startswith\(\s*(?P<sfield>\w+)\s*,\s*'(?P<svalue>(?:[^']|'')*)'\s*\))\s*", re.IGNORECASE)
AND = re.compile(r"and\b", re.IGNORECASE)


def page(request: web.Request, items: list[dict[str, Any]], context: str, max_top: int | None = None) -> web.Response:
    """One page of a collection, with @odata.nextLink; max_top is the collection's documented bound of
    $top (a larger one is refused)."""
    graph_url = request.app["sandbox"].urls["graph"]
    try:
        top = int(request.query.get("$top", PAGE_SIZE))
        skip = int(request.query.get("$skiptoken", "0") or 0)
    except ValueError:
        raise ServiceError(400, "BadRequest", "Invalid value for $top or $skiptoken.", service="graph") from None
    if max_top is not None and not 1 <= top <= max_top:
        raise ServiceError(400, "BadRequest", f"The limit of '{max_top}' for Top query has been exceeded.",
                           service="graph")
    body: dict[str, Any] = {"@odata.context": f"{graph_url}/v1.0/$metadata#{context}",
                            "value": items[skip:skip + top]}
    if skip + top < len(items):
        query = dict(request.query)
        query["$skiptoken"] = str(skip + top)
        body["@odata.nextLink"] = str(request.url.with_query(query))
    return json_response(body)


def apply_filter(request: web.Request, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items that match the request's $filter; an expression of another form is a 400."""
    expression = request.query.get("$filter")
    if not expression:
        return items
    clauses = parse_filter(expression)
    if clauses is None:
        raise ServiceError(400, "Request_BadRequest", f"Invalid filter clause: {expression}", service="graph")

    def value_of(item: dict[str, Any], path: str) -> str:
        for part in path.split("/"):  # customer/tenantId: a property of a complex property
            item = item.get(part) if isinstance(item, dict) else None
        return str(item or "").lower()

    def matches(item: dict[str, Any]) -> bool:
        for kind, field, value in clauses:
            actual = value_of(item, field)
            if (kind == "eq" and actual != value.lower()) or (kind == "startswith" and not actual.startswith(value.lower())):
                return False
        return True
    return [item for item in items if matches(item)]


def parse_filter(expression: str) -> list[tuple[str, str, str]] | None:
    """[(eq|startswith, field, value)], or None when the expression is not of the supported forms."""
    clauses, position = [], 0
    while True:
        match = CLAUSE.match(expression, position)
        if not match:
            return None
        if match.group("field"):
            clauses.append(("eq", match.group("field"), match.group("value").replace("''", "'")))
        else:
            clauses.append(("startswith", match.group("sfield"), match.group("svalue").replace("''", "'")))
        position = match.end()
        if position == len(expression):
            return clauses
        joined = AND.match(expression, position)
        if not joined:
            return None
        position = joined.end()
