"""The customer_access role's fix path (customer_access_fix: true) through playbooks/customers.yml
against a sandbox of its own, one customer of each seeded kind: check mode first (nothing written),
then the fix run (relationships requested, renewed, the group assigned, consents), the sandbox's
approval, a second run (reachable), a run that changes nothing, a fault in each write, and 300
customers. Every test names the product change that would make it fail."""
from __future__ import annotations

import json
import time

import pytest

from conftest import playbook_runner, role_variables
from integration_helpers import failure, no_traceback
from sandbox import catalog
from sandbox.testing import SandboxProcess
from sandbox.testing import TestApi as SandboxApi

KINDS = ("dap", "gdap_ready", "none", "gdap_consented", "gdap_no_consent_role", "gdap_no_group", "gdap_expired",
         "gdap_expiring")
GROUP = "GDAP Application Consent Agents"  # the seeded group the service account is a member of
CHANGES = ("relationship_requested", "relationship_renewed", "group_assigned", "consent_granted")


# Graph applies an access assignment over a while: long enough here that a role consenting before
# the assignment is active (without waiting for it) is refused by Partner Center.
TIMING = {"activation": 0.2, "assignment": 6, "termination": 0.2}


def fix_world(tmp_path_factory, collections_path, customers: int, name: str) -> dict:
    """A sandbox with `customers` customers cycling through KINDS, onboarded with the GDAP write
    permission, GDAP's intermediate statuses short (an assignment's a few seconds)."""
    process = SandboxProcess(tmp_path_factory.mktemp(f"sandbox-{name}"), "--customers", str(customers))
    process.start()
    ep = process.endpoints
    api = SandboxApi(ep)
    api.call("PUT", "/gdap-timing", TIMING)
    api.call("PUT", "/auto-approve", [
        {"upn": ep["accounts"]["admin"]["upn"], "client_id": catalog.AZURE_CLI_APP_ID},
        {"upn": ep["accounts"]["service"]["upn"]},
    ])
    run = playbook_runner(ep, collections_path, tmp_path_factory.mktemp(f"runs-{name}"))
    variables = role_variables(ep, name)
    variables.pop("partner_token_customer_tenants")
    onboarded = run("playbooks/onboard.yml", dict(variables, onboard_gdap_write=True))
    assert onboarded.ok, onboarded
    by_kind: dict[str, list[dict]] = {}
    for customer in ep["customers"]:
        by_kind.setdefault(customer["kind"], []).append(customer)
    reports = tmp_path_factory.mktemp(f"reports-{name}")
    counter = iter(range(1000))

    def customers_run(check=False, **extra):
        report_dir = reports / str(next(counter))
        variables_now = dict(variables, customer_access_fix=True, customer_access_group=GROUP,
                             customer_access_report_dir=str(report_dir))
        variables_now.update(extra)
        done = run("playbooks/customers.yml", variables_now, check=check, timeout=600)
        data = json.loads((report_dir / "customer-access.json").read_text()) if (
            report_dir / "customer-access.json").exists() else None
        return {"run": done, "data": data, "dir": report_dir,
                "rows": {row["tenant_id"]: row for row in (data or {}).get("customers", [])}}

    return {"process": process, "ep": ep, "api": api, "run": run, "variables": variables, "by_kind": by_kind,
            "customers": customers_run}


@pytest.fixture(scope="module")
def world(tmp_path_factory, collections_path):
    made = fix_world(tmp_path_factory, collections_path, len(KINDS), "fix")
    yield made
    made["process"].stop()


def tenant(world, kind):
    return world["by_kind"][kind][0]["tenant_id"]


def writes(world):
    return world["api"].get("/writes")["writes"]


def gdap_writes(entries):
    return [w for w in entries if "delegatedAdminRelationships" in w["path"] or "applicationconsents" in w["path"]]


@pytest.fixture(scope="module")
def planned(world):
    """The fix path in check mode, before anything else: what it would do, and the writes it sent."""
    before = len(writes(world))
    made = world["customers"](check=True)
    assert made["run"].ok, made["run"]
    no_traceback(made["run"])
    return dict(made, writes=gdap_writes(writes(world)[before:]))


