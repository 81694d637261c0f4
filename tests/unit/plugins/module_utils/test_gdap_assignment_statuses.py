"""read_relationships with access_assignment_statuses: the access assignments are read only for the
relationships in those statuses (one request fewer for each other one, theirs empty), and every
relationship is still returned; left out, every relationship's are read. Broken by: the statuses
ignored, a relationship dropped, assignments read although include_access_assignments is false."""
from __future__ import annotations

import pytest

from ansible_collections.partnercenter.secure_app.plugins.module_utils import _gdap_relationships
from ansible_collections.partnercenter.secure_app.plugins.module_utils._clouds import resolve_cloud
from ansible_collections.partnercenter.secure_app.plugins.module_utils._http import HttpClient

RELATIONSHIPS = [{"id": f"r-{status}", "displayName": status, "status": status, "customer": {"tenantId": f"t-{status}"}}
                 for status in ("active", "expired", "approvalPending")]


@pytest.fixture(name="read")
def fake_graph(monkeypatch):
    asked = []
    monkeypatch.setattr(_gdap_relationships.Relationships, "list", lambda self, customer=None: list(RELATIONSHIPS))
    monkeypatch.setattr(_gdap_relationships.Relationships, "my_groups", lambda self: [{"id": "G", "displayName": "g"}])

    def assignments(_self, relationship_id):
        asked.append(relationship_id)
        return [{"id": "a", "status": "active", "accessContainer": {"accessContainerId": "g"}, "accessDetails": {}}]
    monkeypatch.setattr(_gdap_relationships.Relationships, "access_assignments", assignments)

    def read(**options):
        asked.clear()
        result = _gdap_relationships.read_relationships(HttpClient(), resolve_cloud("AzureCloud"), "token", **options)
        return result, sorted(asked)
    return read


def test_only_the_relationships_in_the_statuses_have_their_assignments_read(read):
    result, asked = read(assignment_statuses=["active"])
    assert asked == ["r-active"]
    by_id = {r["id"]: r for r in result["relationships"]}
    assert list(by_id) == ["r-active", "r-expired", "r-approvalPending"]
    assert by_id["r-active"]["access_assignments"] == [
        {"id": "a", "status": "active", "group_id": "g", "roles": [], "includes_me": True}]
    assert by_id["r-expired"]["access_assignments"] == by_id["r-approvalPending"]["access_assignments"] == []


def test_without_statuses_every_relationship_has_them_read_and_none_without_assignments(read):
    assert read()[1] == ["r-active", "r-approvalPending", "r-expired"]
    assert read(assignment_statuses=[])[1] == []
    assert read(include_access_assignments=False, assignment_statuses=["active"])[1] == []
