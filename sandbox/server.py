"""Start the sandbox: one HTTPS listener per emulated service on 127.0.0.1, one event loop."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import ssl
from pathlib import Path
from typing import Any

from aiohttp import web

from . import (arm, boundary, customer_tenant, discovery, gdap_approval, graph, graph_credentials, identity, keyvault,
               partnercenter, testapi)
from .context import SERVICES, Sandbox
from .pki import Pki
from .seed import apply_seed, load_seed
from .store import Store
from .tokens import TokenIssuer
from .variables import remove_variables, write_variables

ROUTES = {
    # the published metadata, the endpoints, and the admin center's invitation page
    "login": lambda: discovery.routes() + gdap_approval.routes() + identity.routes(),
    # each service's routes and those of the modules that build on it (they import it, never back)
    "graph": lambda: graph_credentials.routes() + graph.routes() + customer_tenant.graph_routes(),
    "management": lambda: arm.routes() + customer_tenant.arm_routes(),
    "partner_center": partnercenter.routes,
    "vault": keyvault.routes,
    "test": testapi.routes,
}
log = logging.getLogger("sandbox")


def bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        raise SystemExit(f"sandbox: cannot listen on 127.0.0.1:{port} ({exc.strerror}); choose another --port.")
    sock.listen(512)
    sock.setblocking(False)
    return sock


def write_private_json(path: Path, data: dict[str, Any]) -> None:
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2)
    os.replace(temporary, path)


async def serve(state_dir: Path, port: int, seed_file: str | None, customers: int | None, latency_ms: int,
                auto_approve: list[dict[str, Any]]) -> None:
    # The state holds vault values, refresh tokens and signing keys: only its owner may enter it.
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    info = state_dir.stat()
    if info.st_uid == os.getuid() and not info.st_mode & 0o1000:  # never a shared sticky folder like /tmp
        os.chmod(state_dir, 0o700)
    endpoints_file = state_dir / "endpoints.json"
    endpoints_file.unlink(missing_ok=True)
    pki = Pki(state_dir)
    pki.ensure()
    store = Store(state_dir / "sandbox.db")

    sockets = {name: bind(port + index if port else 0) for index, name in enumerate(SERVICES)}
    urls = {name: f"https://127.0.0.1:{sock.getsockname()[1]}" for name, sock in sockets.items()}
    # azure-keyvault-secrets requires the vault host to be a subdomain of the challenge resource:
    # "127.0.0.1:PORT" ends with ".0.0.1:PORT", so this resource passes without any DNS name.
    vault_resource = f"https://0.0.1:{sockets['vault'].getsockname()[1]}"

    if store.get_meta("seed_info") is None:
        seed_info = apply_seed(store, load_seed(seed_file, customers))
    else:
        seed_info = json.loads(store.get_meta("seed_info"))
    issuer = TokenIssuer(pki.signing_key(), pki.signing_key_id(), urls["login"], store.now,
                         certificate=pki.signing_certificate())
    sandbox = Sandbox(store=store, issuer=issuer, urls=urls, vault_resource=vault_resource, seed_info=seed_info,
                      latency_ms=latency_ms, auto_approve=auto_approve)

    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(pki.server_cert_file, pki.server_key_file)
    runners = []
    for name, sock in sockets.items():
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app["sandbox"] = sandbox
        app["service"] = name
        app.add_routes(ROUTES[name]())
        boundary.install(app, name)  # ids, URL variants, faults and errors in the service's own shape
        # Keep-alive clients must not hold a SIGTERM up: open connections get a second to finish.
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        await web.SockSite(runner, sock, ssl_context=tls).start()
        runners.append(runner)

    endpoints = {
        "cloud": {
            "login": urls["login"], "graph": urls["graph"], "resource_manager": urls["management"],
            "partner_center": urls["partner_center"], "keyvault_resource": vault_resource,
            "cloud_instance_name": "microsoftonline.com", "name": "sandbox", "admin_center": urls["login"],
        },
        "vault_url": urls["vault"],
        "test_api": urls["test"],
        "ca_file": str(pki.ca_file),
        "ca_bundle": str(pki.bundle_file),
        "pid": os.getpid(),
        **seed_info,
    }
    write_variables(state_dir, endpoints)  # before endpoints.json, which tells waiters it is ready
    write_private_json(endpoints_file, endpoints)
    log.info("sandbox ready: %s", json.dumps(urls))

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await asyncio.gather(*(runner.cleanup() for runner in runners))
    store.db.close()
    endpoints_file.unlink(missing_ok=True)
    remove_variables(state_dir)
    log.info("sandbox stopped")
