"""app_registration and admin_agents through ansible-playbook."""
from __future__ import annotations


def apps_named(api, name):
    return [a for a in api.state()["applications"] if a["displayName"] == name]


def test_create_then_nothing_changes(run_playbook, api, auto_approve):
    first = run_playbook("app_registration.yml", {"app_name": "SAM integration"})
    assert first.ok, first
    report = first.task("Report")["msg"]
    assert report["changed"] is True and report["secret_created"] is True
    [app] = apps_named(api, "SAM integration")
    assert app["appId"] == report["app_id"] and len(app["passwords"]) == 1
    assert app["signInAudience"] == "AzureADMultipleOrgs"
    assert app["web"]["redirectUris"] == ["http://localhost:8400"]
    assert {r["resourceAppId"] for r in app["requiredResourceAccess"]} == {
        "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd", "00000003-0000-0000-c000-000000000000",
        "797f4846-ba00-4fd7-ba43-dac1f8f63013"}
    assert report["sp"] in {sp["id"] for sp in api.state()["service_principals"]}

    second = run_playbook("app_registration.yml", {"app_name": "SAM integration"})
    assert second.ok
    assert second.task("Report")["msg"]["changed"] is False
    assert second.task("Report")["msg"]["secret_created"] is False
    assert apps_named(api, "SAM integration")[0]["passwords"] == app["passwords"]


def test_check_mode_writes_nothing(run_playbook, api, auto_approve):
    run_playbook("app_registration.yml", {"app_name": "SAM check mode"})
    before = api.get("/writes")["counts"]
    checked = run_playbook("app_registration.yml", {"app_name": "SAM check mode", "rotate": True,
                                                    "public_flows": True}, check=True)
    assert checked.ok, checked
    assert checked.task("Ensure the app")["changed"] is True
    created = run_playbook("app_registration.yml", {"app_name": "SAM never created"}, check=True)
    assert created.task("Ensure the app")["changed"] is True
    assert api.get("/writes")["counts"] == before
    assert apps_named(api, "SAM never created") == []


def test_rotation_adds_then_removes_only_when_asked(run_playbook, api, auto_approve):
    """A rotation keeps the old secret until a second task removes it (broken by: removing the old
    secret in the rotating task, before the caller could store the new one)."""
    run_playbook("app_registration.yml", {"app_name": "SAM rotate"})
    old = apps_named(api, "SAM rotate")[0]["passwords"]
    rotated = run_playbook("app_registration.yml", {"app_name": "SAM rotate", "rotate": True})
    assert rotated.ok, rotated
    report = rotated.task("Report")["msg"]
    both = apps_named(api, "SAM rotate")[0]["passwords"]
    assert sorted(p["keyId"] for p in both) == sorted([old[0]["keyId"], report["secret_key_id"]])
    assert report["replaced_key_ids"] == [old[0]["keyId"]]
    pruned = run_playbook("app_registration.yml", {"app_name": "SAM rotate", "keep_key_id": report["secret_key_id"]})
    assert pruned.ok, pruned
    assert pruned.task("Report")["msg"]["removed_key_ids"] == [old[0]["keyId"]]
    assert [p["keyId"] for p in apps_named(api, "SAM rotate")[0]["passwords"]] == [report["secret_key_id"]]
    again = run_playbook("app_registration.yml", {"app_name": "SAM rotate", "keep_key_id": report["secret_key_id"]})
    assert again.task("Report")["msg"]["changed"] is False


def test_a_secret_the_caller_no_longer_holds_is_replaced(run_playbook, api, auto_approve):
    run_playbook("app_registration.yml", {"app_name": "SAM lost secret"})
    gone = "00000000-0000-0000-0000-000000000001"
    unknown = run_playbook("app_registration.yml", {"app_name": "SAM lost secret", "keep_key_id": gone})
    assert not unknown.ok and "is not a secret of app" in unknown.failed_task()["msg"]
    assert len(apps_named(api, "SAM lost secret")[0]["passwords"]) == 1  # nothing removed


def test_update_with_diff_and_delete(run_playbook, api, auto_approve):
    run_playbook("app_registration.yml", {"app_name": "SAM update"})
    updated = run_playbook("app_registration.yml", {"app_name": "SAM update", "public_flows": True})
    report = updated.task("Report")["msg"]
    assert report["changed"] is True
    assert report["diff"] == {"before": {"isFallbackPublicClient": False}, "after": {"isFallbackPublicClient": True}}
    assert apps_named(api, "SAM update")[0]["isFallbackPublicClient"] is True
    checked = run_playbook("app_registration.yml", {"app_name": "SAM update", "app_state": "absent"}, check=True)
    assert checked.task("Ensure the app")["changed"] is True and apps_named(api, "SAM update")
    deleted = run_playbook("app_registration.yml", {"app_name": "SAM update", "app_state": "absent"})
    assert deleted.task("Ensure the app")["changed"] is True and not apps_named(api, "SAM update")
    again = run_playbook("app_registration.yml", {"app_name": "SAM update", "app_state": "absent"})
    assert again.task("Ensure the app")["changed"] is False


def test_two_apps_with_one_name_fail_clearly(run_playbook, api, auto_approve):
    run_playbook("app_registration.yml", {"app_name": "SAM twin"})
    # a second app of the same name, as a portal user might make
    state = api.state()
    twin = next(a for a in state["applications"] if a["displayName"] == "SAM twin")
    run_playbook("app_registration.yml", {"app_name": "SAM twin other"})
    other = apps_named(api, "SAM twin other")[0]
    renamed = run_playbook("rename_app.yml", {"object_id": other["id"], "new_name": "SAM twin"})
    assert renamed.ok, renamed
    failed = run_playbook("app_registration.yml", {"app_name": "SAM twin"})
    assert not failed.ok
    message = failed.failed_task()["msg"]
    assert message.startswith("2 applications are named 'SAM twin'")
    assert twin["appId"] in message and other["appId"] in message
    assert "Traceback" not in failed.stdout + failed.stderr
