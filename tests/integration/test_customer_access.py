"""Customers under GDAP: application_consent, gdap_relationship_info and the customer_access role
(playbooks/customers.yml) against a sandbox seeded with one customer of each kind, plus a run over
hundreds of customers. Every test here names the product change that would make it fail."""
from __future__ import annotations

import json
import os

import msal
import pytest
import requests

from conftest import ROOT, playbook_runner, role_variables
from integration_helpers import CHROMIUM, failure, launch_chromium, no_traceback
from sandbox import catalog
from sandbox.testing import SandboxProcess
from sandbox.testing import TestApi as SandboxApi

KINDS = ("dap", "gdap_ready", "none", "gdap_consented", "gdap_no_consent_role", "gdap_no_group", "gdap_expired",
         "gdap_expiring")
SCREENSHOT = ROOT / "tests" / "output" / "customer-access.png"


def world(tmp_path_factory, collections_path, customers: int, name: str) -> dict:
    """A sandbox of its own with `customers` customers cycling through KINDS, onboarded."""
    process = SandboxProcess(tmp_path_factory.mktemp(f"sandbox-{name}"), "--customers", str(customers))
    process.start()
    ep = process.endpoints
    api = SandboxApi(ep)
    api.call("PUT", "/auto-approve", [
        {"upn": ep["accounts"]["admin"]["upn"], "client_id": catalog.AZURE_CLI_APP_ID},
        {"upn": ep["accounts"]["service"]["upn"]},
    ])
    run = playbook_runner(ep, collections_path, tmp_path_factory.mktemp(f"runs-{name}"))
    variables = role_variables(ep, name)
    variables.pop("partner_token_customer_tenants")
    onboarded = run("playbooks/onboard.yml", variables)
    assert onboarded.ok, onboarded
    by_kind = {}
    for customer in ep["customers"]:
        by_kind.setdefault(customer["kind"], []).append(customer)
    return {"process": process, "ep": ep, "api": api, "run": run, "variables": variables, "by_kind": by_kind,
            "report_dir": tmp_path_factory.mktemp(f"report-{name}")}


@pytest.fixture(scope="module")
def gdap(tmp_path_factory, collections_path):
    made = world(tmp_path_factory, collections_path, len(KINDS), "gdap")
    yield made
    made["process"].stop()


def tenant(gdap, kind):
    return gdap["by_kind"][kind][0]["tenant_id"]


def consents(gdap, kind):
    return [c for c in gdap["api"].state()["app_consents"] if c["customer_tenant_id"] == tenant(gdap, kind)]


def admin_graph_token(ep):
    """The partner admin's Graph token from Azure CLI's client (device code, approved unattended)."""
    http = requests.Session()
    http.trust_env = False
    http.verify = ep["ca_bundle"]
    client = msal.PublicClientApplication(catalog.AZURE_CLI_APP_ID, authority=f"{ep['cloud']['login']}/"
                                          f"{ep['partner_tenant_id']}", instance_discovery=False, http_client=http)
    flow = client.initiate_device_flow(scopes=[ep["cloud"]["graph"] + "/.default"])
    approval = {"user_code": flow["user_code"], "upn": ep["accounts"]["admin"]["upn"]}
    SandboxApi(ep).call("POST", "/device-codes/approve", approval)
    return client.acquire_token_by_device_flow(flow)["access_token"]


def writes(gdap):
    return gdap["api"].get("/writes")["writes"]


def run_module(gdap, module, args, **kwargs):
    return gdap["run"]("gdap_modules.yml", dict(gdap["variables"], module=module, module_args=args), **kwargs)


def result(run):
    assert run.ok, run
    return run.task("Result")["msg"]


