"""A sandbox for the shared layer's unit tests: a local server that speaks the identity platform,
Graph, Partner Center and Key Vault, with a SAM app consented by the service account. It lives in
the source repository only: from the built collection these tests are skipped."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

REPOSITORY = Path(__file__).resolve().parents[4]


def start(tmp_path_factory) -> dict[str, Any]:
    if not (REPOSITORY / "sandbox" / "__init__.py").exists():
        pytest.skip("the sandbox is in the source repository only")
    sys.path.insert(0, str(REPOSITORY))
    sys.path.insert(0, str(REPOSITORY / "tests" / "sandbox"))
    from sandbox.testing import SandboxProcess, TestApi  # pylint: disable=import-outside-toplevel
    from conformance_helpers import consent, create_app, device_code_token, graph_session  # noqa: E402

    process = SandboxProcess(tmp_path_factory.mktemp("unit-sandbox"), "--customers", "3")
    process.start()
    ep = process.endpoints
    sys.path.insert(0, str(REPOSITORY / "tests"))
    from ca_bundles import add_to_environment  # pylint: disable=import-outside-toplevel
    previous = add_to_environment(ep["ca_bundle"])  # for the helpers' own requests, beside other sandboxes
    api = TestApi(ep)
    authority = f"{ep['cloud']['login']}/{ep['partner_tenant_id']}"
    admin = device_code_token(api, authority, "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
                              [ep["cloud"]["graph"] + "/.default"], ep["accounts"]["admin"]["upn"])
    graph = graph_session(ep, admin["access_token"])
    app = create_app(graph, "SAM unit tests")
    added = graph.post(f"/groups/{ep['admin_agents_group_id']}/members/$ref",
                       json={"@odata.id": f"{ep['cloud']['graph']}/v1.0/directoryObjects/{app['sp_id']}"})
    assert added.status_code == 204, added.text
    result, _client = consent(ep, authority, app)
    assert "refresh_token" in result, result
    return {"process": process, "ep": ep, "api": api, "app": app, "refresh_token": result["refresh_token"],
            "previous_bundle": previous}


def stop(world: dict[str, Any]) -> None:
    world["process"].stop()
    if world["previous_bundle"] is None:
        os.environ.pop("REQUESTS_CA_BUNDLE", None)
    else:
        os.environ["REQUESTS_CA_BUNDLE"] = world["previous_bundle"]
