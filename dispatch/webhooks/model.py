"""Webhook types and the signature scheme, free of any database or network code.

Every delivery is an HTTP POST of a JSON body with three headers::

    Noriai-Webhook-Id: <event id>          (the same for every retry: receivers drop repeats by it)
    Noriai-Webhook-Timestamp: <unix seconds when this attempt was signed>
    Noriai-Webhook-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>." + body)>

The timestamp is inside the signed text, so a captured request cannot be replayed with a fresh
timestamp; receivers refuse a timestamp further than the replay window (300 s) from their clock.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

ID_HEADER = "Noriai-Webhook-Id"
TIMESTAMP_HEADER = "Noriai-Webhook-Timestamp"
SIGNATURE_HEADER = "Noriai-Webhook-Signature"
REPLAY_WINDOW_S = 300
SIGNATURE_VERSION = "v1"

EVENT_TYPES = frozenset({"run_changed", "position"})
DEFAULT_EVENT_TYPES = ("run_changed",)


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up after the last attempt of the backoff schedule


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    endpoint_id: str
    company_id: str
    url: str
    secret: str
    event_types: tuple[str, ...]
    active: bool
    created_at: datetime
    previous_secret: str | None = None  # after a rotation, until ``previous_secret_expires_at``
    previous_secret_expires_at: datetime | None = None

    def signing_secrets(self, now: datetime) -> tuple[str, ...]:
        """The secrets that sign a delivery at ``now``: the current one, and the previous one while
        the rotation's overlap lasts."""
        exp = self.previous_secret_expires_at
        if self.previous_secret and exp is not None and now < exp:
            return (self.secret, self.previous_secret)
        return (self.secret,)


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    delivery_id: int
    endpoint_id: str
    company_id: str
    event_id: str
    event_type: str
    ordering_key: str
    payload: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={mac.hexdigest()}"


def signed_headers(secret: str, event_id: str, timestamp: int, body: bytes, *older: str) -> dict[str, str]:
    """The headers of one attempt. With ``older`` secrets (a rotation's overlap) the signature header
    lists one signature per secret, newest first, separated by spaces: ``v1=<new> v1=<old>``."""
    return {
        "Content-Type": "application/json",
        ID_HEADER: event_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: " ".join(signature(s, timestamp, body) for s in (secret, *older)),
    }


class Headers(Protocol):
    def get(self, name: str, default: str, /) -> str: ...


def verify(
    secret: str,
    headers: Headers,
    body: bytes,
    now_s: float,
    window_s: int = REPLAY_WINDOW_S,
) -> bool:
    """What a receiver does: one of the signatures matches and the timestamp is within the replay
    window. ``headers`` must be looked up case-insensitively (pass an ``email.message.Message`` or
    similar). During a secret rotation's overlap the header carries two signatures, so a receiver
    holding either the old or the new secret verifies."""
    ts = headers.get(TIMESTAMP_HEADER, "")
    sigs = headers.get(SIGNATURE_HEADER, "").split()
    if not ts.isdigit() or abs(now_s - int(ts)) > window_s:
        return False
    expected = signature(secret, int(ts), body)
    return any(hmac.compare_digest(s, expected) for s in sigs[:5])
