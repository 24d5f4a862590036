"""Partner API keys (issue: hub API auth): created and revoked by staff, stored only as hashes, shown once.

A key reads ``dml_<prefix>_<secret>``: the prefix finds its row, the SHA-256 of the
whole key is compared in constant time.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from domiland.db.engine import session_scope
from domiland.db.models import ApiKey, utcnow

PREFIX = "dml_"


@dataclass(frozen=True)
class NewKey:
    id: int
    organization_id: int
    name: str
    key: str
    """The plain key: returned once, never stored."""


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(organization_id: int, name: str) -> NewKey:
    prefix = secrets.token_hex(6)
    key = f"{PREFIX}{prefix}_{secrets.token_urlsafe(24)}"
    with session_scope() as session:
        row = ApiKey(organization_id=organization_id, name=name, prefix=prefix, key_hash=_hash(key))
        session.add(row)
        session.flush()
        return NewKey(row.id, organization_id, name, key)


def revoke_key(key_id: int, organization_id: int | None = None) -> bool:
    """Revoke a key (of that organization, when given); False when there is no such active key."""
    with session_scope() as session:
        row = session.get(ApiKey, key_id)
        if row is None or row.revoked_at is not None or (organization_id and row.organization_id != organization_id):
            return False
        row.revoked_at = utcnow()
        return True


def verify_key(key: str) -> int | None:
    """The organization id of an active key, else ``None``."""
    if not key.startswith(PREFIX) or key.count("_") < 2:
        return None
    prefix = key[len(PREFIX):].split("_", 1)[0]
    with session_scope() as session:
        row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
        if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, _hash(key)):
            return None
        row.last_used_at = utcnow()
        return row.organization_id
