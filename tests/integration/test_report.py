"""The customer_access report's HTML as the role's template renders it with real Ansible: every
count, every row in the order the filter gives, and names with markup, quotes and ampersands that
show as text and add nothing to the page. Broken by: a value rendered without `| e`, a count or
row dropped, the rows re-sorted by the template."""
from __future__ import annotations

from html.parser import HTMLParser

HOSTILE = [
    "<script>alert('x')</script> & Co",
    "\"><img src=x onerror=alert(1)>",
    "Tom & Jerry's <b>bold</b> \"quoted\"",
    "a < b > c && d;",
]
CAA = [{"id": "158c047a-c907-4556-b7ef-446551a6b5f7", "name": "Cloud Application Administrator"}]


class Page(HTMLParser):
    """The page's tags (with their attributes) and each table row's cell texts."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.rows, self.counts, self.links, self.changed = [], [], [], [], []
        self._in_changed, self.change_counts = False, []
        self._cell, self._in_counts = None, False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, tuple(sorted(name for name, _value in attrs))))
        if tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self._cell = []
        elif tag == "div" and ("id", "counts") in attrs:
            self._in_counts = True
        elif tag == "div" and ("id", "changes") in attrs:
            self._in_counts = "changes"
        elif tag == "a":
            self.links.append(dict(attrs))
        elif tag == "ul" and ("id", "changed") in attrs:
            self._in_changed = True
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "div":
            self._in_counts = False
        elif tag == "ul":
            self._in_changed = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._in_counts and data.strip():
            (self.change_counts if self._in_counts == "changes" else self.counts).append(data.strip())
        if self._in_changed and data.strip():
            self.changed.append(data.strip())


def test_the_report_page_shows_every_count_and_row_and_names_as_text(run_playbook, tmp_path):
    customers = [{"tenant_id": f"t-{n}", "company_name": name, "delegated_access": n == 0}
                 for n, name in enumerate(HOSTILE)]
    relationships = [{"id": "r-1", "display_name": "<i>SAM</i> & more", "status": "active",
                      "end_date": "2099-01-01T00:00:00Z", "customer_tenant_id": "t-1", "roles": CAA,
                      "access_assignments": [{"id": "a", "status": "active", "group_id": "g", "roles": CAA,
                                              "includes_me": True}]}]
    out = tmp_path / "report.html"
    run = run_playbook("report_template.yml", {
        "customers": customers, "relationships": relationships, "reached": ["t-0", "t-1"],
        "token_errors": [{"tenant_id": "t-2", "error": "<b>No</b> access & \"denied\".", "resource": "graph"}],
        "partner_token": {"tenant_id": "<p>tenant</p>", "upn": "a&b@<x>.com"}, "out": str(out)})
    assert run.ok, run
    page = Page()
    page.feed(out.read_text())
    # Only the template's own markup: no tag or attribute came from a value.
    template_tags = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "div", "span", "ul", "li", "table",
                     "thead", "tr", "th", "tbody", "td", "br", "code", "script"}
    assert {tag for tag, _attrs in page.tags} == template_tags
    assert sum(1 for tag, _attrs in page.tags if tag == "script") == 1
    assert not any(name.startswith("on") or name == "src" for _tag, attrs in page.tags for name in attrs)
    assert page.counts == ["4 customers", "reachable: 2", "expiring: 0", "awaiting approval: 0", "needs consent: 0",
                           "unreachable: 2"]
    assert page.changed == ["nothing"] and page.links == []
    assert page.change_counts == ["relationship requested: 0", "relationship renewed: 0", "group assigned: 0",
                                  "consent granted: 0"]
    header, *rows = page.rows
    assert header == []  # the heading row has th cells only
    none_sentence = ("No GDAP relationship with this customer: request one in Partner Center (with Cloud Application "
                     "Administrator among its roles) and have the customer approve it.")
    # Unreachable first, then reachable; by name without regard to case within each, as the filter
    # sorted them (the template keeps that order).
    assert rows[0] == ["unreachable", f"{HOSTILE[3]}\nt-3", "none", "", "", "", "graph: not tried", none_sentence]
    assert rows[1] == ["unreachable", f"{HOSTILE[2]}\nt-2", "none", "", "", "", "graph: error", none_sentence]
    assert rows[2][:3] == ["reachable", f"{HOSTILE[1]}\nt-1", "GDAP active\n<i>SAM</i> & more"]
    assert rows[2][3].startswith("2099-01-01 (") and rows[2][3].endswith(" d)")
    assert rows[2][4:] == ["Cloud Application Administrator", "yes", "graph: ok", ""]  # a token: consented
    assert rows[3] == ["reachable", f"{HOSTILE[0]}\nt-0", "DAP", "", "", "yes", "graph: ok",
                       "Reached through DAP, which Microsoft has retired: set up a GDAP relationship before DAP "
                       "access is removed."]
    assert len(rows) == 4
    assert "Generated " in out.read_text() and "&lt;p&gt;tenant&lt;/p&gt;" in out.read_text()
    assert "a&amp;b@&lt;x&gt;.com" in out.read_text()
    same_as_the_role_writes(out)


def same_as_the_role_writes(out):
    """The role writes both files with the customer_access_files filter: the template's bytes, and
    to_nice_json's."""
    assert (out.parent / f"{out.name}.files.html").read_bytes() == out.read_bytes()
    assert (out.parent / f"{out.name}.files.json").read_bytes() == (out.parent / f"{out.name}.nice.json").read_bytes()


