"""The gdap_access_assignment module's work (_gdap_assignments) against the sandbox's Graph: an
assignment of a partner group in an active relationship created (with the relationship's roles
by default), its roles changed and deleted with If-Match, many at once with a result each, and
the bounded wait until Graph has applied them; each refusal's sentence, check mode sending
nothing, and a second run changing nothing. Every relationship here is the test's own, of the
customer without one (kind none)."""
from __future__ import annotations

import re
import time

import pytest

from ansible_collections.partnercenter.secure_app.plugins.module_utils._errors import SecureAppError
from ansible_collections.partnercenter.secure_app.plugins.module_utils._gdap_assignments import (
    GONE, RELATIONSHIP_ID, WAIT_INTERVALS, Assignments, run_assignments, summary)
from gdap_sandbox import (  # pylint: disable=import-error
    DIRECTORY_READERS, HELPDESK_ADMINISTRATOR, RELATIONSHIPS, USER_ADMINISTRATOR, TaskContext, active_relationship,
    create_relationship, customer, ended_after, gdap_app, gdap_timing, module_context, set_relationship, writes_during)

BOTH = sorted([HELPDESK_ADMINISTRATOR, DIRECTORY_READERS])  # Helpdesk Administrator, Directory Readers
BOTH_NAMES = ["Helpdesk Administrator", "Directory Readers"]


@pytest.fixture(scope="module")
def context(world):
    made = module_context(world)
    yield made
    made.close()


@pytest.fixture(scope="module")
def gdap(world, context):
    return gdap_app(world, context, "GDAP assignment unit tests")


@pytest.fixture()
def task(context, gdap):
    return TaskContext(context, gdap["token"])


@pytest.fixture(scope="module")
def tenant(world):
    return customer(world["ep"], "none")


@pytest.fixture(scope="module", autouse=True)
def ended(world, gdap, tenant):
    yield from ended_after(world["api"], gdap, tenant)


@pytest.fixture(scope="module")
def groups(world):
    return world["ep"]["gdap_group_ids"]


@pytest.fixture()
def relationship(world, gdap, tenant):
    """An active relationship of its own with Helpdesk Administrator and Directory Readers."""
    return active_relationship(gdap["graph"], world["api"], tenant, 100, roles=BOTH)


def params(**given):
    return dict({"relationship_id": None, "group_id": None, "roles": None, "etag": None, "state": "present",
                 "assignments": None, "concurrency": 2, "fail_on_customer_error": True, "wait": False,
                 "wait_timeout": 300}, **given)


def listed(gdap, relationship_id):
    return gdap["graph"].get(f"{RELATIONSHIPS}/{relationship_id}/accessAssignments").json()["value"]


def refused(action):
    with pytest.raises(SecureAppError) as raised:
        action()
    return raised.value


def assigned(gdap, relationship_id, group_id, roles):
    made = gdap["graph"].post(f"{RELATIONSHIPS}/{relationship_id}/accessAssignments", json={
        "accessContainer": {"accessContainerId": group_id, "accessContainerType": "securityGroup"},
        "accessDetails": {"unifiedRoles": [{"roleDefinitionId": role} for role in roles]}})
    assert made.status_code == 201, made.text
    return made.json()


# ---- refusals before any write -------------------------------------------------------------------


@pytest.mark.parametrize("relationship_id", ["", "   ", None, "a/b", "a b", "r" * 101, "x?y"])
def test_a_relationship_id_that_is_none_is_one_sentence(world, task, groups, relationship_id):
    """It goes into the URL path: letters, digits and dashes, 1 to 100. Broken by: the pattern
    loosened, the bound moved, or the check after the read."""
    error, sent = writes_during(world["api"], lambda: refused(lambda: run_assignments(task, params(
        relationship_id=relationship_id, group_id=groups["helpdesk"]), check_mode=False)))
    assert sent == []
    assert (error.code, error.message) == ("invalid_relationship_id", "relationship_id is not a GDAP relationship id: "
                                           "give the GDAP relationship's id (gdap_relationship returns it).")


def test_the_relationship_id_pattern_bounds():
    assert RELATIONSHIP_ID.match("r" * 100) and RELATIONSHIP_ID.match("a") and RELATIONSHIP_ID.match("A-0-z")
    assert not RELATIONSHIP_ID.match("r" * 101) and not RELATIONSHIP_ID.match("r_1")
    assert not RELATIONSHIP_ID.match("a\nb") and not RELATIONSHIP_ID.match("r.1")


