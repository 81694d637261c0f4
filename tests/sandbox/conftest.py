"""A sandbox for the whole conformance session, and the objects most tests need: an admin's
Graph token (Azure CLI's public client, device code), a SAM app registration, and the service
account's consent to it (authorization code with PKCE, sign-in pages filled over HTTP)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sandbox import catalog  # noqa: E402
from sandbox.testing import SandboxProcess, TestApi  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.append(str(ROOT / "tests"))  # ca_bundles, for every conformance module's own sandbox
from conformance_helpers import consent, create_app, device_code_token, graph_session  # noqa: E402


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    process = SandboxProcess(tmp_path_factory.mktemp("sandbox"), "--customers", "8")
    process.start()
    # requests lets REQUESTS_CA_BUNDLE override verify=, so the bundle that holds the system CAs
    # plus the sandbox CA (and any other sandbox's of this process) is what every library must see.
    from ca_bundles import add_to_environment  # pylint: disable=import-outside-toplevel
    previous = add_to_environment(process.endpoints["ca_bundle"])
    yield process
    if previous is None:
        os.environ.pop("REQUESTS_CA_BUNDLE", None)
    else:
        os.environ["REQUESTS_CA_BUNDLE"] = previous
    process.stop()


@pytest.fixture(scope="session")
def ep(sandbox):
    return sandbox.endpoints


@pytest.fixture(scope="session")
def api(ep):
    return TestApi(ep)


@pytest.fixture()
def http(ep):
    session = requests.Session()
    session.verify = ep["ca_bundle"]
    return session


@pytest.fixture(scope="session")
def cloud(ep):
    return ep["cloud"]


@pytest.fixture(scope="session")
def authority(ep):
    return f"{ep['cloud']['login']}/{ep['partner_tenant_id']}"


@pytest.fixture(scope="session")
def admin_graph(ep, api, authority):
    result = device_code_token(api, authority, catalog.AZURE_CLI_APP_ID, [ep["cloud"]["graph"] + "/.default"],
                               ep["accounts"]["admin"]["upn"])
    assert "access_token" in result, result
    return result


@pytest.fixture(scope="session")
def graph(ep, admin_graph):
    return graph_session(ep, admin_graph["access_token"])


@pytest.fixture(scope="session")
def sam_app(graph, ep):
    app = create_app(graph, "SAM conformance app")
    added = graph.post(f"/groups/{ep['admin_agents_group_id']}/members/$ref",
                       json={"@odata.id": f"{ep['cloud']['graph']}/v1.0/directoryObjects/{app['sp_id']}"})
    assert added.status_code == 204, added.text
    return app


@pytest.fixture(scope="session")
def consented(ep, authority, sam_app):
    result, client = consent(ep, authority, sam_app)
    assert "refresh_token" in result, result
    return {"result": result, "client": client}