LINK = "https://login.example/AdminPortal/Home#/partners/invitation/granularAdminRelationships/r-2?a=1&b=\"x\""


def test_awaiting_approval_links_and_what_the_run_changed(run_playbook, tmp_path):
    """A customer awaiting approval gets its invitation link as a link (its href escaped like every
    value; a link that is not https is shown as text, never as a link), and the section of what the
    run changed lists each customer's changes and every count. Broken by: the link rendered without
    `| e`, a javascript: link made clickable, a change or count dropped, check mode not said."""
    customers = [{"tenant_id": f"t-{n}", "company_name": name} for n, name in enumerate(HOSTILE[:3])]
    relationships = [{"id": f"r-{n}", "display_name": "SAM", "status": "approvalPending", "end_date": None,
                      "customer_tenant_id": f"t-{n}", "roles": CAA, "access_assignments": [], "invitation_link": link}
                     for n, link in ((1, "javascript:alert(1)"), (2, LINK))]
    fixes = {"requested": [{"tenant_id": "t-2", "changed": True}], "assigned": [{"relationship_id": "r-9"}],
             "renewed": [{"tenant_id": "t-1", "changed": True}]}
    for check_mode in (False, True):
        out = tmp_path / f"report-{check_mode}.html"
        run = run_playbook("report_template.yml", {
            "customers": customers, "relationships": relationships, "reached": [], "token_errors": [],
            "fixes": fixes, "check_mode": check_mode, "partner_token": {"tenant_id": "p", "upn": "u"},
            "out": str(out)})
        assert run.ok, run
        page = Page()
        page.feed(out.read_text())
        assert page.links == [{"class": "invitation", "href": LINK}]
        assert page.counts == ["3 customers", "reachable: 0", "expiring: 0", "awaiting approval: 2",
                               "needs consent: 0", "unreachable: 1"]
        assert page.change_counts == ["relationship requested: 1", "relationship renewed: 1", "group assigned: 0",
                                      "consent granted: 0"]
        assert page.changed == [f"{HOSTILE[1]} (", "t-1", "): relationship renewed",
                                f"{HOSTILE[2]} (", "t-2", "): relationship requested"]
        heading = "What this run would change (check mode)" if check_mode else "What this run changed"
        assert f"<h2>{heading}</h2>" in out.read_text()
        same_as_the_role_writes(out)
        by_name = {row[1].split("\n")[0]: row for row in page.rows[1:]}
        assert by_name[HOSTILE[1]][0] == "awaiting approval"
        assert by_name[HOSTILE[1]][-1].endswith("\ninvitation link: javascript:alert(1)")
        assert by_name[HOSTILE[2]][-1].endswith("\ninvitation link for the customer's Global Administrator")
        assert "onerror" not in str(page.tags)
