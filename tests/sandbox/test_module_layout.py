"""The sandbox's modules depend on a shared core and never on each other in a circle: a module
that builds on a service (its credentials, its customer-tenant routes) imports it, never back, and
server.ROUTES composes the routes. Every relative import counts, those inside functions too."""
from __future__ import annotations

import ast
from pathlib import Path

SANDBOX = Path(__file__).resolve().parents[2] / "sandbox"
# The emulated services: none imports another.
SERVICES = {"identity", "graph", "keyvault", "arm", "partnercenter"}
# The shared core every service may use: it imports no service.
CORE = {"errors", "ids", "odata", "context", "boundary", "store", "tokens", "catalog", "pki", "pages"}


def imports() -> dict[str, set[str]]:
    modules = {path.stem for path in SANDBOX.glob("*.py")}
    found: dict[str, set[str]] = {}
    for path in SANDBOX.glob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                names |= {node.module.split(".")[0]} if node.module else {alias.name for alias in node.names}
        found[path.stem] = names & modules
    return found


def reaches(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(graph[start])
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(graph[module])
    return seen


def test_no_module_imports_itself_back():
    graph = imports()
    circles = sorted(module for module in graph if module in reaches(graph, module))
    assert circles == [], f"import cycles through {circles}: {dict((m, sorted(graph[m])) for m in circles)}"


def test_services_never_import_each_other():
    graph = imports()
    for service in SERVICES:
        assert not graph[service] & (SERVICES - {service}), (service, sorted(graph[service] & SERVICES))


def test_the_core_imports_no_service():
    graph = imports()
    for module in CORE:
        assert not reaches(graph, module) & SERVICES, (module, sorted(reaches(graph, module) & SERVICES))


def test_leaf_modules_import_nothing_of_the_sandbox():
    graph = imports()
    assert graph["errors"] == set() and graph["ids"] == set()
