"""What a hostile or broken server may answer instead of the service, for every API the
collection reads (Graph, Partner Center, Resource Manager, Key Vault): a next-page link that
points at itself, a redirect to another origin. Each answer is injected through the sandbox's
fault API; the real service is never reached, so a token of no value is enough."""
from __future__ import annotations

import pytest

from integration_helpers import failure

TOKEN = "not-a-real-token-the-fault-answers-first"


@pytest.fixture()
def faults(api):
    yield api
    api.call("DELETE", "/faults")


def _readers(ep):
    """(playbook, variables, service, path pattern, the service's base URL) for each API."""
    return {
        "graph": ("api_info.yml", {"api": "graph", "path": "/v1.0/groups"}, "graph", "^/v1.0/groups$",
                  ep["cloud"]["graph"] + "/v1.0/groups"),
        "resource_manager": ("api_info.yml", {"api": "resource_manager", "path": "/subscriptions"}, "management",
                             "^/subscriptions$", ep["cloud"]["resource_manager"] + "/subscriptions"),
        "partner_center": ("partner_center_info.yml", {}, "partner_center", "^/v1/customers$",
                           ep["cloud"]["partner_center"] + "/v1/customers"),
    }


def _self_pointing_page(api_name, url):
    if api_name == "partner_center":
        return {"totalCount": 1, "items": [{"id": "c"}], "links": {"next": {
            "uri": "/customers?size=500&seekOperation=Next", "method": "GET",
            "headers": [{"key": "MS-ContinuationToken", "value": "the-same-every-time"}]}}}
    key = "@odata.nextLink" if api_name == "graph" else "nextLink"
    return {"value": [{"id": "x"}], key: url}


@pytest.mark.parametrize("api_name", ["graph", "resource_manager", "partner_center"])
def test_a_next_link_pointing_at_itself_ends_the_listing(run_playbook, ep, faults, api_name):
    """Broken by: following next links without remembering them (2,608 requests in 20 s)."""
    playbook, variables, service, path, url = _readers(ep)[api_name]
    faults.call("POST", "/faults", {"service": service, "path": path, "body": _self_pointing_page(api_name, url)})
    faults.call("POST", "/faults", {"service": "partner_center", "path": "^/v1/profiles/organization$",
                                    "body": {"companyName": "Contoso"}})
    run = run_playbook(playbook, dict(variables, token=TOKEN), timeout=60)
    assert "sent the same next-page link again, which would repeat the listing without end" in failure(run)
    hits = next(rule["hits"] for rule in faults.get("/faults")["faults"] if rule["path"] == path)
    assert hits <= 3


@pytest.mark.parametrize("api_name", ["graph", "resource_manager", "partner_center", "vault"])
def test_a_redirect_to_another_origin_is_refused(run_playbook, ep, faults, api_name):
    """Broken by: following the redirect (requests drops the token, but the other server's answer
    is returned as if it were the service's)."""
    elsewhere = ep["cloud"]["login"]  # another origin that answers
    if api_name == "vault":
        playbook, service, path = "keyvault_info.yml", "vault", "^/secrets/"
        variables = {"names": ["anything"], "principal": ep["principals"]["automation"]}
    else:
        playbook, variables, service, path, _url = _readers(ep)[api_name]
    faults.call("POST", "/faults", {"service": service, "path": path,
                                    "redirect": f"{elsewhere}/{ep['partner_tenant_id']}/v2.0/.well-known/openid-configuration"})
    run = run_playbook(playbook, dict(variables, token=TOKEN), timeout=60)
    message = failure(run)
    assert f"redirected the request to {elsewhere}, another origin: refused" in message, message
