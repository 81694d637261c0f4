"""The SAM exchange (what the access_token module, action and lookup run) against the sandbox:
partner tokens in order with the rotated refresh token, customers concurrently, their errors,
progress, and the failure that still hands back the newest refresh token."""
from __future__ import annotations

import threading

import pytest

from ansible_collections.partnercenter.secure_app.plugins.module_utils._context import Context
from ansible_collections.partnercenter.secure_app.plugins.module_utils._errors import SecureAppError
from ansible_collections.partnercenter.secure_app.plugins.module_utils._tokens import (
    check_issued_in, exchange, requested_scopes)


def customer(ep, kind):
    """The tenant id of the sandbox's first customer of a kind (dap, gdap_ready, none, ...)."""
    return next(c["tenant_id"] for c in ep["customers"] if c["kind"] == kind)


@pytest.fixture()
def context(world):
    options = {"cloud": "AzureCloud", "cloud_endpoints": world["ep"]["cloud"], "ca_bundle": world["ep"]["ca_file"],
               "timeout": 30, "retries": 2}
    made = Context(options.get)
    yield made
    made.close()


def run(context, world, **kwargs):
    app = world["app"]
    arguments = {"client_id": app["app_id"], "client_secret": app["secret"], "tenant": world["ep"]["partner_tenant_id"],
                 "refresh_token": world["refresh_token"], "resources": ["partner_center", "graph"]}
    arguments.update(kwargs)
    return exchange(context, **arguments)


def test_partner_tokens_per_resource_and_who(context, world):
    result = run(context, world)
    ep = world["ep"]
    assert list(result["tokens"]) == ["partner_center", "graph"]
    assert result["tokens"]["partner_center"]["scope"].endswith("/user_impersonation")
    assert result["tokens"]["graph"]["scope"].startswith(ep["cloud"]["graph"])
    assert set(result["tokens"]["graph"]) == {"access_token", "expires_on", "tenant_id", "scope"}
    assert result["identity"]["upn"] == ep["accounts"]["service"]["upn"] and result["identity"]["mfa"] is True
    assert result["refresh_token"] != world["refresh_token"]
    assert result["endpoints"] == {"name": "sandbox", "login": ep["cloud"]["login"], "graph": ep["cloud"]["graph"],
                                   "resource_manager": ep["cloud"]["resource_manager"],
                                   "partner_center": ep["cloud"]["partner_center"]}
    assert result["customers"] == [] and result["customer_tokens"] == {} and result["customer_errors"] == []
    assert result["retries"] == 0


def test_each_partner_exchange_uses_the_newest_refresh_token(context, world):
    """Two resources: the second exchange must use the token the first returned. Counted by the
    sandbox's refresh tokens that have been used: the given one (used already) and the first
    rotated one; reusing the given token twice would leave the rotated one unused."""
    api = world["api"]
    run(context, world, resources=["graph"])  # the given token is now a used one

    def used():
        return sum(1 for token in api.get("/state")["refresh_tokens"] if token["last_used"] > token["issued"])

    before = used()
    result = run(context, world, resources=["graph", "partner_center"])
    assert used() - before == 1
    assert result["refresh_token"] != world["refresh_token"]


def test_customers_concurrently_with_errors_and_progress(context, world):
    ep = world["ep"]
    dap, none, ready = customer(ep, "dap"), customer(ep, "none"), customer(ep, "gdap_ready")
    seen, lock = [], threading.Lock()

    def progress(done, failed, total):
        with lock:
            seen.append((done, failed, total))

    result = run(context, world, customer_tenants=[dap, none, ready], concurrency=3, progress=progress)
    by_tenant = {c["tenant_id"]: c for c in result["customers"]}
    assert [c["tenant_id"] for c in result["customers"]] == [dap, none, ready]
    assert list(by_tenant[dap]["tokens"]) == ["partner_center", "graph"] and by_tenant[dap]["error"] is None
    assert by_tenant[dap]["error_code"] is None and by_tenant[dap]["error_resource"] is None
    assert set(by_tenant[none]) == {"tenant_id", "tokens", "error", "error_code", "error_resource"}
    assert by_tenant[dap]["tokens"]["graph"]["tenant_id"] == dap
    assert by_tenant[none]["error_code"] == "AADSTS50020" and by_tenant[none]["tokens"] == {}
    assert by_tenant[none]["error_resource"] == "partner_center"
    assert by_tenant[ready]["error_code"] == "AADSTS65001"
    assert list(result["customer_tokens"]) == [dap]
    failed = [(e["tenant_id"], e["resource"]) for e in result["customer_errors"]]
    assert failed == [(none, "partner_center"), (ready, "partner_center")]
    assert result["customer_errors"][0] == {"tenant_id": none, "error": by_tenant[none]["error"],
                                            "error_code": "AADSTS50020", "resource": "partner_center"}
    assert sorted(seen)[-1] == (3, 2, 3) and len(seen) == 3
    assert context.http.session.adapters["https://"]._pool_maxsize >= 3