# gdap_relationship_info ----------------------------------------------------------------------------
def test_relationships_with_assignments_and_coverage(gdap):
    """Fails if the module drops access assignments, names no roles, or says an assignment covers
    the service account when it is not in the group (gdap_no_group)."""
    found = result(run_module(gdap, "gdap_relationship_info", {}))
    by_customer = {r["customer_tenant_id"]: r for r in found["relationships"]}
    gdap_kinds = [k for k in KINDS if k.startswith("gdap")]
    assert sorted(by_customer) == sorted(tenant(gdap, k) for k in gdap_kinds)
    ready = by_customer[tenant(gdap, "gdap_ready")]
    assert ready["status"] == "active" and ready["duration"] == "P730D"
    assert {r["name"] for r in ready["roles"]} == {"Cloud Application Administrator", "Directory Readers"}
    [assignment] = ready["access_assignments"]
    assert assignment["includes_me"] is True and assignment["status"] == "active"
    assert by_customer[tenant(gdap, "gdap_no_group")]["access_assignments"][0]["includes_me"] is False
    assert by_customer[tenant(gdap, "gdap_expired")]["status"] == "expired"
    groups = {g["display_name"] for g in found["my_groups"]}
    assert "GDAP Application Consent Agents" in groups and "GDAP Tier 2 Admins" not in groups


def test_relationships_of_one_customer(gdap):
    """Fails if customer_tenant_id is not sent as Graph's $filter on customer/tenantId."""
    args = {"customer_tenant_id": tenant(gdap, "gdap_expiring"), "include_access_assignments": False}
    found = result(run_module(gdap, "gdap_relationship_info", args))
    [only] = found["relationships"]
    assert only["customer_tenant_id"] == tenant(gdap, "gdap_expiring") and only["access_assignments"] == []


def test_relationships_refused_without_permission_say_which(gdap):
    """A Graph token without DelegatedAdminRelationship.Read.All (the admin's Azure CLI token):
    fails if the 403 is not turned into the sentence naming the permission and the fix."""
    token = admin_graph_token(gdap["ep"])
    message = failure(run_module(gdap, "gdap_relationship_info", {"access_token": token}))
    assert "DelegatedAdminRelationship.Read.All" in message and "onboard_renew_consent=true" in message


# application_consent -------------------------------------------------------------------------------
def test_consent_check_mode_then_create_then_idempotent(gdap):
    """Check mode must write nothing (fails if the module posts in check mode); the real run must
    create the consent (fails if it reports changed without writing); the next run is ok."""
    customer = tenant(gdap, "gdap_ready")
    writes_before = len(writes(gdap))
    checked = result(run_module(gdap, "application_consent", {"customer_tenants": [customer]}, check=True))
    assert checked["changed"] is True and checked["customers"][0]["before"] is None
    assert consents(gdap, "gdap_ready") == []
    assert [w for w in writes(gdap)[writes_before:] if "applicationconsents" in w["path"]] == []

    created = result(run_module(gdap, "application_consent", {"customer_tenants": [customer]}))
    assert created["changed"] is True and created["failed_customers"] == 0
    [stored] = consents(gdap, "gdap_ready")
    assert {g["enterpriseApplicationId"] for g in stored["grants"]} == {
        catalog.GRAPH_APP_ID, catalog.PARTNER_CENTER_APP_ID, catalog.AZURE_SERVICE_MANAGEMENT_APP_ID}

    again = result(run_module(gdap, "application_consent", {"customer_tenants": [customer]}))
    assert again["changed"] is False and again["customers"][0]["before"] == again["customers"][0]["after"]


def test_consent_other_grants_are_replaced_then_removed(gdap):
    """Fails if different grants are left in place (the module must delete and post again), or if
    state=absent leaves the consent."""
    customer = tenant(gdap, "gdap_consented")
    grants = [{"enterprise_application_id": catalog.GRAPH_APP_ID, "scopes": ["Directory.Read.All"]}]
    replaced = result(run_module(gdap, "application_consent", {"customer_tenants": [customer], "grants": grants}))
    entry = replaced["customers"][0]
    assert replaced["changed"] is True and entry["before"] != entry["after"]
    assert replaced["diff"]["after"][customer] == [{"enterprise_application_id": catalog.GRAPH_APP_ID,
                                                    "scopes": ["Directory.Read.All"]}]
    [stored] = consents(gdap, "gdap_consented")
    assert stored["grants"] == [{"enterpriseApplicationId": catalog.GRAPH_APP_ID, "scope": "Directory.Read.All"}]
    removed = result(run_module(gdap, "application_consent", {"customer_tenants": [customer], "state": "absent"}))
    assert removed["changed"] is True and consents(gdap, "gdap_consented") == []
    # Back as the seed had it, for the role's test.
    assert result(run_module(gdap, "application_consent", {"customer_tenants": [customer]}))["changed"] is True