def test_an_unknown_relationship_of_100_characters_is_graphs_404(task, groups):
    """100 characters pass the pattern: Graph answers. Broken by: the bound at 99."""
    error = refused(lambda: run_assignments(task, params(relationship_id="r" * 100, group_id=groups["helpdesk"]),
                                            check_mode=False))
    assert error.status == 404
    assert error.message.startswith(f"Failed to read GDAP relationship {'r' * 100}: ")


@pytest.mark.parametrize("group_id", ["not-a-guid", "", None])
def test_a_group_id_that_is_no_guid_is_one_sentence(world, task, relationship, group_id):
    error = refused(lambda: run_assignments(task, params(relationship_id=relationship["id"], group_id=group_id),
                                            check_mode=False))
    assert error.code == "invalid_id"
    assert error.message == f"group_id {str(group_id)!r} is not a GUID: give the security group's object id."


def test_a_relationship_that_is_not_active_is_one_sentence(world, gdap, task, tenant, groups):
    """present needs an active relationship; absent does not (nothing to delete: no change)."""
    made = create_relationship(gdap["graph"], tenant, roles=BOTH)
    set_relationship(world["api"], made["id"], status="approvalPending")
    error, sent = writes_during(world["api"], lambda: refused(lambda: run_assignments(task, params(
        relationship_id=made["id"], group_id=groups["helpdesk"]), check_mode=False)))
    assert sent == []
    assert (error.code, error.message) == (
        "relationship_not_active", f"The relationship {made['displayName']!r} is approvalPending: access assignments "
        "need an active relationship (the customer approves it, then Graph activates it); run again once it is "
        "active.")
    result = run_assignments(task, params(relationship_id=made["id"], group_id=groups["helpdesk"], state="absent"),
                             check_mode=False)
    assert (result["changed"], result["action"], result["assignment"]) == (False, "none", None)
    assert result["assignments"][0]["tenant_id"] == tenant


def test_roles_outside_the_relationship_are_one_sentence(world, task, relationship, groups):
    """Broken by: the check dropped, or one role named only."""
    error, sent = writes_during(world["api"], lambda: refused(lambda: run_assignments(task, params(
        relationship_id=relationship["id"], group_id=groups["helpdesk"],
        roles=["User Administrator", "Directory Readers", "Global Reader"]), check_mode=False)))
    assert sent == []
    assert (error.code, error.message) == (
        "role_not_in_relationship", f"The relationship {relationship['displayName']!r} does not hold Global Reader, "
        "User Administrator: an assignment gives only roles of its relationship; drop them from roles.")
    refused(lambda: run_assignments(task, params(relationship_id=relationship["id"], group_id=groups["helpdesk"],
                                                 roles=["no such role"]), check_mode=False))


# ---- create, update, delete ------------------------------------------------------------------------


def test_create_with_the_relationships_roles(world, gdap, task, relationship, groups):
    """Check mode sends nothing; the run one POST (the group in any case, the relationship's roles
    when none are given); a second run nothing."""
    api = world["api"]
    group = groups["helpdesk"]
    given = params(relationship_id=f" {relationship['id']} ", group_id=group.upper())
    planned, sent = writes_during(api, lambda: run_assignments(task, given, check_mode=True))
    after = {"id": None, "status": "pending", "group_id": group, "roles": BOTH_NAMES, "etag": None}
    assert sent == [] and listed(gdap, relationship["id"]) == []
    assert (planned["changed"], planned["action"], planned["assignment"]) == (True, "create", after)
    assert planned["diff"] == {"before": {}, "after": after}
    assert planned["assignments"] == [{"relationship_id": relationship["id"], "group_id": group,
                                       "tenant_id": relationship["customer"]["tenantId"], "changed": True,
                                       "action": "create", "assignment": after, "error": None, "error_code": None}]
    assert task.asked == [("graph", "manage GDAP access assignments")]
    result, sent = writes_during(api, lambda: run_assignments(task, given, check_mode=False))
    made = listed(gdap, relationship["id"])
    assert len(made) == 1
    assert sent == [("POST", f"{RELATIONSHIPS}/{relationship['id']}/accessAssignments", 201)]
    assert made[0]["accessContainer"] == {"accessContainerId": group, "accessContainerType": "securityGroup"}
    assert sorted(r["roleDefinitionId"] for r in made[0]["accessDetails"]["unifiedRoles"]) == BOTH
    assert result["assignment"] == summary(made[0]) == {"id": made[0]["id"], "status": "pending", "group_id": group,
                                                        "roles": BOTH_NAMES, "etag": made[0]["@odata.etag"]}
    assert result["action"] == "create" and result["changed"] is True
    again, sent = writes_during(api, lambda: run_assignments(task, given, check_mode=False))
    assert sent == []
    assert (again["changed"], again["action"], again["assignment"]) == (False, "none", summary(made[0]))
    assert again["diff"] == {"before": summary(made[0]), "after": summary(made[0])}
    by_name = dict(given, roles=["directory readers", HELPDESK_ADMINISTRATOR])
    named, sent = writes_during(api, lambda: run_assignments(task, by_name, check_mode=False))
    assert sent == [] and named["action"] == "none"


