# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One table of what GDAP statuses mean, and every reader of statuses following it: the verdict,
the inventory's situations and the fix path's renewal agree on each of Graph's values."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.partnercenter.secure_app.plugins.module_utils import _gdap_status as status_table
from ansible_collections.partnercenter.secure_app.plugins.module_utils._customer_inventory import gdap_situation
from ansible_collections.partnercenter.secure_app.plugins.module_utils._gdap_lifecycle import ENDED
from ansible_collections.partnercenter.secure_app.plugins.module_utils._gdap_verdict import assess

# Graph v1.0's delegatedAdminRelationshipStatus and delegatedAdminAccessAssignmentStatus enums
# (without unknownFutureValue, which Graph sends only when asked for).
GRAPH_RELATIONSHIP_STATUSES = {"activating", "active", "approvalPending", "approved", "created", "expired",
                               "expiring", "terminated", "terminating", "terminationRequested"}
GRAPH_ASSIGNMENT_STATUSES = {"pending", "active", "deleting", "deleted", "error"}
NOW = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)


def test_the_table_holds_each_graph_status_once():
    classes = [status_table.USABLE, {status_table.DRAFT}, {status_table.AWAITING_APPROVAL}, status_table.ACTIVATING,
               status_table.ENDED]
    assert set().union(*classes) == GRAPH_RELATIONSHIP_STATUSES == status_table.RELATIONSHIP_STATUSES
    assert sum(len(c) for c in classes) == len(GRAPH_RELATIONSHIP_STATUSES)
    assert status_table.ASSIGNMENT_STATUSES == GRAPH_ASSIGNMENT_STATUSES
    assert "expiring" in status_table.ENDED  # past its end date, not ending soon


def _relationship(status):
    return {"id": "r1", "display_name": "SAM", "status": status, "end_date": "2027-06-01T00:00:00Z",
            "roles": [{"id": "158c047a-c907-4556-b7ef-446551a6b5f7", "name": "Cloud Application Administrator"}],
            "access_assignments": [{"status": "active", "includes_me": True,
                                    "roles": [{"id": "158c047a-c907-4556-b7ef-446551a6b5f7",
                                               "name": "Cloud Application Administrator"}]}]}


@pytest.mark.parametrize("status", sorted(GRAPH_RELATIONSHIP_STATUSES))
def test_every_reader_classifies_a_status_as_the_table_does(status):
    """Broken by: any reader keeping its own list (the verdict counting 'expiring' usable while the
    lifecycle counts it ended, as before this table)."""
    usable = status in status_table.USABLE
    ended = status in status_table.ENDED
    row = assess({"tenant_id": "t1"}, [_relationship(status)], consent={"consented": True}, tokens={"graph": "ok"},
                 token_error=None, now=NOW, warning_days=30)
    assert (row["status"] == "reachable") is usable
    where = gdap_situation([_relationship(status)], False, details=True, consented=True, now=NOW,
                           expiring_days=30)["situation"]
    assert where == ("gdap_active" if usable else "gdap_ended" if ended else "gdap_pending")
    assert (status in ENDED) is ended