def test_consent_errors_are_per_customer(gdap):
    """A role that cannot consent (Helpdesk) fails for that customer only, with Partner Center's
    refusal as one sentence; fails if one customer's error stops the others or is swallowed."""
    ready, forbidden = tenant(gdap, "gdap_no_consent_role"), tenant(gdap, "dap")
    args = {"customer_tenants": [ready, forbidden], "fail_on_customer_error": False}
    mixed = result(run_module(gdap, "application_consent", args))
    by_tenant = {c["tenant_id"]: c for c in mixed["customers"]}
    assert mixed["failed_customers"] == 1
    assert by_tenant[ready]["error_code"] == "consent_forbidden"
    assert "Cloud Application Administrator" in by_tenant[ready]["error"]
    assert by_tenant[forbidden]["error"] is None and by_tenant[forbidden]["changed"] is True
    strict = failure(run_module(gdap, "application_consent", {"customer_tenants": [ready]}))
    assert strict.startswith("1 of 1 customers gave an error") and "GDAP roles" in strict


def test_consent_refuses_a_customer_that_is_not_a_guid(gdap):
    """Fails if a domain or path reaches the Partner Center URL."""
    message = failure(run_module(gdap, "application_consent", {"customer_tenants": ["../customers"]}))
    assert message == "customer_tenants entry '../customers' is not a GUID: give the customer's tenant id."


# application_consent: a replace that fails half-way, scopes as Entra compares them ------------------
def consent_post_fails(gdap, times):
    """Partner Center refuses the next `times` consent posts (403), as it does for a role that
    cannot consent; the delete before them goes through."""
    gdap["api"].call("PUT", "/faults", [{"service": "partner_center", "method": "POST",
                                         "path": "/applicationconsents$", "status": 403, "count": times}])


def stored_grants(gdap, kind):
    """Each consent's grants as (application, scopes) pairs, the scopes in a fixed order (Partner
    Center keeps them in the order they were posted, which means nothing)."""
    return [sorted((g["enterpriseApplicationId"], ",".join(sorted(g["scope"].split(",")))) for g in c["grants"])
            for c in consents(gdap, kind)]


def test_consent_replace_failing_after_the_delete_restores_or_says_it_removed(gdap):
    """Fails if a replace whose post fails leaves the customer without a consent while saying
    changed: false (the previous grants must be posted again), or if, when that fails too, the
    result hides that the consent is gone."""
    customer = tenant(gdap, "gdap_consented")
    seeded = stored_grants(gdap, "gdap_consented")
    args = {"customer_tenants": [customer], "fail_on_customer_error": False,
            "grants": [{"enterprise_application_id": catalog.GRAPH_APP_ID, "scopes": ["Directory.Read.All"]}]}
    try:
        consent_post_fails(gdap, 1)
        restored = result(run_module(gdap, "application_consent", args))
        [entry] = restored["customers"]
        assert (restored["changed"], entry["changed"], restored["failed_customers"]) == (False, False, 1)
        assert entry["after"] == entry["before"] and entry["error_code"] == "consent_forbidden"
        assert entry["error"].endswith("; the previous consent was restored, unchanged.")
        assert stored_grants(gdap, "gdap_consented") == seeded

        consent_post_fails(gdap, 2)
        lost = run_module(gdap, "application_consent", dict(args, fail_on_customer_error=True))
        message = failure(lost)
        assert message.startswith(f"1 of 1 customers gave an error; first, {customer}: Failed to consent the SAM app")
        assert f"could not be restored, so the SAM app has no consent in customer {customer} now" in message
        failed = lost.failed_task()
        assert failed["changed"] is True and failed["diff"]["after"] == {customer: None}
        assert failed["customers"][0]["error_code"] == "consent_removed" and consents(gdap, "gdap_consented") == []
    finally:
        gdap["api"].call("DELETE", "/faults")
        # Back as the seed had it, for the role's test.
        result(run_module(gdap, "application_consent", {"customer_tenants": [customer]}))
    assert stored_grants(gdap, "gdap_consented") == seeded


