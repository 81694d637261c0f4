"""The inventory's GDAP situation for every relationship status Graph documents, the expiry
boundary, details (coverage, consent), and the api module's request rules for every method."""
from __future__ import annotations

import datetime

import pytest

from ansible_collections.partnercenter.secure_app.plugins.module_utils._api_write import (
    WRITE_METHODS, check_request, is_replay_safe, merged_body)
from ansible_collections.partnercenter.secure_app.plugins.module_utils._customer_inventory import (
    SITUATIONS, gdap_situation)
from ansible_collections.partnercenter.secure_app.plugins.module_utils._errors import SecureAppError

NOW = datetime.datetime(2026, 11, 27, 12, 0, tzinfo=datetime.timezone.utc)
READERS = {"id": "88d8e3e3-8f55-4a1e-953a-9b9898b8876b", "name": "Directory Readers"}
HELPDESK = {"id": "729827e3-9c14-49f7-bb1b-9608f156bbb8", "name": "Helpdesk Administrator"}
# Every status of Graph's delegatedAdminRelationship and the situation it gives.
STATUS_SITUATION = {
    "active": "gdap_active", "expiring": "gdap_ended",
    "activating": "gdap_pending", "approvalPending": "gdap_pending", "approved": "gdap_pending",
    "created": "gdap_pending",
    "expired": "gdap_ended", "terminated": "gdap_ended", "terminating": "gdap_ended",
    "terminationRequested": "gdap_ended",
}


def view(status="active", end="2028-01-01T00:00:00Z", includes_me=True, assignment_roles=(HELPDESK,)):
    return {"id": "r1", "display_name": "SAM access", "status": status, "end_date": end, "roles": [READERS],
            "access_assignments": [{"status": "active", "includes_me": includes_me,
                                    "roles": list(assignment_roles)}]}


def situation(relationships, delegated=False, details=False, consented=None, expiring_days=30):
    return gdap_situation(relationships, delegated, details=details, consented=consented, now=NOW,
                          expiring_days=expiring_days)


@pytest.mark.parametrize("status", sorted(STATUS_SITUATION))
def test_every_status_has_its_situation(status):
    result = situation([view(status)])
    assert result["situation"] == STATUS_SITUATION[status]
    assert result["situation"] in SITUATIONS
    assert result["status"] == status and result["relationship_id"] == "r1" and result["end_date"] == "2028-01-01"


@pytest.mark.parametrize("days, expected", [(29, "gdap_expiring"), (30, "gdap_active"), (31, "gdap_active")])
def test_expiry_boundary(days, expected):
    end = (NOW + datetime.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    result = situation([view(end=end)])
    assert result["situation"] == expected and result["days_left"] == days


@pytest.mark.parametrize("delegated, expected", [(True, "dap"), (False, "no_relationship")])
def test_without_relationships(delegated, expected):
    result = situation([], delegated=delegated)
    assert result["situation"] == expected and result["relationship_id"] is None and result["roles"] == []


def test_the_usable_relationship_decides_over_an_ended_one():
    ended = dict(view("expired", end="2029-01-01T00:00:00Z"), id="old")
    assert situation([ended, view("active")])["relationship_id"] == "r1"
    assert situation([view("active"), ended])["relationship_id"] == "r1"


def test_details_give_the_covering_roles_and_the_consent():
    covered = situation([view()], details=True, consented=True)
    assert covered["covered"] is True and covered["roles"] == ["Helpdesk Administrator"]
    assert covered["consented"] is True
    uncovered = situation([view(includes_me=False)], details=True, consented=False)
    assert uncovered["covered"] is False and uncovered["roles"] == [] and uncovered["consented"] is False
    # an ended relationship's assignments are not read: unknown, not 'not covered'
    ended = situation([view("expired")], details=True)
    assert ended["covered"] is None and ended["roles"] == ["Directory Readers"]
    # without details nothing per customer is claimed
    plain = situation([view()], consented=True)
    assert plain["covered"] is None and plain["consented"] is None and plain["roles"] == ["Directory Readers"]


@pytest.mark.parametrize("method", WRITE_METHODS)
@pytest.mark.parametrize("idempotent", [None, True, False])
def test_replay_safety_of_every_method(method, idempotent):
    expected = method in ("PUT", "DELETE") if idempotent is None else idempotent
    assert is_replay_safe(method, idempotent) is expected


def test_secret_body_is_merged_key_by_key():
    body = {"displayName": "x", "passwordProfile": {"forceChangePasswordNextSignIn": True}}
    merged = merged_body(body, {"passwordProfile": {"password": "p"}})
    assert merged == {"displayName": "x", "passwordProfile": {"forceChangePasswordNextSignIn": True, "password": "p"}}
    assert body == {"displayName": "x", "passwordProfile": {"forceChangePasswordNextSignIn": True}}, "not changed"
    assert merged_body(None, {"a": 1}) == {"a": 1} and merged_body([1], None) == [1]
    with pytest.raises(SecureAppError, match="secret_body needs body to be a dictionary"):
        merged_body([1], {"a": 1})


def params(**given):
    return dict({"path": "/v1.0/users", "headers": {}, "method": "POST", "body": None, "secret_body": None,
                 "status_code": [201]}, **given)


@pytest.mark.parametrize("given, sentence", [
    ({"path": "v1.0/users"}, "must start with '/'"),
    ({"headers": {"authorization": "x"}}, "headers may not set authorization"),
    ({"headers": {"Host": "x"}}, "headers may not set Host"),
    ({"method": "DELETE", "body": {"a": 1}}, "A DELETE carries no body"),
    ({"status_code": []}, "status_code is empty"),
])
def test_bad_requests_are_one_sentence(given, sentence):
    with pytest.raises(SecureAppError, match=sentence):
        check_request(params(**given))
    check_request(params())