def test_change_the_roles_with_if_match(world, gdap, task, relationship, groups):
    """PATCH with the assignment's etag (check mode: nothing); the assignment then shown pending
    with the new roles and no etag."""
    api = world["api"]
    group = groups["tier2"]
    with gdap_timing(api, assignment=0.05):
        existing = assigned(gdap, relationship["id"], group, BOTH)
        given = params(relationship_id=relationship["id"], group_id=group, roles=["Directory Readers"])
        planned, sent = writes_during(api, lambda: run_assignments(task, given, check_mode=True))
        assert sent == []
        assert (planned["action"], planned["assignment"], planned["diff"]["before"]) == (
            "update", dict(summary(existing), roles=["Directory Readers"]), summary(existing))
        result, sent = writes_during(api, lambda: run_assignments(task, given, check_mode=False))
        assert sent == [("PATCH", f"{RELATIONSHIPS}/{relationship['id']}/accessAssignments/{existing['id']}", 202)]
        assert result["assignment"] == dict(summary(existing), roles=["Directory Readers"], status="pending",
                                            etag=None)
        assert result["changed"] is True
        time.sleep(0.1)
        assert [r["roleDefinitionId"] for r in listed(gdap, relationship["id"])[0]["accessDetails"]["unifiedRoles"]] \
            == [DIRECTORY_READERS]
        again, sent = writes_during(api, lambda: run_assignments(task, given, check_mode=False))
    assert sent == [] and again["action"] == "none"


def test_an_active_assignment_changed_is_shown_pending(world, gdap, task, relationship, groups):
    """Graph applies a role change after its 202: the result says pending, not the active status
    read before. Broken by: the status of the assignment read kept in the result."""
    with gdap_timing(world["api"], assignment=0):
        existing = assigned(gdap, relationship["id"], groups["tier2"], BOTH)
        assert listed(gdap, relationship["id"])[0]["status"] == "active"
    result = run_assignments(task, params(relationship_id=relationship["id"], group_id=groups["tier2"],
                                          roles=["Directory Readers"]), check_mode=False)
    assert result["action"] == "update" and result["diff"]["before"]["status"] == "active"
    assert result["assignment"] == {"id": existing["id"], "status": "pending", "group_id": groups["tier2"],
                                    "roles": ["Directory Readers"], "etag": None}


def test_a_stale_etag_is_one_sentence(world, gdap, task, relationship, groups):
    """The etag given is sent as If-Match (not the one read): Graph refuses it with 412."""
    existing = assigned(gdap, relationship["id"], groups["tier2"], BOTH)
    given = params(relationship_id=relationship["id"], group_id=groups["tier2"], roles=["Directory Readers"],
                   etag=existing["@odata.etag"])
    run_assignments(task, given, check_mode=False)
    for change in ({"roles": ["Helpdesk Administrator"]}, {"state": "absent"}):
        error = refused(lambda change=change: run_assignments(task, dict(given, **change), check_mode=False))
        action = "update" if "roles" in change else "delete"
        assert error.status == 412 and error.code == "etag_conflict"
        assert re.match(re.escape(
            f"Failed to {action} access assignment {existing['id']}: the access assignment changed since its etag "
            "was read (Graph refused If-Match, PreconditionFailed): read it again (or leave etag out to use the "
            "current one) and run the task again"), error.message), error.message
    fresh = run_assignments(task, dict(given, etag=None, state="absent"), check_mode=False)
    assert fresh["action"] == "delete"


