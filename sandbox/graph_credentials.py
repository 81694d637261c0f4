"""Microsoft Graph v1.0 for application credentials other than passwords: addKey and removeKey
(with a proof of possession) and the federatedIdentityCredentials collection of an application."""
from __future__ import annotations

from aiohttp import web

from . import credentials
from .context import Sandbox, graph_error, json_response
from .credentials import CredentialError
from .graph import (WRITE_APPLICATIONS, READ_DIRECTORY, Caller, authenticated, body_json, denied, not_found,
                    object_body, odata_context)


def refusal(sandbox: Sandbox, error: CredentialError) -> web.Response:
    return graph_error(sandbox, error.status, error.error, error.message)


def _application(request, sandbox: Sandbox, caller: Caller, *, write: bool):
    """The application the path names, or the answer refusing the request (403, then 404)."""
    if not (caller.may(WRITE_APPLICATIONS, admin=True) if write else caller.may(READ_DIRECTORY)):
        return denied(sandbox)
    app = sandbox.store.get_object(request.match_info["id"], "application", caller.tenant_id)
    return app if app is not None else not_found(sandbox, request.match_info["id"])


def _federated(request, sandbox: Sandbox, caller: Caller, *, write: bool):
    """(application, federated credential) the path names, or the answer refusing the request."""
    app = _application(request, sandbox, caller, write=write)
    if isinstance(app, web.Response):
        return app
    found = next((c for c in credentials.federated_credentials(sandbox.store, app)
                  if c["id"] == request.match_info["fic"]), None)
    return (app, found) if found is not None else not_found(sandbox, request.match_info["fic"])


def _collection_context(sandbox: Sandbox, app, entity: str = "") -> str:
    return odata_context(sandbox, f"applications('{app['id']}')/federatedIdentityCredentials{entity}")


@authenticated
async def add_key(request, sandbox: Sandbox, caller: Caller):
    app = _application(request, sandbox, caller, write=True)
    if isinstance(app, web.Response):
        return app
    body = await body_json(request) or {}
    try:
        credentials.check_proof(app, body.get("proof"), sandbox.now())
        added = credentials.new_key_credential(body.get("keyCredential"), app.get("keyCredentials") or [])
    except CredentialError as error:
        return refusal(sandbox, error)
    app["keyCredentials"] = list(app.get("keyCredentials") or []) + [added]
    sandbox.store.put_object("application", caller.tenant_id, app)
    return json_response(dict(added, key=None, **{
        "@odata.context": odata_context(sandbox, "microsoft.graph.keyCredential")}))


@authenticated
async def remove_key(request, sandbox: Sandbox, caller: Caller):
    app = _application(request, sandbox, caller, write=True)
    if isinstance(app, web.Response):
        return app
    body = await body_json(request) or {}
    try:
        credentials.check_proof(app, body.get("proof"), sandbox.now())
    except CredentialError as error:
        return refusal(sandbox, error)
    keys = app.get("keyCredentials") or []
    kept = [k for k in keys if k["keyId"] != body.get("keyId")]
    if len(kept) == len(keys):
        return graph_error(sandbox, 404, "Request_ResourceNotFound",
                           f"No key credential found with keyId '{body.get('keyId')}'.")
    app["keyCredentials"] = kept
    sandbox.store.put_object("application", caller.tenant_id, app)
    return web.Response(status=204)


@authenticated
async def list_federated(request, sandbox: Sandbox, caller: Caller):
    app = _application(request, sandbox, caller, write=False)
    if isinstance(app, web.Response):
        return app
    items = [credentials.federated_view(c) for c in credentials.federated_credentials(sandbox.store, app)]
    return json_response({"@odata.context": _collection_context(sandbox, app), "value": items})


@authenticated
async def create_federated(request, sandbox: Sandbox, caller: Caller):
    app = _application(request, sandbox, caller, write=True)
    if isinstance(app, web.Response):
        return app
    body = await object_body(request, sandbox)
    if isinstance(body, web.Response):
        return body
    try:
        created = credentials.new_federated_credential(app, body,
                                                       credentials.federated_credentials(sandbox.store, app))
    except CredentialError as error:
        return refusal(sandbox, error)
    sandbox.store.put_object(credentials.FEDERATED_KIND, caller.tenant_id, created)
    view = credentials.federated_view(created)
    view["@odata.context"] = _collection_context(sandbox, app, "/$entity")
    return json_response(view, 201)


@authenticated
async def get_federated(request, sandbox: Sandbox, caller: Caller):
    target = _federated(request, sandbox, caller, write=False)
    return target if isinstance(target, web.Response) else json_response(credentials.federated_view(target[1]))


@authenticated
async def update_federated(request, sandbox: Sandbox, caller: Caller):
    target = _federated(request, sandbox, caller, write=True)
    if isinstance(target, web.Response):
        return target
    found = target[1]
    body = await object_body(request, sandbox)
    if isinstance(body, web.Response):
        return body
    if "name" in body and body["name"] != found["name"]:
        return graph_error(sandbox, 400, "Request_BadRequest",
                           "Property 'name' of a federated identity credential cannot be changed.")
    try:
        found.update(credentials.validated_federated_fields(body, require=False))
    except CredentialError as error:
        return refusal(sandbox, error)
    if "description" in body:
        found["description"] = body["description"]
    sandbox.store.put_object(credentials.FEDERATED_KIND, caller.tenant_id, found)
    return web.Response(status=204)


@authenticated
async def delete_federated(request, sandbox: Sandbox, caller: Caller):
    target = _federated(request, sandbox, caller, write=True)
    if isinstance(target, web.Response):
        return target
    sandbox.store.delete_object(target[1]["id"])
    return web.Response(status=204)


def routes() -> list[web.RouteDef]:
    collection = "/v1.0/applications/{id}/federatedIdentityCredentials"
    return [
        web.post("/v1.0/applications/{id}/addKey", add_key),
        web.post("/v1.0/applications/{id}/removeKey", remove_key),
        web.get(collection, list_federated),
        web.post(collection, create_federated),
        web.get(collection + "/{fic}", get_federated),
        web.patch(collection + "/{fic}", update_federated),
        web.delete(collection + "/{fic}", delete_federated),
    ]
