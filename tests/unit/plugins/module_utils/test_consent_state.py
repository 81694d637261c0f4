"""The code-mode state file holds the PKCE verifier between two runs: it must be private, never
written through a link, and never outside the state directory."""
from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.partnercenter.secure_app.plugins.module_utils._consent import (
    _flow_file, _load_private, _save_private)
from ansible_collections.partnercenter.secure_app.plugins.module_utils._errors import SecureAppError

CLIENT_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"


def test_an_existing_readable_file_becomes_private(tmp_path):
    path = _flow_file(str(tmp_path / "state"), CLIENT_ID, "contoso.onmicrosoft.com")
    os.makedirs(os.path.dirname(path), mode=0o700)
    with open(path, "w") as handle:
        handle.write("{}")
    os.chmod(path, 0o644)
    _save_private(path, {"code_verifier": "v"})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert _load_private(path) == {"code_verifier": "v"}


def test_a_planted_link_is_replaced_not_followed(tmp_path):
    target = tmp_path / "elsewhere.json"
    target.write_text("untouched")
    path = _flow_file(str(tmp_path / "state"), CLIENT_ID, "contoso.onmicrosoft.com")
    os.makedirs(os.path.dirname(path), mode=0o700)
    os.symlink(target, path)
    with pytest.raises(SecureAppError, match="cannot be read safely"):
        _load_private(path)
    _save_private(path, {"code_verifier": "v"})
    assert target.read_text() == "untouched" and not os.path.islink(path)


@pytest.mark.parametrize("client_id", ["../../x", "a/b", "not-a-guid", CLIENT_ID + "/.."])
def test_a_client_id_cannot_lead_out_of_the_state_directory(tmp_path, client_id):
    with pytest.raises(SecureAppError, match="is not an application id"):
        _flow_file(str(tmp_path), client_id, "contoso.onmicrosoft.com")


@pytest.mark.parametrize("mode", [0o777, 0o755, 0o750, 0o711, 0o1700, 0o500])
def test_a_state_directory_not_0700_is_refused(tmp_path, mode):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, mode)
    with pytest.raises(SecureAppError, match=f"has mode {mode:04o}, and the pending sign-in must be yours alone"):
        _save_private(_flow_file(str(shared), CLIENT_ID, "contoso.onmicrosoft.com"), {})


def test_a_state_directory_of_another_user_is_refused(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("giving a directory to another user needs root")
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, 65534, 65534)
    with pytest.raises(SecureAppError, match="belongs to another user"):
        _save_private(_flow_file(str(theirs), CLIENT_ID, "contoso.onmicrosoft.com"), {})


def test_a_new_state_directory_is_0700(tmp_path):
    path = _flow_file(str(tmp_path / "new"), CLIENT_ID, "contoso.onmicrosoft.com")
    _save_private(path, {})
    assert stat.S_IMODE(os.stat(tmp_path / "new").st_mode) == 0o700
