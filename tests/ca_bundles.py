"""One REQUESTS_CA_BUNDLE for several sandboxes in one test process (the unit tests' and the
conformance tests' run in the same pytest worker): each adds its CA to the bundle in force, so
that requests, which lets the variable override a session's verify, trusts them all."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def add_to_environment(bundle: str) -> str | None:
    """Point REQUESTS_CA_BUNDLE at a bundle holding the current one's CAs and bundle's; return the
    previous value, for the caller to restore."""
    previous = os.environ.get("REQUESTS_CA_BUNDLE")
    text = Path(bundle).read_text()
    if previous and Path(previous).exists() and previous != bundle:
        text = Path(previous).read_text() + "\n" + text
    handle, path = tempfile.mkstemp(prefix="sandbox-ca-", suffix=".pem")
    with os.fdopen(handle, "w") as out:
        out.write(text)
    os.environ["REQUESTS_CA_BUNDLE"] = path
    return previous
