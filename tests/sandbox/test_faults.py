"""The fault API: throttling with Retry-After, dropped connections, latency that blocks nobody."""
from __future__ import annotations

import concurrent.futures
import time

import pytest
import requests


@pytest.fixture()
def faults(api):
    yield api
    api.call("DELETE", "/faults")


def test_injected_429_carries_retry_after_then_clears(faults, ep, http):
    faults.call("POST", "/faults", {"service": "graph", "path": "^/v1.0/organization$", "status": 429,
                                    "retry_after": 2, "count": 1})
    first = http.get(ep["cloud"]["graph"] + "/v1.0/organization")
    assert first.status_code == 429 and first.headers["Retry-After"] == "2"
    assert first.json()["error"]["code"] == "TooManyRequests"
    assert http.get(ep["cloud"]["graph"] + "/v1.0/organization").status_code == 401  # fault used up
    assert faults.get("/faults")["faults"][0]["hits"] == 1


def test_injected_503_on_the_token_endpoint_in_entra_shape(faults, ep, http):
    faults.call("POST", "/faults", {"service": "login", "path": "/token$", "status": 503, "count": 1})
    response = http.post(f"{ep['cloud']['login']}/{ep['partner_tenant_id']}/oauth2/v2.0/token", data={})
    assert response.status_code == 503 and response.json()["error"] == "temporarily_unavailable"


def test_skip_lets_the_first_matching_requests_through(faults, ep, http):
    faults.call("POST", "/faults", {"service": "graph", "path": "^/v1.0/organization$", "status": 403, "skip": 2,
                                    "count": 1})
    url = ep["cloud"]["graph"] + "/v1.0/organization"
    assert [http.get(each).status_code for each in [url] * 4] == [401, 401, 403, 401]
    assert faults.get("/faults")["faults"][0]["hits"] == 1


def test_dropped_connection(faults, ep, http):
    faults.call("POST", "/faults", {"service": "vault", "drop": True, "count": 1})
    with pytest.raises(requests.ConnectionError):
        http.get(ep["vault_url"] + "/secrets?api-version=7.5")
    assert http.get(ep["vault_url"] + "/secrets?api-version=7.5").status_code == 401


def test_latency_does_not_block_other_requests(faults, ep):
    faults.call("POST", "/faults", {"service": "graph", "path": "slow", "latency_ms": 1500})

    def call(path):
        session = requests.Session()
        session.verify = ep["ca_bundle"]
        started = time.monotonic()
        session.get(ep["cloud"]["graph"] + path)
        return time.monotonic() - started

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        slow = pool.submit(call, "/v1.0/slow")
        time.sleep(0.2)
        fast = pool.submit(call, "/v1.0/organization")
        assert fast.result() < slow.result()
        assert slow.result() >= 1.5


def test_clock_advance_expires_access_tokens(api, ep, http, consented):
    client = consented["client"]
    token = client.acquire_token_by_refresh_token(consented["result"]["refresh_token"],
                                                  [ep["cloud"]["resource_manager"] + "/user_impersonation"])
    headers = {"Authorization": "Bearer " + token["access_token"]}
    url = ep["cloud"]["resource_manager"] + "/tenants?api-version=2022-12-01"
    assert http.get(url, headers=headers).status_code == 200
    api.call("POST", "/clock", {"advance_seconds": 7200})
    try:
        expired = http.get(url, headers=headers)
        assert expired.status_code == 401 and "expired" in expired.json()["error"]["message"]
    finally:
        api.call("POST", "/clock", {"advance_seconds": -7200})


def test_hostile_answers(faults, ep, http):
    """The fault kinds that stand in for a hostile server: what they answer, on the paths named only."""
    token_url = f"{ep['cloud']['login']}/{ep['partner_tenant_id']}/oauth2/v2.0/token"
    faults.call("POST", "/faults", {"service": "login", "path": "/token$", "echo_form": True, "count": 1})
    echoed = http.post(token_url, data={"refresh_token": "rt-value", "client_secret": "s3cret"})
    assert echoed.status_code == 400
    assert "refresh_token=rt-value&client_secret=s3cret" in echoed.json()["error_description"]
    groups = ep["cloud"]["graph"] + "/v1.0/groups"
    faults.call("POST", "/faults", {"service": "graph", "path": "^/v1.0/groups$", "count": 1,
                                    "body": {"value": [], "@odata.nextLink": groups}})
    assert http.get(groups).json()["@odata.nextLink"] == groups
    faults.call("POST", "/faults", {"service": "graph", "path": "^/v1.0/organization$", "count": 1,
                                    "redirect": "https://127.0.0.2:1/v1.0/organization"})
    moved = http.get(ep["cloud"]["graph"] + "/v1.0/organization", allow_redirects=False)
    assert moved.status_code == 302 and moved.headers["Location"] == "https://127.0.0.2:1/v1.0/organization"
    assert http.get(groups).status_code == 401  # every fault used up: the real service answers again
