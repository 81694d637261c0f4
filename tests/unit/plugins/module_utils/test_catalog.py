from __future__ import annotations

from ansible_collections.partnercenter.secure_app.plugins.module_utils._catalog import (
    AAD_GRAPH_APP_ID, normalize_resource_access, sam_required_resource_access)


def test_aad_graph_only_on_request():
    assert AAD_GRAPH_APP_ID not in {e["resourceAppId"] for e in sam_required_resource_access()}
    assert AAD_GRAPH_APP_ID in {e["resourceAppId"] for e in sam_required_resource_access(include_aad_graph=True)}


def test_sam_permissions():
    access = {e["resourceAppId"]: e["resourceAccess"] for e in sam_required_resource_access()}
    assert access["fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd"] == [{"id": "1cebfa2a-fb4d-419e-b5f9-839b4383e05a", "type": "Scope"}]
    assert {"id": "7ab1d382-f21e-4acd-a863-ba3e13f7da61", "type": "Role"} in access["00000003-0000-0000-c000-000000000000"]


def test_normalization_ignores_order():
    forward = sam_required_resource_access()
    backward = [dict(e, resourceAccess=list(reversed(e["resourceAccess"]))) for e in reversed(forward)]
    assert normalize_resource_access(forward) == normalize_resource_access(backward)


def test_gdap_write_replaces_the_read_permission_only_on_request():
    """Least privilege: reporting reads GDAP; customer_access_fix needs ReadWrite.All, asked for."""
    def graph_scopes(**options):
        access = {e["resourceAppId"]: e["resourceAccess"] for e in sam_required_resource_access(**options)}
        return {a["id"] for a in access["00000003-0000-0000-c000-000000000000"] if a["type"] == "Scope"}
    read, write = "0c0064ea-477b-4130-82a5-4c2cc4ff68aa", "885f682f-a990-4bad-a642-36736a74b0c7"
    assert read in graph_scopes() and write not in graph_scopes()
    assert write in graph_scopes(gdap_write=True) and read not in graph_scopes(gdap_write=True)
    assert graph_scopes(gdap_write=True) - {write} == graph_scopes() - {read}