def test_check_mode_writes_nothing_and_says_what_it_would_do(world, planned):
    """Fails if check mode posts a relationship, an assignment or a consent, or if its report does
    not say, per customer, what the run would change."""
    assert planned["writes"] == []
    data, rows = planned["data"], planned["rows"]
    assert data["check_mode"] is True
    # No relationship, and one whose roles cannot consent (Helpdesk): each gets one with customer_access_roles.
    for kind in ("none", "gdap_no_consent_role"):
        assert rows[tenant(world, kind)]["changes"] == ["relationship_requested"], kind
    assert data["changes"]["relationship_requested"] == 2
    for kind in ("gdap_expired", "gdap_expiring"):
        assert rows[tenant(world, kind)]["changes"] == ["relationship_renewed"], kind
    assert data["changes"]["relationship_renewed"] == 2
    summary = planned["run"].task("Summary")["msg"]
    assert summary[1].startswith("This run would change (check mode): 2 relationships requested")


@pytest.fixture(scope="module")
def fixed(world, planned):
    """The fix path for real, once, after check mode."""
    before = len(writes(world))
    made = world["customers"]()
    assert made["run"].ok, made["run"]
    no_traceback(made["run"])
    return dict(made, writes=gdap_writes(writes(world)[before:]))


def test_a_customer_without_a_relationship_gets_one_and_awaits_approval_with_its_link(world, fixed):
    """Fails if the role requests no relationship where there is none, with other roles or name,
    does not lock it for approval, or the report does not give the invitation link."""
    row = fixed["rows"][tenant(world, "none")]
    assert (row["status"], row["relationship"], row["changes"]) == (
        "awaiting_approval", "GDAP approvalPending", ["relationship_requested"]), row
    assert row["relationship_name"] == f"SAM access {tenant(world, 'none')}"
    assert row["invitation_link"].startswith(world["ep"]["cloud"]["login"] + "/AdminPortal/Home#/partners/invitation/"
                                             "granularAdminRelationships/")
    assert row["invitation_link"].endswith(row["relationship_id"])
    assert row["sentence"] == (f"GDAP relationship '{row['relationship_name']}' awaits the customer's approval: its "
                               f"Global Administrator opens the invitation link {row['invitation_link']}; once it is "
                               "active, run again with customer_access_fix=true to assign the group and consent.")
    created = [w for w in fixed["writes"] if w["method"] == "POST" and w["path"].endswith("delegatedAdminRelationships")]
    assert len(created) == 4 and {c["status"] for c in created} == {201}  # 2 requested, 2 renewed
    html = (fixed["dir"] / "customer-access.html").read_text()
    assert f'<a class="invitation" href="{row["invitation_link"]}">' in html


def test_ended_and_ending_relationships_get_a_successor_awaiting_approval(world, fixed):
    """Fails if the role renews nothing, renews under a name Graph already holds, or the report
    does not link the successor: the expired customer awaits its approval, the expiring one is
    still reached and says its successor awaits."""
    expired, expiring = (fixed["rows"][tenant(world, kind)] for kind in ("gdap_expired", "gdap_expiring"))
    today = time.strftime("%Y%m%d", time.gmtime())
    assert (expired["status"], expired["changes"]) == ("awaiting_approval", ["relationship_renewed"]), expired
    assert expired["relationship_name"] == f"SAM {today} {tenant(world, 'gdap_expired')}"
    assert expired["invitation_link"].endswith(expired["relationship_id"])
    assert (expiring["status"], expiring["changes"]) == ("expiring", ["relationship_renewed"]), expiring
    assert expiring["invitation_link"] and "; its successor 'SAM " in expiring["sentence"]
    assert expiring["fix"] == [] and expired["fix"] == []  # the successor is there: nothing more to renew


def test_reachable_customers_are_not_touched(world, fixed):
    """Fails if the fix path writes for a customer the report says is reachable."""
    for kind in ("dap", "gdap_consented"):
        assert fixed["rows"][tenant(world, kind)]["changes"] == []
        assert not any(tenant(world, kind) in json.dumps(w) for w in fixed["writes"]), kind