def test_failing_on_customers_still_hands_back_the_refresh_token(context, world):
    none = customer(world["ep"], "none")
    with pytest.raises(SecureAppError) as raised:
        run(context, world, customer_tenants=[none], fail_on_customer_error=True)
    error = raised.value
    assert error.message.startswith(f"1 of 1 customer tenants gave no token; first, {none}: The service account has "
                                    "no access to tenant")
    assert error.code == "AADSTS50020"
    assert error.secret_result["refresh_token"] and error.secret_result["refresh_token"] != world["refresh_token"]


def test_explicit_scopes_and_nothing_asked(context, world):
    scope = world["ep"]["cloud"]["partner_center"] + "/user_impersonation"
    result = run(context, world, resources=None, scopes=[scope])
    assert list(result["tokens"]) == [scope]
    assert requested_scopes(context, ["graph"], [scope]) == [
        ("graph", world["ep"]["cloud"]["graph"] + "/.default"), (scope, scope)]
    with pytest.raises(SecureAppError) as raised:
        requested_scopes(context, None, [])
    assert raised.value.message.startswith("Nothing to get a token for: give resources (any of partner_center, graph")


@pytest.mark.parametrize("missing", ["client_id", "refresh_token"])
def test_credentials_are_required(context, world, missing):
    with pytest.raises(SecureAppError) as raised:
        run(context, world, **{missing: None})
    assert raised.value.message == "client_id and refresh_token are required to get access tokens."


def test_customer_that_is_not_a_tenant_is_refused_before_any_request(context, world):
    before = world["api"].get("/counters")["counters"].get("token_requests", 0)
    with pytest.raises(SecureAppError) as raised:
        run(context, world, customer_tenants=["common"])
    assert raised.value.code == "invalid_tenant" and "customer_tenants entry 'common'" in raised.value.message
    assert world["api"].get("/counters")["counters"].get("token_requests", 0) == before


GUID_A = "aaaaaaaa-1111-1111-1111-111111111111"
GUID_B = "bbbbbbbb-2222-2222-2222-222222222222"


@pytest.mark.parametrize("issued, asked, partner, wrong", [
    (GUID_A.upper(), GUID_A, "p", False),   # the same GUID in another case
    (GUID_B, GUID_A, "p", True),            # another tenant's token
    ("p", "contoso.com", "p", True),        # a domain asked, the partner's own token came
    ("x", "contoso.com", "p", False),       # a domain asked, some other tenant: accepted
    ("p", "contoso.com", None, False),      # partner unknown: nothing to compare
    (None, GUID_A, "p", True),              # no tenant in the token
])
def test_check_issued_in(issued, asked, partner, wrong):
    if wrong:
        with pytest.raises(SecureAppError) as raised:
            check_issued_in(issued, asked, partner)
        assert raised.value.code == "wrong_tenant"
        assert raised.value.message == (f"The token asked for in customer tenant {asked} was issued in tenant {issued}: "
                                        "it is not that customer's, so it was dropped; check the customer's tenant id.")
    else:
        check_issued_in(issued, asked, partner)


def test_the_customers_use_the_rotated_refresh_token_and_the_given_one_only_the_partner(context, world):
    """The sandbox records which refresh token each grant presented: broken by a fan-out that sends
    the given refresh token (or another) to the customers instead of the one the partner exchange
    returned."""
    ep, api = world["ep"], world["api"]

    def used_in(token):
        [found] = api.call("POST", "/refresh-tokens/info", {"refresh_token": token})["tokens"]
        return found["used_in"]

    customers = [customer(ep, "dap"), customer(ep, "none"), customer(ep, "gdap_ready")]
    given_before = used_in(world["refresh_token"])
    result = run(context, world, resources=["graph", "partner_center"], customer_tenants=customers)
    rotated = result["refresh_token"]
    assert rotated != world["refresh_token"]
    # The given token: the first partner exchange only; the second used the token the first gave.
    assert used_in(world["refresh_token"])[len(given_before):] == [ep["partner_tenant_id"]]
    # The customers: the newest token; a customer stops at its first refused resource.
    dap, none, ready = customers
    assert sorted(used_in(rotated)) == sorted([dap, dap, none, ready])
