"""Unit tests import the collection as ansible_collections.partnercenter.secure_app."""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _collection_root() -> str:
    for entry in sys.path:  # already on the path (ansible-test units, or a collections path)
        if (Path(entry) / "ansible_collections" / "partnercenter" / "secure_app").exists():
            return entry
    parent = Path(tempfile.mkdtemp(prefix="secure_app-units-"))
    (parent / "ansible_collections" / "partnercenter").mkdir(parents=True)
    (parent / "ansible_collections" / "partnercenter" / "secure_app").symlink_to(ROOT)
    return str(parent)


sys.path.insert(0, _collection_root())
# The sandbox-backed tests' shared helpers (sandbox_world, gdap_sandbox), importable under pytest
# and under ansible-test units alike (the latter puts only the collection on the path).
sys.path.insert(0, str(Path(__file__).resolve().parent / "plugins" / "module_utils"))


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    """The sandbox with a consented SAM app (see plugins/module_utils/sandbox_world.py)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent / "plugins" / "module_utils"))
    import sandbox_world  # pylint: disable=import-outside-toplevel

    made = sandbox_world.start(tmp_path_factory)
    yield made
    sandbox_world.stop(made)


@pytest.fixture()
def faults(world):
    """Adds the sandbox's fault rules given (a status, a canned body, skip and count) for one test,
    and removes every rule after it."""
    api = world["api"]
    yield lambda *rules: api.call("POST", "/faults", list(rules))
    api.call("DELETE", "/faults")
