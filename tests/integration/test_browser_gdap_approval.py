"""The customer's approval of a GDAP relationship in a real Chromium: gdap_relationship requests
the relationship (real ansible-playbook), the test opens the invitation link it returned, signs
in as the customer's Global Administrator, approves, and the relationship then becomes active in
Graph, where an access assignment can be made. Someone else (the partner's admin, another
customer's administrator) cannot approve, and a relationship that no longer awaits approval
cannot be approved again. Screenshots are kept in tests/output/browser-gdap/."""
from __future__ import annotations

import os
import shutil

import pytest

from conftest import ROOT
from integration_helpers import CHROMIUM, launch_chromium
# world is the fixture the tests take by name
from test_gdap_relationship import RELATIONSHIPS, ROLES, active, gdap, relationships, world  # noqa: F401  # pylint: disable=unused-import

SCREENSHOTS = ROOT / "tests" / "output" / "browser-gdap"

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason="Debian's chromium is not installed (apt-get install chromium chromium-driver)")


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)  # screenshots of an earlier run prove nothing
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


def open_invitation(browser, link):
    # A fresh profile does not trust the sandbox's CA, made at its first start.
    page = browser.new_context(ignore_https_errors=True).new_page()
    page.goto(link)
    # The link's relationship is after '#': the admin center's page opens the relationship's own page.
    page.wait_for_selector("#signin")
    return page


def sign_in(page, account):
    page.fill("#username", account["upn"])
    page.fill("#password", account["password"])
    page.click("#next")
    page.wait_for_load_state()


def request_relationship(world, customer, name):
    made = gdap(world, customer_tenants=[customer], display_name=name, roles=ROLES)
    assert not made.get("failed") and made["changed"], made
    [waiting] = made["awaiting_approval"]
    assert waiting["tenant_id"] == customer
    return waiting["invitation_link"]


def test_the_customers_global_administrator_approves_in_chromium(world, browser):
    customer = world["customers"][0]
    admin = next(c["admin"] for c in world["ep"]["customers"] if c["tenant_id"] == customer)
    link = request_relationship(world, customer, "<b>&\"x\" {tenant_id}")
    page = open_invitation(browser, link)
    # The roles by name, and a hostile display name shown as text, nothing else.
    assert page.inner_text("#roles").split("\n") == ["Cloud Application Administrator", "Directory Readers"]
    assert page.inner_text("#relationship") == f"<b>&\"x\" {customer}"
    assert page.locator("#relationship b").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "1-invitation.png"))

    sign_in(page, admin)
    page.wait_for_selector("#approve_all")
    page.screenshot(path=str(SCREENSHOTS / "2-review.png"))
    [pending] = relationships(world, "<b>&")
    assert pending["status"] == "approvalPending"  # signing in alone approves nothing
    page.click("#approve_all")
    page.wait_for_selector("#approved")
    page.screenshot(path=str(SCREENSHOTS / "3-approved.png"))

    relationship = active(world, "<b>&")
    url = world["ep"]["cloud"]["graph"] + RELATIONSHIPS + f"/{relationship['id']}/accessAssignments"
    made = world["graph"].post(url, json={
        "accessContainer": {"accessContainerId": world["group"], "accessContainerType": "securityGroup"},
        "accessDetails": {"unifiedRoles": [{"roleDefinitionId": "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"}]}})
    assert made.status_code == 201, made.text

    # Approved once: the link now says so and offers nothing to approve.
    again = open_invitation(browser, link)
    sign_in(again, admin)
    assert again.inner_text("#status") == "This relationship is active."
    assert again.locator("#approve_all").count() == 0
    assert sorted(p.name for p in SCREENSHOTS.iterdir()) == ["1-invitation.png", "2-review.png", "3-approved.png"]


@pytest.mark.parametrize("who", ["partner admin", "another customer's admin", "wrong password"])
def test_no_one_else_can_approve(world, browser, who):
    customer = world["customers"][1]
    other = next(c for c in world["ep"]["customers"] if c["tenant_id"] != customer)
    account = {"partner admin": world["ep"]["accounts"]["admin"], "another customer's admin": other["admin"],
               "wrong password": dict(next(c["admin"] for c in world["ep"]["customers"] if c["tenant_id"] == customer),
                                      password="not-the-password")}[who]
    name = f"SAM no {who[:5]} {{tenant_id}}"
    link = request_relationship(world, customer, name)
    page = open_invitation(browser, link)
    sign_in(page, account)
    expected = ("Your account or password is incorrect." if who == "wrong password"
                else "Only a Global Administrator of this customer's organization can approve.")
    assert page.inner_text("#error") == expected
    assert page.locator("#approve_all").count() == 0
    [relationship] = relationships(world, name.split(" {", maxsplit=1)[0])
    assert relationship["status"] == "approvalPending"