def test_consent_in_another_case_and_order_is_no_change(gdap):
    """Entra compares scopes without regard to case: fails if the same grants in another case and
    order make a delete and a create."""
    customer = tenant(gdap, "gdap_consented")
    # What the customer's consent holds, every grant and scope in another order and case.
    grants = [{"enterprise_application_id": app.upper() if index % 2 else app,
               "scopes": [scope.swapcase() for scope in reversed(scopes.split(","))]}
              for index, (app, scopes) in enumerate(reversed(stored_grants(gdap, "gdap_consented")[0]))]
    writes_before = len(writes(gdap))
    again = result(run_module(gdap, "application_consent", {"customer_tenants": [customer], "grants": grants}))
    assert again["changed"] is False and again["customers"][0]["before"] == again["customers"][0]["after"]
    assert [w for w in writes(gdap)[writes_before:] if "applicationconsents" in w["path"]] == []


def test_the_default_grants_leave_a_wider_consent_as_it_is(gdap):
    """Without grants, the SAM app's own permissions are the least a consent must hold: fails if
    the default replaces a consent that holds them and more."""
    customer = tenant(gdap, "gdap_consented")
    seeded = stored_grants(gdap, "gdap_consented")
    wider = [{"enterprise_application_id": catalog.GRAPH_APP_ID, "scopes": ["Directory.AccessAsUser.All", "User.Read.All"]},
             {"enterprise_application_id": catalog.PARTNER_CENTER_APP_ID, "scopes": ["user_impersonation"]},
             {"enterprise_application_id": catalog.AZURE_SERVICE_MANAGEMENT_APP_ID, "scopes": ["user_impersonation"]}]
    try:
        assert result(run_module(gdap, "application_consent", {"customer_tenants": [customer], "grants": wider}))[
            "changed"] is True
        kept = result(run_module(gdap, "application_consent", {"customer_tenants": [customer]}))
        assert kept["changed"] is False
        assert ("00000003-0000-0000-c000-000000000000", "Directory.AccessAsUser.All,User.Read.All") in \
            stored_grants(gdap, "gdap_consented")[0]
    finally:  # exact grants put the seed back
        exact = [{"enterprise_application_id": app, "scopes": [scope]} for app, scope in seeded[0]]
        result(run_module(gdap, "application_consent", {"customer_tenants": [customer], "grants": exact}))
    assert stored_grants(gdap, "gdap_consented") == seeded


# customer_access role ---------------------------------------------------------------------------------
EXPECTED = {  # kind -> (status, relationship, words the sentence must hold)
    "dap": ("reachable", "DAP", "DAP, which Microsoft has retired"),
    "gdap_ready": ("reachable", "GDAP active", "granted in this run"),
    "none": ("unreachable", "none", "No GDAP relationship"),
    "gdap_consented": ("reachable", "GDAP active", ""),
    "gdap_no_consent_role": ("unreachable", "GDAP active", "cannot grant it: add Cloud Application Administrator"),
    "gdap_no_group": ("unreachable", "GDAP active", "in no group that an active access assignment"),
    "gdap_expired": ("unreachable", "GDAP expired", "ended"),
    "gdap_expiring": ("expiring", "GDAP expiring", "(in 10 days): extend it"),
}


@pytest.fixture(scope="module")
def report(gdap):
    """customers.yml with consent, once; the report files it wrote."""
    # The module tests above may have consented gdap_ready: take it back so the role grants it.
    gdap["run"]("gdap_modules.yml", dict(gdap["variables"], module="application_consent", module_args={
        "customer_tenants": [tenant(gdap, "gdap_ready")], "state": "absent"}))
    run = gdap["run"]("playbooks/customers.yml", dict(
        gdap["variables"], customer_access_consent=True, customer_access_report_dir=str(gdap["report_dir"])))
    assert run.ok, run
    no_traceback(run)
    data = json.loads((gdap["report_dir"] / "customer-access.json").read_text())
    return {"run": run, "data": data, "rows": {row["tenant_id"]: row for row in data["customers"]}}


@pytest.mark.parametrize("kind", KINDS)
def test_report_status_and_sentence_per_kind(report, gdap, kind):
    """Fails if the role misjudges any seeded kind: its status, relationship and the sentence that
    names the cause and the fix."""
    row = report["rows"][tenant(gdap, kind)]
    status, relationship, words = EXPECTED[kind]
    assert (row["status"], row["relationship"]) == (status, relationship), row
    assert words in row["sentence"], row
    if status != "reachable" or kind == "dap":
        assert row["sentence"].endswith("."), row


