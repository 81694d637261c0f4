"""Ids and hashes every part of the sandbox shares (a leaf module: it imports nothing of the
sandbox). Ids derived from names (uuid5) make a seed yield the same ids every time; secrets are
kept only as hashes."""
from __future__ import annotations

import hashlib
import uuid

NAMESPACE = uuid.UUID("9b1d6b2e-6c0a-4f0e-9a57-2f1d0d6a5c11")


def stable_id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
