"""``noriai keys list|rotate|revoke``: the API-key lifecycle (SECURITY.md). A key is printed once, when
it is made, and stored only as its SHA-256 digest; listings show a prefix of the digest, never a key.

Rotation makes a new key for the same holder (role, company, label) and lets the old ones work for a
grace period, so the holder can switch without downtime; revocation ends keys at once. A running
server honours either within a minute (it caches key look-ups for 60 s).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dispatch.domain import Principal
from dispatch.persistence import create_db_engine, migrate
from dispatch.persistence.repository import ApiKey, Repository


class KeyCommandError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Rotated:
    key: str
    principal: Principal
    old_keys: int
    old_valid_until: datetime


def _repo(database_url: str) -> Repository:
    engine = create_db_engine(database_url)
    migrate(engine)
    return Repository(engine)


def new_key() -> str:
    return secrets.token_urlsafe(32)


def list_keys(database_url: str) -> list[ApiKey]:
    with _repo(database_url).read() as tx:
        return tx.api_keys()


def _live(k: ApiKey, now: datetime) -> bool:
    expires = (
        k.expires_at if k.expires_at is None or k.expires_at.tzinfo else k.expires_at.replace(tzinfo=UTC)
    )
    return k.revoked_at is None and (expires is None or expires > now)


def rotate_key(database_url: str, label: str, grace: timedelta, now: datetime | None = None) -> Rotated:
    now = now or datetime.now(UTC)
    repo = _repo(database_url)
    with repo.write() as tx:
        live = [k for k in tx.api_keys() if k.label == label and _live(k, now)]
        if not live:
            raise KeyCommandError(f"no live key labelled {label!r} (see `noriai keys list`)")
        principal = Principal(live[-1].role, label, live[-1].company_id)
        key = new_key()
        tx.add_key(key, principal, now)
        n = tx.retire_keys(label, at=now + grace, revoke=False, keep=key)
    return Rotated(key, principal, n, now + grace)


def revoke_keys(database_url: str, label: str, now: datetime | None = None) -> int:
    with _repo(database_url).write() as tx:
        n = tx.retire_keys(label, at=now or datetime.now(UTC), revoke=True)
    if n == 0:
        raise KeyCommandError(f"no live key labelled {label!r} (see `noriai keys list`)")
    return n
