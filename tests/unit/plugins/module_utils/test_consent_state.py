"""The code-mode state file holds the PKCE verifier between two runs: it must be private, never
written through a link, and never outside the state directory."""
from __future__ import annotations

import os
import stat
import tempfile

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


def test_the_file_is_named_by_the_app_and_the_tenant(tmp_path, monkeypatch):
    """The client id in lower case; a tenant's letters, digits, '-' and '.' kept, anything else
    '_'; a state_dir with '~' is the user's.
    Broken by: the client id kept in its case, another character kept or replaced, '~' not expanded."""
    monkeypatch.setenv("HOME", str(tmp_path))
    assert _flow_file("~/state", CLIENT_ID.upper(), "Contoso-1.onmicrosoft.com") == str(
        tmp_path / "state" / f"consent-{CLIENT_ID}-Contoso-1.onmicrosoft.com.json")
    assert _flow_file(str(tmp_path), CLIENT_ID, "a/b\\c d_e") == str(tmp_path / f"consent-{CLIENT_ID}-a_b_c_d_e.json")


@pytest.mark.parametrize("client_id, shown", [("not-a-guid", "not-a-guid"), ("x" * 81, "the value given"),
                                              ("a\nb", "the value given")])
def test_a_client_id_that_is_no_guid_is_one_sentence(tmp_path, client_id, shown):
    """Broken by: the value shown when it is long or not printable, or another sentence."""
    with pytest.raises(SecureAppError) as raised:
        _flow_file(str(tmp_path), client_id, "contoso.onmicrosoft.com")
    assert raised.value.code == "invalid_client_id"
    assert raised.value.message == f"client_id {shown!r} is not an application id: give the app's id (a GUID)."


@pytest.mark.parametrize("kind", ["link", "dangling link", "file"])
def test_a_state_directory_that_is_a_link_or_a_file_is_refused(tmp_path, kind):
    """A file or a dangling link there was an OSError with a traceback, not this sentence.
    Broken by: a link or a file accepted, or the makedirs error let through."""
    state = tmp_path / "state"
    if kind == "link":
        (tmp_path / "real").mkdir(mode=0o700)
        state.symlink_to(tmp_path / "real")
    elif kind == "dangling link":
        state.symlink_to(tmp_path / "nothing")
    else:
        state.write_text("")
    with pytest.raises(SecureAppError) as raised:
        _save_private(_flow_file(str(state), CLIENT_ID, "contoso.onmicrosoft.com"), {})
    assert raised.value.code == "unsafe_state_dir"
    assert raised.value.message == f"state_dir {state} is a link or not a directory: give a directory of your own."
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["state"] + (["real"] if kind == "link" else []))
    if kind == "link":
        assert list((tmp_path / "real").iterdir()) == []


def test_the_messages_of_an_unsafe_directory(tmp_path):
    """Broken by: another sentence or code, or the mode shown in another form."""
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o755)
    with pytest.raises(SecureAppError) as raised:
        _save_private(_flow_file(str(shared), CLIENT_ID, "contoso.onmicrosoft.com"), {})
    assert raised.value.code == "unsafe_state_dir"
    assert raised.value.message == (f"state_dir {shared} has mode 0755, and the pending sign-in must be yours alone: "
                                    "chmod 700 it or give another directory.")
    if os.geteuid() == 0:
        os.chmod(shared, 0o700)
        os.chown(shared, 65534, 65534)
        with pytest.raises(SecureAppError) as raised:
            _save_private(_flow_file(str(shared), CLIENT_ID, "contoso.onmicrosoft.com"), {})
        assert raised.value.code == "unsafe_state_dir"
        assert raised.value.message == (f"state_dir {shared} belongs to another user (uid 65534): give a directory of "
                                        "your own.")


def test_a_write_that_fails_leaves_no_file(tmp_path):
    """Broken by: the temporary file kept, or the old file replaced by a partial one."""
    path = _flow_file(str(tmp_path / "state"), CLIENT_ID, "contoso.onmicrosoft.com")
    _save_private(path, {"code_verifier": "old"})
    with pytest.raises(TypeError):
        _save_private(path, {"code_verifier": object()})
    assert os.listdir(tmp_path / "state") == [os.path.basename(path)]
    assert _load_private(path) == {"code_verifier": "old"}


def test_the_saved_file_is_new_and_private(tmp_path):
    """Broken by: a missing file not read as None, a mode other than 0600, a leftover file."""
    path = _flow_file(str(tmp_path / "state"), CLIENT_ID, "contoso.onmicrosoft.com")
    assert _load_private(path) is None
    _save_private(path, {"code_verifier": "v", "state": "s"})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert os.listdir(tmp_path / "state") == [os.path.basename(path)]
    with open(path) as handle:
        assert handle.read() == '{"code_verifier": "v", "state": "s"}'


def test_a_linked_file_is_one_sentence(tmp_path):
    """Broken by: a link followed, or another sentence or code."""
    path = _flow_file(str(tmp_path / "state"), CLIENT_ID, "contoso.onmicrosoft.com")
    os.makedirs(os.path.dirname(path), mode=0o700)
    (tmp_path / "elsewhere.json").write_text("{}")
    os.symlink(tmp_path / "elsewhere.json", path)
    with pytest.raises(SecureAppError) as raised:
        _load_private(path)
    assert raised.value.code == "unsafe_state_file"
    assert raised.value.message == (f"The pending sign-in file {path} cannot be read safely (a link?): remove it and "
                                    "run again.")


def test_the_file_is_written_in_the_state_directory(tmp_path, monkeypatch):
    """Broken by: the temporary file made in the system's temporary directory (then renamed)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-directory"))
    path = _flow_file(str(tmp_path / "state"), CLIENT_ID, "contoso.onmicrosoft.com")
    _save_private(path, {"code_verifier": "v"})
    assert _load_private(path) == {"code_verifier": "v"}