def test_delete_with_if_match(world, gdap, task, relationship, groups):
    """DELETE with the etag read (check mode: nothing); a second run finds none (a deleting
    assignment is gone); present then creates a new one."""
    api = world["api"]
    group = groups["consent"]
    existing = assigned(gdap, relationship["id"], group, [HELPDESK_ADMINISTRATOR])
    given = params(relationship_id=relationship["id"], group_id=group, state="absent", roles=["User Administrator"])
    planned, sent = writes_during(api, lambda: run_assignments(task, given, check_mode=True))
    assert sent == []
    assert (planned["action"], planned["assignment"], planned["diff"]) == (
        "delete", None, {"before": summary(existing), "after": {}})
    result, sent = writes_during(api, lambda: run_assignments(task, given, check_mode=False))
    assert sent == [("DELETE", f"{RELATIONSHIPS}/{relationship['id']}/accessAssignments/{existing['id']}", 204)]
    assert (result["changed"], result["action"], result["assignment"]) == (True, "delete", None)
    assert listed(gdap, relationship["id"])[0]["status"] in GONE
    again, sent = writes_during(api, lambda: run_assignments(task, given, check_mode=False))
    assert sent == [] and (again["changed"], again["action"]) == (False, "none")
    made = run_assignments(task, dict(given, state="present", roles=None), check_mode=False)
    assert made["action"] == "create" and made["assignment"]["id"] != existing["id"]
    assert GONE == frozenset({"deleting", "deleted"})


def test_an_assignment_deleted_meanwhile_is_no_error(world, gdap, task, relationship, groups, faults):
    """Graph answers 404 to the DELETE of one deleted since it was read: done all the same."""
    existing = assigned(gdap, relationship["id"], groups["consent"], BOTH)
    faults({"service": "graph", "method": "DELETE", "path": f"/accessAssignments/{existing['id']}$", "status": 404})
    result = run_assignments(task, params(relationship_id=relationship["id"], group_id=groups["consent"],
                                          state="absent"), check_mode=False)
    assert (result["action"], result["changed"]) == ("delete", True)


def test_many_assignments_in_one_call(world, gdap, task, relationship, groups):
    """A result each in the order given, each item's state (the task's by default); one failing
    does not stop the others; fail_on_customer_error raises the first with the count."""
    api = world["api"]
    tier2 = assigned(gdap, relationship["id"], groups["tier2"], BOTH)
    items = [{"relationship_id": relationship["id"], "group_id": groups["helpdesk"], "roles": ["Helpdesk Administrator"]},
             {"relationship_id": relationship["id"], "group_id": groups["tier2"], "state": "absent"},
             {"relationship_id": "bad/id", "group_id": groups["consent"]},
             {"relationship_id": relationship["id"], "group_id": groups["consent"], "roles": ["User Administrator"]}]
    given = params(assignments=items, fail_on_customer_error=False, concurrency=0, state="present")
    planned, sent = writes_during(api, lambda: run_assignments(task, given, check_mode=True))
    assert sent == []
    assert [(e["action"], e["error_code"]) for e in planned["assignments"]] == [
        ("create", None), ("delete", None), ("none", "invalid_relationship_id"), ("none", "role_not_in_relationship")]
    assert "action" not in planned and "assignment" not in planned
    result, sent = writes_during(api, lambda: run_assignments(task, given, check_mode=False))
    assert sorted(method for method, _path, _status in sent) == ["DELETE", "POST"]
    entries = result["assignments"]
    assert [e["group_id"] for e in entries] == [groups[name] for name in ("helpdesk", "tier2", "consent", "consent")]
    assert entries[2]["relationship_id"] == "bad/id" and entries[2]["tenant_id"] is None
    assert entries[3]["tenant_id"] == relationship["customer"]["tenantId"]
    assert entries[3]["error"].endswith("does not hold User Administrator: an assignment gives only roles of its "
                                        "relationship; drop them from roles.")
    assert all("before" not in e for e in entries)
    key = f"{relationship['id']}/{{}}"
    assert result["diff"] == {
        "before": {key.format(groups["helpdesk"]): None, key.format(groups["tier2"]): summary(tier2)},
        "after": {key.format(groups["helpdesk"]): entries[0]["assignment"], key.format(groups["tier2"]): None}}
    assert result["changed"] is True
    error = refused(lambda: run_assignments(task, dict(given, fail_on_customer_error=True), check_mode=False))
    assert error.code == "invalid_relationship_id"
    assert error.message == ("2 of 4 access assignments gave an error; first, relationship bad/id: relationship_id is "
                             "not a GDAP relationship id: give the GDAP relationship's id (gdap_relationship returns "
                             "it).")
    assert [e["action"] for e in error.details["assignments"]] == ["none", "none", "none", "none"]
    absent = run_assignments(task, params(assignments=[{"relationship_id": relationship["id"],
                                                        "group_id": groups["helpdesk"], "state": None}],
                                          state="absent"), check_mode=True)
    assert absent["assignments"][0]["action"] == "delete"
    none = run_assignments(task, params(assignments=[]), check_mode=False)
    assert none == {"changed": False, "assignments": [], "diff": {"before": {}, "after": {}}}


