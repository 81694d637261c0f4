"""The OData query options Graph documents for the GDAP collections (relationships, access
assignments, requests, operations): $select, $filter, $orderby, $count and $top (at most 300),
each refusing a property the type does not have with a 400 in Graph's error shape."""
from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from .context import Sandbox, graph_error, json_response
from .odata import apply_filter, page, parse_filter

MAX_TOP = 300  # the documented upper bound of $top for these collections
# The properties of each type (Graph's reference lists them).
PROPERTIES = {
    "delegatedAdminRelationship": {"id", "displayName", "status", "duration", "autoExtendDuration", "customer",
                                   "accessDetails", "createdDateTime", "activatedDateTime", "lastModifiedDateTime",
                                   "endDateTime"},
    "delegatedAdminAccessAssignment": {"id", "status", "accessContainer", "accessDetails", "createdDateTime",
                                       "lastModifiedDateTime"},
    "delegatedAdminRelationshipRequest": {"id", "action", "status", "createdDateTime", "lastModifiedDateTime"},
    "delegatedAdminRelationshipOperation": {"id", "operationType", "data", "status", "createdDateTime",
                                            "lastModifiedDateTime"},
}
ORDER = re.compile(r"^\s*(?P<path>[\w/]+)(?:\s+(?P<direction>asc|desc))?\s*$", re.IGNORECASE)


def _unknown(sandbox: Sandbox, name: str, type_name: str) -> web.Response:
    return graph_error(sandbox, 400, "BadRequest",
                       f"Could not find a property named '{name}' on type 'microsoft.graph.{type_name}'.")


def _value(item: dict[str, Any], path: str) -> Any:
    for part in path.split("/"):
        item = item.get(part) if isinstance(item, dict) else None
    return item


def collection(request: web.Request, sandbox: Sandbox, items: list[dict[str, Any]], context: str,
               type_name: str) -> web.Response:
    """One page of items after the request's query options."""
    known = PROPERTIES[type_name]
    query = request.query
    if query.get("$filter"):
        clauses = parse_filter(query["$filter"])
        for _kind, field, _value_text in clauses or []:
            if field.split("/")[0] not in known:
                return _unknown(sandbox, field.split("/")[0], type_name)
        filtered = apply_filter(request, items)
        if isinstance(filtered, web.Response):
            return filtered
        items = filtered
    if query.get("$orderby"):
        for term in reversed(query["$orderby"].split(",")):  # the first term sorts last: it wins
            match = ORDER.match(term)
            if not match:
                return graph_error(sandbox, 400, "BadRequest", f"Invalid $orderby expression: {term.strip()}.")
            if match.group("path").split("/")[0] not in known:
                return _unknown(sandbox, match.group("path").split("/")[0], type_name)
            path, descending = match.group("path"), (match.group("direction") or "").lower() == "desc"
            present = [i for i in items if _value(i, path) is not None]
            absent = [i for i in items if _value(i, path) is None]
            items = sorted(present, key=lambda i: str(_value(i, path)).lower(), reverse=descending) + absent
    count = query.get("$count", "false").lower()
    if count not in ("true", "false"):
        return graph_error(sandbox, 400, "BadRequest", f"Invalid value '{query['$count']}' for $count: use true or "
                                                       "false.")
    if query.get("$select"):
        selected = [name.strip() for name in query["$select"].split(",") if name.strip()]
        for name in selected:
            if name not in known:
                return _unknown(sandbox, name, type_name)
        keep = set(selected) | {"id"}
        items = [{k: v for k, v in item.items() if k in keep or k.startswith("@odata.")} for item in items]
    response = page(request, items, context, max_top=MAX_TOP)
    if count == "true" and response.status == 200:
        body = json.loads(response.text)
        body = {"@odata.context": body.pop("@odata.context"), "@odata.count": len(items), **body}
        return json_response(body)
    return response