def test_awaiting_approval_does_not_fail_the_play(world, fixed):
    """customer_access_fail_on_unreachable counts unreachable and needs_consent only: a customer
    that awaits its approval has nothing left for the partner to do."""
    made = world["customers"](customer_access_fail_on_unreachable=True)
    assert made["run"].ok, made["run"]
    assert made["data"]["counts"]["unreachable"] + made["data"]["counts"]["needs_consent"] == 0
    assert made["data"]["counts"]["awaiting_approval"] >= 1


def test_an_active_relationship_not_covering_the_account_gets_its_group(world, fixed):
    """Fails if the fix path assigns no group where an active relationship covers nobody the
    service account is in, assigns another group or roles outside customer_access_roles, or does
    not wait for the assignment to be active before consenting (the customer would stay unreachable)."""
    row = fixed["rows"][tenant(world, "gdap_no_group")]
    assert (row["status"], row["changes"]) == ("reachable", ["group_assigned", "consent_granted"]), row
    posted = [w for w in fixed["writes"] if w["method"] == "POST" and w["path"].endswith("/accessAssignments")]
    assert [w["status"] for w in posted] == [201] and row["relationship_id"] in posted[0]["path"], posted
    assert fixed["data"]["changes"]["group_assigned"] == 1


def test_a_second_run_writes_nothing(world, fixed):
    """Idempotence by stable identity: fails if a relationship awaiting approval is requested
    again, an assignment made again, or a consent posted again."""
    before = len(writes(world))
    again = world["customers"]()
    assert again["run"].ok, again["run"]
    assert gdap_writes(writes(world)[before:]) == []
    assert again["data"]["changes"] == dict.fromkeys(CHANGES, 0)
    assert again["data"]["counts"] == fixed["data"]["counts"] | {"reachable": fixed["data"]["counts"]["reachable"]}
    assert all(row["changes"] == [] for row in again["data"]["customers"])


# A fault in each write the role makes: the customer's sentence is the failure's, the others go on --
def reset(world, kind, to):
    assert world["api"].call("POST", "/relationships", {"tenant_id": tenant(world, kind), "relationship": to}) == {
        "affected": 1}


def with_fault(world, rule, **extra):
    world["api"].call("PUT", "/faults", [rule])
    try:
        return world["customers"](**extra)
    finally:
        world["api"].call("DELETE", "/faults")


@pytest.mark.parametrize("write, rule, words", [
    ("create", {"service": "graph", "method": "POST", "path": "delegatedAdminRelationships$", "status": 403},
     "create GDAP relationship"),
    ("lock", {"service": "graph", "method": "POST", "path": "/requests$", "status": 400}, "lockForApproval"),
])
def test_a_failed_request_is_the_customers_sentence_and_the_next_run_finishes_it(world, fixed, write, rule, words):
    """Graph refuses the relationship's create, or its lock for approval after the create: fails if
    the role stops, hides Graph's sentence behind the general advice, claims the relationship was
    requested, or the next run does not finish the request (a relationship created but not locked is
    locked, not requested twice)."""
    reset(world, "none", "none")
    customer = tenant(world, "none")
    failed = with_fault(world, dict(rule, count=1), customer_access_customers=[customer])
    assert failed["run"].ok, failed["run"]
    no_traceback(failed["run"])
    row = failed["rows"][customer]
    assert (row["status"], row["changes"], row["invitation_link"]) == ("unreachable", [], None), row
    assert words in row["sentence"] and row["sentence"].endswith("."), row
    assert "No GDAP relationship with this customer" not in row["sentence"]
    summary = failed["run"].task("Summary")["msg"]
    assert f"{row['name']}: {row['sentence']}" in summary
    assert summary[1].startswith("This run changed: 0 relationships requested")

    before = len(writes(world))
    finished = world["customers"](customer_access_customers=[customer])
    row = finished["rows"][customer]
    assert (row["status"], row["changes"]) == ("awaiting_approval", ["relationship_requested"]), row
    assert row["invitation_link"]
    done = gdap_writes(writes(world)[before:])
    creates = [w for w in done if w["method"] == "POST" and w["path"].endswith("delegatedAdminRelationships")]
    locks = [w for w in done if w["method"] == "POST" and w["path"].endswith("/requests")]
    assert (len(creates), len(locks)) == ((0, 1) if write == "lock" else (1, 1)), done