def test_report_consents_only_where_the_roles_allow(report, gdap):
    """Fails if the role posts consents where Partner Center would refuse them (no consent role, no
    covering group, expired) or does not grant the one that can be granted."""
    consent_posts = [w for w in writes(gdap) if w["method"] == "POST" and "applicationconsents" in w["path"]]
    assert [w["status"] for w in consent_posts][-1] == 201
    assert not any(tenant(gdap, k) in w["path"] for w in consent_posts
                   for k in ("gdap_no_consent_role", "gdap_no_group", "gdap_expired", "none"))
    assert report["rows"][tenant(gdap, "gdap_ready")]["consent_granted"] is True
    summary = report["run"].task("Summary")["msg"]
    assert summary[0].startswith(f"{len(KINDS)} customers: 3 reachable, 1 expiring, 0 awaiting approval, 0 need consent, 4 unreachable; "
                                 "1 consents granted now")


def test_report_without_consent_says_needs_consent(gdap, report):
    """Without customer_access_consent, a customer whose roles can consent is needs_consent (fails
    if the role grants anyway or calls it unreachable)."""
    gdap["run"]("gdap_modules.yml", dict(gdap["variables"], module="application_consent", module_args={
        "customer_tenants": [tenant(gdap, "gdap_ready")], "state": "absent"}))
    report_dir = gdap["report_dir"] / "no-consent"
    # "false" as -e customer_access_consent=false gives it: a string that must not grant.
    run = gdap["run"]("playbooks/customers.yml", dict(gdap["variables"], customer_access_consent="false",
                                                      customer_access_report_dir=str(report_dir)))
    assert run.ok, run
    rows = {r["tenant_id"]: r for r in json.loads((report_dir / "customer-access.json").read_text())["customers"]}
    row = rows[tenant(gdap, "gdap_ready")]
    assert row["status"] == "needs_consent" and "customer_access_consent=true" in row["sentence"]
    assert row["tokens"]["graph"] == "error" and consents(gdap, "gdap_ready") == []