# ---- waiting until Graph has applied them ---------------------------------------------------------


def graph_reads(world):
    return world["api"].get("/counters")["counters"].get("requests_graph", 0)


def test_wait_until_created_and_deleted(world, gdap, task, relationship, groups):
    """wait: looks again until active (created) or gone (deleted); without wait, or in check mode,
    no look. Looks after 0.25, 0.5 and 1 s: an assignment 1.1 s pending is seen active at the
    fourth look."""
    api = world["api"]
    assert WAIT_INTERVALS == (0.25, 0.5, 1.0, 2.0)
    given = params(relationship_id=relationship["id"], group_id=groups["helpdesk"], wait=True, wait_timeout=10)
    with gdap_timing(api, assignment=1.1):
        before = graph_reads(world)
        planned = run_assignments(task, given, check_mode=True)
        assert graph_reads(world) - before == 2  # the relationship and its assignments
        assert planned["assignment"]["status"] == "pending"
        before = graph_reads(world)
        started = time.monotonic()
        result = run_assignments(task, given, check_mode=False)
        took = time.monotonic() - started
        assert result["assignment"]["status"] == "active" and result["assignment"]["etag"]
        assert graph_reads(world) - before == 3 + 4  # reads, the POST, then four looks
        assert 1.75 <= took < 3.5
        unchanged = run_assignments(task, given, check_mode=False)
        assert unchanged["action"] == "none"
        removed = run_assignments(task, dict(given, state="absent"), check_mode=False)
        assert removed["action"] == "delete" and listed(gdap, relationship["id"])[0]["status"] == "deleted"
        made = run_assignments(task, dict(given, wait=False), check_mode=False)
        assert made["assignment"]["status"] == "pending"


def test_wait_timeout_is_each_ones_error(world, task, relationship, groups):
    """Still pending after wait_timeout: that assignment's error, with its sentence. The looks
    come at 0, 0.25, 0.75, 1.75 and 3.75 s (the intervals grow to 2 s and stay there), and the
    last sleep is cut to the deadline: six looks, the timeout at 4.2 s. Broken by: the intervals
    capped at 1 s (a seventh look), indexed past their end (IndexError at the fifth sleep), the
    last sleep not cut to the deadline or cut to at least 1 s (the error at 4.75 s or later)."""
    api = world["api"]
    with gdap_timing(api, assignment=30):
        before = graph_reads(world)
        started = time.monotonic()
        error = refused(lambda: run_assignments(task, params(relationship_id=relationship["id"],
                                                             group_id=groups["tier2"], wait=True, wait_timeout=4.2),
                                                check_mode=False))
        took = time.monotonic() - started
    assert 4.2 <= took < 4.65, took
    assert graph_reads(world) - before == 3 + 6  # the relationship, its assignments, the POST, six looks
    assert error.code == "assignment_timeout"
    assert error.message == (f"The access assignment in relationship {relationship['id']} is still being applied after "
                             "4.2 seconds (wait_timeout): Graph takes a while; run again later, or wait longer.")
    assert error.details["action"] == "create" and error.details["assignment"]["status"] == "pending"


def test_a_failed_look_is_that_assignments_error(world, gdap, task, relationship, groups, faults):
    """Graph failing the read of an assignment while waiting: the entry's error names the read.
    Broken by: the read's action sentence dropped (it said "Failed to None: ...")."""
    faults({"service": "graph", "method": "GET", "path": r"/accessAssignments/[^/]+$", "status": 500})
    result = run_assignments(task, params(assignments=[{"relationship_id": relationship["id"],
                                                        "group_id": groups["helpdesk"]}],
                                          wait=True, wait_timeout=5, fail_on_customer_error=False), check_mode=False)
    written = listed(gdap, relationship["id"])[0]["id"]
    entry = result["assignments"][0]
    assert entry["error"].startswith(f"Failed to read access assignment {written}: "), entry["error"]