@pytest.mark.parametrize("group", ["", "GDAP Tier 2 Admins"])
def test_the_fix_path_needs_a_group_the_service_account_is_in(world, group):
    """Fails if the fix path runs without a group, or with one the service account is not a direct
    member of (an assignment to it would cover nobody), or says so in more than one sentence."""
    before = len(writes(world))
    refused = world["customers"](customer_access_group=group)
    message = failure(refused["run"])
    start = ("customer_access_fix needs customer_access_group" if not group else
             'customer_access_group "GDAP Tier 2 Admins" is not a group the service account is a direct member of')
    assert message.startswith(start + ": give the object id or name of the partner's security group"), message
    assert "GDAP Application Consent Agents" in message and "GDAP Tier 2 Admins, " not in message
    assert gdap_writes(writes(world)[before:]) == []


def test_after_the_customers_approve_the_next_run_makes_them_reachable(world, fixed):
    """The path ./scripts/demo shows: every relationship the fix run requested or renewed approved
    (the sandbox's test API, as each customer's Global Administrator at the link), then one more fix
    run assigns the group and consents. Fails if any seeded customer is then not reachable."""
    world["api"].call("PUT", "/gdap-timing", TIMING)
    assert world["api"].call("POST", "/gdap-approve", {})["approved"]
    time.sleep(0.5)
    done = world["customers"]()
    assert done["run"].ok, done["run"]
    left = {t: r["sentence"] for t, r in done["rows"].items() if r["status"] != "reachable"}
    assert done["data"]["counts"]["reachable"] == len(KINDS), left


def test_an_assignment_graph_refuses_is_that_customers_sentence(world, fixed):
    """Graph refuses the access assignment: fails if the role stops, the customer's sentence does
    not carry Graph's refusal, the run claims the group was assigned, or the next run does not
    assign it."""
    reset(world, "gdap_no_group", "gdap_no_group")
    customer = tenant(world, "gdap_no_group")
    rule = {"service": "graph", "method": "POST", "path": "/accessAssignments$", "status": 403, "count": 1}
    failed = with_fault(world, rule, customer_access_customers=[customer])
    assert failed["run"].ok, failed["run"]
    no_traceback(failed["run"])
    row = failed["rows"][customer]
    assert row["status"] != "reachable" and "group_assigned" not in row["changes"], row
    assert "assign group" in row["sentence"] and "DelegatedAdminRelationship.ReadWrite.All" in row["sentence"], row
    finished = world["customers"](customer_access_customers=[customer])
    row = finished["rows"][customer]
    assert row["status"] == "reachable" and row["changes"][0] == "group_assigned", row  # its consent may be there


def test_three_hundred_customers_fixed_then_approved_are_all_reachable(tmp_path_factory, collections_path):
    """The fix path at scale, within the test command: 300 customers of every kind, one fix run
    (relationships requested and renewed, groups assigned, consents), every customer's approval, one
    more run. Fails if any customer is then unreachable, or if a task of the fix path runs once per
    customer (a loop) instead of once over all of them."""
    made = fix_world(tmp_path_factory, collections_path, 300, "fix-300")
    try:
        first = made["customers"]()
        assert first["run"].ok, first["run"]
        assert first["data"]["total"] == 300
        changes = first["data"]["changes"]
        assert changes["relationship_requested"] > 0 and changes["relationship_renewed"] > 0, changes
        assert changes["group_assigned"] > 0 and changes["consent_granted"] > 0, changes
        assert made["api"].call("POST", "/gdap-approve", {})["approved"]
        time.sleep(0.5)
        second = made["customers"]()
        assert second["run"].ok, second["run"]
        left = {t: r["sentence"] for t, r in second["rows"].items() if r["status"] != "reachable"}
        assert second["data"]["counts"]["reachable"] == 300, left
        for done in (first, second):
            looped = [r["task"] for r in done["run"].records if len(r["result"].get("results") or []) > 10]
            assert looped == [], looped
    finally:
        made["process"].stop()
