"""Who runs the background work: a lease that exactly one process holds at a time.

With several API workers (and several machines), the re-optimiser, the recurring-booking materialiser
and the other timed writers must run in one process only (the read-only feed pollers run in every
process that serves the planner, ``noriai.jobs``). Each candidate process asks for the lease; the one
that holds it runs the jobs and renews the lease well before it expires; a holder that dies (kill -9,
power cut, network split) stops renewing, its lease expires after ``ttl_s`` and another candidate takes
it over. Every acquisition gets a fencing token that only grows, so a paused old holder that wakes up
can tell (and show in ``/health``) that it was replaced. Data written by jobs is additionally protected
by the plans' optimistic version check: a re-optimisation commits only if no plan changed meanwhile.

``RedisLease`` is the production lease (``SET NX PX`` + a Lua compare-and-renew, token from ``INCR``);
``LocalLease`` always grants, for the single-process default without Redis.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import redis

log = logging.getLogger("noriai.lease")

# Renew only if we still hold it: compare the stored holder before extending (atomic in Redis).
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class Lease(Protocol):
    holder: str

    def acquire(self) -> int | None:
        """Take the lease if free: its fencing token, or None when someone else holds it."""
        ...

    def renew(self) -> bool:
        """Extend the lease; False when it was lost (expired and taken, or the store is away)."""
        ...

    def release(self) -> None: ...

    def current_holder(self) -> str | None: ...


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class RedisLease:
    def __init__(
        self, url: str, name: str = "runner", *, ttl_s: float = 15.0, timeout_s: float = 0.5, holder: str = ""
    ) -> None:
        self.client = redis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, retry_on_timeout=False
        )
        self.key = f"noriai:lease:{name}"
        self.token_key = f"noriai:lease:{name}:token"
        self.ttl_ms = int(ttl_s * 1000)
        self.holder = holder or default_holder()
        self._value = ""
        self._renew = self.client.register_script(_RENEW)
        self._release = self.client.register_script(_RELEASE)

    def acquire(self) -> int | None:
        try:
            token = int(self.client.incr(self.token_key))
            value = f"{self.holder}|{token}"
            if self.client.set(self.key, value, nx=True, px=self.ttl_ms):
                self._value = value
                return token
        except redis.RedisError as exc:
            log.warning("lease store unavailable: %s", type(exc).__name__)
        return None

    def renew(self) -> bool:
        if not self._value:
            return False
        try:
            return bool(self._renew(keys=[self.key], args=[self._value, self.ttl_ms]))
        except redis.RedisError as exc:
            log.warning("lease renewal failed: %s", type(exc).__name__)
            return False

    def release(self) -> None:
        if self._value:
            with contextlib.suppress(redis.RedisError):  # if the store is away, it expires by itself
                self._release(keys=[self.key], args=[self._value])
            self._value = ""

    def current_holder(self) -> str | None:
        try:
            raw = self.client.get(self.key)
        except redis.RedisError:
            return None
        if raw is None:
            return None
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        return text.split("|", 1)[0]


class LocalLease:
    """The single-process default: this process is always the runner."""

    def __init__(self, holder: str = "") -> None:
        self.holder = holder or default_holder()
        self._token = 0

    def acquire(self) -> int | None:
        self._token += 1
        return self._token

    def renew(self) -> bool:
        return self._token > 0

    def release(self) -> None:
        self._token = 0

    def current_holder(self) -> str | None:
        return self.holder if self._token else None


class Job(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass
class RunnerState:
    role: str  # "runner" while holding the lease, "standby" otherwise
    holder: str
    token: int | None
    leader: str | None
    takeovers: int


class LeasedRunner:
    """Starts ``jobs`` while this process holds the lease and stops them the moment it is lost.

    A candidate tries every ``ttl_s / 3``; the holder renews at the same pace, so a dead holder is
    replaced within about ``ttl_s + ttl_s / 3``."""

    def __init__(
        self,
        lease: Lease,
        jobs: Sequence[Job],
        *,
        ttl_s: float = 15.0,
        on_acquire: Callable[[int], None] | None = None,
    ) -> None:
        self.lease = lease
        self.jobs = list(jobs)
        self.period_s = max(0.2, ttl_s / 3)
        self.on_acquire = on_acquire
        self.token: int | None = None
        self.takeovers = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Try for the lease at once (a single process starts its jobs before it serves), then keep
        trying or renewing on a daemon thread."""
        try:
            self.step()
        except Exception:
            log.exception("lease runner first step failed; retrying in the background")
        self._thread = threading.Thread(target=self._run, name="lease-runner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._lose()
        self.lease.release()

    def state(self) -> RunnerState:
        return RunnerState(
            role="runner" if self.token is not None else "standby",
            holder=self.lease.holder,
            token=self.token,
            leader=self.lease.current_holder(),
            takeovers=self.takeovers,
        )

    def _run(self) -> None:
        while not self._stop.wait(self.period_s):
            try:
                self.step()
            except Exception:  # the loop must survive anything a job or the store throws
                log.exception("lease runner step failed")

    def step(self) -> None:
        """One round: renew or acquire, then start or stop the jobs to match."""
        with self._lock:
            if self.token is not None:
                if not self.lease.renew():
                    log.warning("runner lease lost (token %s); stopping background jobs", self.token)
                    self._lose()
                return
            token = self.lease.acquire()
            if token is None:
                return
            self.token = token
            self.takeovers += 1
            log.info("runner lease acquired (token %s); starting %d background jobs", token, len(self.jobs))
            for job in self.jobs:
                job.start()
            if self.on_acquire is not None:
                self.on_acquire(token)

    def _lose(self) -> None:
        if self.token is None:
            return
        self.token = None
        for job in self.jobs:
            try:
                job.stop()
            except Exception:
                log.exception("stopping a background job failed")
