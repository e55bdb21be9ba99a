"""Confirmation codes for guest bookings: a 6-digit code sent by SMS to the phone the guest gave; the
booking is made only with that code, so a stranger's number cannot be used to book (or to flood it).

A code lives 10 minutes and allows 5 tries. Stored in Redis when configured (every app process sees
it), else in process; either way under a keyed hash of the phone and as a keyed hash of the code.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass

import redis

from bus_location.live_redis import fast_redis
from noriai.sms import SmsSender
from noriai.web.guard import phone_digest

log = logging.getLogger("noriai.web.phone_codes")


@dataclass
class _Entry:
    code_hash: str
    expires_at: float
    tries_left: int


class PhoneCodes:
    KEY = "noriai:phone-code:"

    def __init__(
        self,
        sender: SmsSender,
        secret: str,
        redis_url: str | None = None,
        timeout_s: float = 0.2,
        *,
        ttl_s: int = 600,
        tries: int = 5,
    ) -> None:
        self.sender, self.secret, self.ttl_s, self.tries = sender, secret, ttl_s, tries
        self._r = fast_redis(redis_url, timeout_s) if redis_url else None
        self._local: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def _hash(self, code: str) -> str:
        return hmac.new(self.secret.encode(), code.encode(), hashlib.sha256).hexdigest()

    def issue(self, phone: str) -> int:
        """Send a new code to ``phone`` (replacing any earlier one); returns its lifetime in seconds."""
        code = f"{secrets.randbelow(1_000_000):06d}"
        entry = _Entry(self._hash(code), time.time() + self.ttl_s, self.tries)
        self._put(phone_digest(phone, self.secret), entry)
        self.sender.send(
            phone,
            f"乗合タクシーの予約確認コード: {code}（{self.ttl_s // 60}分間有効） "
            f"Shared-taxi booking code: {code}",
        )
        return self.ttl_s

    def verify(self, phone: str, code: str) -> bool:
        """True once for the right code; a wrong one uses up a try, and the last try ends the code."""
        key = phone_digest(phone, self.secret)
        with self._lock:
            entry = self._get(key)
            if entry is None or entry.expires_at < time.time() or entry.tries_left <= 0:
                return False
            if hmac.compare_digest(entry.code_hash, self._hash(code)):
                self._delete(key)
                return True
            entry.tries_left -= 1
            self._put(key, entry)
            return False

    # --- storage ---------------------------------------------------------------------------------
    def _put(self, key: str, e: _Entry) -> None:
        if len(self._local) > 10_000:
            now = time.time()
            self._local = {k: v for k, v in self._local.items() if v.expires_at > now}
        self._local[key] = e
        if self._r is not None:
            left = max(1, int(e.expires_at - time.time()))
            payload = json.dumps({"h": e.code_hash, "x": e.expires_at, "t": e.tries_left})
            try:
                self._r.set(self.KEY + key, payload, ex=left)
            except redis.RedisError:
                log.warning("phone-code store unreachable; keeping the code in process")

    def _get(self, key: str) -> _Entry | None:
        if self._r is not None:
            try:
                raw = self._r.get(self.KEY + key)
            except redis.RedisError:
                return self._local.get(key)
            if raw is None:
                return None
            d = json.loads(raw)
            return _Entry(d["h"], d["x"], d["t"])
        return self._local.get(key)

    def _delete(self, key: str) -> None:
        self._local.pop(key, None)
        if self._r is not None:
            with contextlib.suppress(redis.RedisError):
                self._r.delete(self.KEY + key)