def test_report_shows_partner_centers_refusal_when_the_grant_fails(gdap, report):
    """The consent post of the role's grant step fails (403) where the roles allow it: fails if the
    report hides Partner Center's sentence behind the token's, or calls the customer consented.
    The switches come as -e gives them, strings: "true" must grant and fail on the unreachable."""
    ready = tenant(gdap, "gdap_ready")
    gdap["run"]("gdap_modules.yml", dict(gdap["variables"], module="application_consent", module_args={
        "customer_tenants": [ready], "state": "absent"}))
    report_dir = gdap["report_dir"] / "refused"
    consent_post_fails(gdap, 1)
    try:
        run = gdap["run"]("playbooks/customers.yml", dict(
            gdap["variables"], customer_access_consent="true", customer_access_fail_on_unreachable="true",
            customer_access_report_dir=str(report_dir)))
    finally:
        gdap["api"].call("DELETE", "/faults")
    message = failure(run)
    assert message == (f"5 customers are not reachable; see {report_dir}/customer-access.html.")
    rows = {r["tenant_id"]: r for r in json.loads((report_dir / "customer-access.json").read_text())["customers"]}
    row = rows[ready]
    assert (row["status"], row["consented"], row["consent_granted"]) == ("unreachable", False, False), row
    assert row["sentence"].startswith(
        f"Failed to consent the SAM app in customer {ready}: Partner Center refused it: the service account's GDAP "
        "roles in this customer cannot grant consents; add Cloud Application Administrator"), row
    assert "AADSTS" not in row["sentence"] and "token" not in row["sentence"], row
    assert consents(gdap, "gdap_ready") == []


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")
def test_report_html_renders_offline_and_sorts(report, gdap):
    """The HTML report opened in Chromium with the network cut: fails if it needs anything from the
    network, if the counts or rows are missing, or if clicking a heading does not sort."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    page_file = gdap["report_dir"] / "customer-access.html"
    SCREENSHOT.unlink(missing_ok=True)
    with playwright_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            context = browser.new_context(offline=True)
            page = context.new_page()
            requested = []
            page.on("request", lambda request: requested.append(request.url))
            page.goto(page_file.as_uri())
            assert page.locator("#customers tbody tr").count() == len(KINDS)
            assert "unreachable: 4" in page.locator("#counts").inner_text()
            page.click("th[data-key=name]")
            names = page.locator("#customers tbody tr td:nth-child(2)").all_inner_texts()
            assert names == sorted(names, key=str.lower)
            page.click("th[data-key=status]")
            first = page.locator("#customers tbody tr td.status").first.inner_text()
            assert first == "unreachable"
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()
    assert requested == [page_file.as_uri()]
    assert SCREENSHOT.stat().st_size > 10_000


def test_relationship_expiry_follows_the_clock(gdap, report):
    """Moving the sandbox clock 11 days on: the expiring relationship has ended, and the report
    says so. Fails if expiry is computed once at seeding or the role trusts a stale status."""
    gdap["api"].call("POST", "/clock", {"advance_seconds": 11 * 86400})
    try:
        report_dir = gdap["report_dir"] / "later"
        run = gdap["run"]("playbooks/customers.yml", dict(gdap["variables"], customer_access_report_dir=str(report_dir)))
        assert run.ok, run
        rows = {r["tenant_id"]: r for r in json.loads((report_dir / "customer-access.json").read_text())["customers"]}
        row = rows[tenant(gdap, "gdap_expiring")]
        assert (row["status"], row["relationship"]) == ("unreachable", "GDAP expired"), row
        assert "renew it in Partner Center" in row["sentence"]
    finally:
        gdap["api"].call("POST", "/clock", {"advance_seconds": -11 * 86400})


def test_a_report_run_exchanges_once_and_reads_only_the_customers_asked(gdap, tmp_path):
    """customers.yml without consents: one exchange (one rotated refresh token written, not two),
    and the GDAP read scoped to the customers asked (broken by: a second partner_token, or access
    assignments read for every relationship, which makes one more customer cost no Graph request)."""
    def counted(kinds):
        before_counters, before_writes = gdap["api"].get("/counters")["counters"], writes(gdap)
        run = gdap["run"]("playbooks/customers.yml", dict(
            gdap["variables"], customer_access_customers=[tenant(gdap, kind) for kind in kinds],
            customer_access_report_dir=str(tmp_path / "-".join(kinds))))
        assert run.ok, run
        after = gdap["api"].get("/counters")["counters"]
        vault_writes = [w for w in writes(gdap)[len(before_writes):] if w["service"] == "vault"]
        return {key: after.get(key, 0) - before_counters.get(key, 0) for key in after
                if key.startswith("requests_")}, vault_writes

    one, one_writes = counted(["gdap_consented"])
    two, two_writes = counted(["gdap_consented", "gdap_expiring"])
    assert len(one_writes) == len(two_writes) == 1, one_writes  # the rotated refresh token, once
    assert two["requests_graph"] - one["requests_graph"] == 1  # that customer's access assignments
    resources = 2  # customer_access_resources: graph, azure
    assert sum(two.values()) - sum(one.values()) <= resources + 1, (one, two)


# hundreds of customers --------------------------------------------------------------------------------
def test_hundreds_of_customers(tmp_path_factory, collections_path):
    """410 customers (307 GDAP relationships: two pages of Graph's 300) through customers.yml with
    consent, concurrently. Fails if paging stops at the first page, or the verdicts are not those
    of each customer's kind."""
    many = world(tmp_path_factory, collections_path, 410, "many")
    try:
        run = many["run"]("playbooks/customers.yml", dict(
            many["variables"], customer_access_consent=True, customer_access_concurrency=32,
            customer_access_report_dir=str(many["report_dir"])), timeout=600)
        assert run.ok, run
        data = json.loads((many["report_dir"] / "customer-access.json").read_text())
        assert data["total"] == 410
        rows = {row["tenant_id"]: row for row in data["customers"]}
        for kind, customers in many["by_kind"].items():
            statuses = {rows[c["tenant_id"]]["status"] for c in customers}
            assert statuses == {EXPECTED[kind][0]}, (kind, statuses)
        gdap_customers = sum(len(c) for kind, c in many["by_kind"].items() if kind.startswith("gdap"))
        assert gdap_customers > 300  # more than one page of relationships
        assert sum(1 for row in data["customers"] if row["relationship"].startswith("GDAP")) == gdap_customers
    finally:
        many["process"].stop()