def test_an_assignment_graph_no_longer_lists_is_deleted(world, task, relationship, groups, faults, gdap):
    """Waiting for a delete: an assignment missing from the listing is gone (Graph drops deleted
    ones after a while). Broken by: the lookup without its default (StopIteration)."""
    existing = assigned(gdap, relationship["id"], groups["consent"], BOTH)
    # The read before the delete passes; the look after it finds an empty listing.
    faults({"service": "graph", "method": "GET", "path": "/accessAssignments$", "skip": 1, "body": {"value": []}})
    result = run_assignments(task, params(relationship_id=relationship["id"], group_id=groups["consent"],
                                          state="absent", wait=True, wait_timeout=5), check_mode=False)
    assert (result["action"], result["changed"], result["assignment"]) == ("delete", True, None)
    assert result["assignments"][0]["error"] is None
    assert existing["id"] == result["diff"]["before"]["id"]


@pytest.fixture(scope="module")
def retrying(world):
    """A module context that retries twice (the others do not retry)."""
    made = module_context(world, retries=2)
    yield made
    made.close()


def test_the_create_is_never_sent_twice(world, gdap, retrying, relationship, groups, faults):
    """A 500 to the POST may mean Graph created the assignment: it is not retried (a read would
    be), so the run fails instead of making a second one. Broken by: the POST sent without
    create_once (retried: created after all)."""
    faults({"service": "graph", "method": "POST", "path": "/accessAssignments$", "status": 500, "count": 1})
    error, sent = writes_during(world["api"], lambda: refused(lambda: run_assignments(
        TaskContext(retrying, gdap["token"]), params(relationship_id=relationship["id"], group_id=groups["helpdesk"]),
        check_mode=False)))
    assert error.status == 500 and sent == [] and listed(gdap, relationship["id"]) == []
    assert error.message.startswith(f"Failed to assign group {groups['helpdesk']} in GDAP relationship "
                                    f"{relationship['id']}: ")


def test_an_assignment_graph_failed_is_one_sentence(world, gdap, task, relationship, groups, faults):
    """A status other than pending or active while waiting, or the assignment missing: the
    sentence names the assignment written (it once said "None" for a missing one)."""
    for body, shown in (({"id": "a-1", "status": "error"}, "error"), (None, "missing")):
        group = groups["helpdesk"] if body else groups["tier2"]
        faults({"service": "graph", "method": "GET", "path": r"/accessAssignments/[^/]+$",
                **({"body": body} if body else {"status": 404})})
        result = run_assignments(task, params(assignments=[{"relationship_id": relationship["id"], "group_id": group}],
                                              wait=True, wait_timeout=5, fail_on_customer_error=False),
                                 check_mode=False)
        world["api"].call("DELETE", "/faults")
        entry = result["assignments"][0]
        written = next(a["id"] for a in listed(gdap, relationship["id"])
                       if a["accessContainer"]["accessContainerId"] == group)
        assert entry["error_code"] == "assignment_failed"
        assert entry["error"] == (f"Graph reports the access assignment {written} as {shown}: look at it in Partner "
                                  "Center, then run again.")
        assert entry["assignment"] == ({"id": "a-1", "status": "error", "group_id": None, "roles": [], "etag": None}
                                       if body else None)


def test_a_failed_write_is_not_waited_for(world, task, relationship, groups, faults):
    """An entry with an error is not looked at again."""
    faults({"service": "graph", "method": "POST", "path": "/accessAssignments$", "status": 403})
    before = graph_reads(world)
    result = run_assignments(task, params(assignments=[{"relationship_id": relationship["id"],
                                                        "group_id": groups["helpdesk"]}],
                                          wait=True, fail_on_customer_error=False), check_mode=False)
    assert graph_reads(world) - before == 3
    entry = result["assignments"][0]
    assert entry["error"].startswith(f"Failed to assign group {groups['helpdesk']} in GDAP relationship "
                                     f"{relationship['id']}: permission denied by Microsoft Graph")
    assert "DelegatedAdminRelationship.ReadWrite.All" in entry["error"]


def test_reads_as_graph_answers_them(context, gdap, relationship):
    graph = Assignments(context.http, context.cloud, gdap["token"])
    assert graph.assignment(relationship["id"], "0badc0de-0000-4000-8000-000000000000") is None
    assert graph.relationship(relationship["id"])["id"] == relationship["id"]
    assert summary(None) is None
    assert summary({"id": "a"}) == {"id": "a", "status": None, "group_id": None, "roles": [], "etag": None}
    assert USER_ADMINISTRATOR not in BOTH
