"""Change notifications for taxi companies: one stream per company, read by server-sent events.

With Redis configured, notifications go to a Redis stream per company (``XADD ... MAXLEN ~ 1000``), so
every app process can serve any company's stream. When Redis is down, publishing never blocks or
raises: notifications wait in a bounded outbox that is flushed once Redis answers again (tried at
most once a second: no retry storm), and readers are told the feed is stale. Notifications carry ids
and versions only, never personal data; the company fetches the run itself, from the database.
"""

from __future__ import annotations

import collections
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import redis

from bus_location.live_redis import fast_redis


class Notifier(Protocol):
    """Where the dispatch service sends a company's notifications (``DispatchContext.notifier``): the
    event stream below, or the webhook outbox in front of it (``dispatch.webhooks``)."""

    def publish(self, company_id: str, event: Mapping[str, Any]) -> None: ...


class NotificationStream(Notifier, Protocol):
    """A notifier that can also be read back, per company, after an event id (server-sent events)."""

    backend: str

    def tail_id(self, company_id: str) -> str: ...

    def read(self, company_id: str, after_id: str, block_s: float) -> ReadResult: ...


class NullNotifier:
    """Drops every notification (a service without company streams: the CLI, the simulator)."""

    def publish(self, company_id: str, event: Mapping[str, Any]) -> None:
        return None


@dataclass(frozen=True, slots=True)
class ReadResult:
    events: list[tuple[str, dict[str, Any]]]
    last_id: str
    stale: bool


class InMemoryNotifier:
    """The embedded default: one process, a ring buffer per company."""

    backend = "memory"

    def __init__(self, keep: int = 1000) -> None:
        self._keep = keep
        self._seq = 0
        self._events: dict[str, collections.deque[tuple[int, dict[str, Any]]]] = {}
        self._cond = threading.Condition()

    def publish(self, company_id: str, event: Mapping[str, Any]) -> None:
        with self._cond:
            self._seq += 1
            q = self._events.setdefault(company_id, collections.deque(maxlen=self._keep))
            q.append((self._seq, dict(event)))
            self._cond.notify_all()

    def tail_id(self, company_id: str) -> str:
        with self._cond:
            return str(self._seq)

    def read(self, company_id: str, after_id: str, block_s: float) -> ReadResult:
        after = int(after_id) if after_id.isdigit() else 0
        deadline = time.monotonic() + block_s
        with self._cond:
            while True:
                got = [(str(s), e) for s, e in self._events.get(company_id, ()) if s > after]
                left = deadline - time.monotonic()
                if got or left <= 0:
                    return ReadResult(got, got[-1][0] if got else str(after), stale=False)
                self._cond.wait(left)


class RedisNotifier:
    """Redis streams with an outbox for when Redis is unreachable."""

    backend = "redis"
    PREFIX = "noriai:events:"

    def __init__(self, url: str, timeout_s: float = 0.2, *, outbox_limit: int = 10_000) -> None:
        self._r = fast_redis(url, timeout_s)
        self._url = url
        self._timeout_s = timeout_s
        self._outbox: collections.deque[tuple[str, str]] = collections.deque(maxlen=outbox_limit)
        self._lock = threading.Lock()
        self._next_try = 0.0
        self._readers: dict[float, redis.Redis[bytes]] = {}

    def _stream(self, company_id: str) -> str:
        return self.PREFIX + company_id

    def _flush(self) -> bool:
        """Send what waits in the outbox; False if Redis is (still) down."""
        with self._lock:
            if not self._outbox:
                return True
            if time.monotonic() < self._next_try:
                return False
            try:
                while self._outbox:
                    company_id, payload = self._outbox[0]
                    self._r.xadd(self._stream(company_id), {"e": payload}, maxlen=1000, approximate=True)
                    self._outbox.popleft()
                return True
            except redis.RedisError:
                self._next_try = time.monotonic() + 1.0
                return False

    @property
    def pending(self) -> int:
        return len(self._outbox)

    def publish(self, company_id: str, event: Mapping[str, Any]) -> None:
        payload = json.dumps(dict(event), ensure_ascii=False)
        with self._lock:
            self._outbox.append((company_id, payload))
        self._flush()

    def _reader(self, block_s: float) -> redis.Redis[bytes]:
        # XREAD BLOCK needs a socket timeout longer than the block; one client per block length.
        r = self._readers.get(block_s)
        if r is None:
            r = fast_redis(self._url, block_s + self._timeout_s + 0.5)
            self._readers[block_s] = r
        return r

    def tail_id(self, company_id: str) -> str:
        try:
            last = self._r.xrevrange(self._stream(company_id), count=1)
        except redis.RedisError:
            return "0-0"
        return last[0][0].decode() if last else "0-0"

    def read(self, company_id: str, after_id: str, block_s: float) -> ReadResult:
        flushed = self._flush()
        try:
            got = self._reader(block_s).xread(
                {self._stream(company_id): after_id}, count=100, block=int(block_s * 1000)
            )
        except redis.RedisError:
            time.sleep(min(block_s, 1.0))  # a reader must not spin while Redis is away
            return ReadResult([], after_id, stale=True)
        events: list[tuple[str, dict[str, Any]]] = []
        last = after_id
        for _stream, entries in got or []:
            for entry_id, fields in entries:
                last = entry_id.decode()
                events.append((last, json.loads(fields[b"e"])))
        return ReadResult(events, last, stale=not flushed)


def make_notifier(redis_url: str | None, timeout_s: float = 0.2) -> NotificationStream:
    return RedisNotifier(redis_url, timeout_s) if redis_url else InMemoryNotifier()
