"""Polls realtime URLs and feeds the single writer: fetch -> parse -> match -> snapshot (-> Redis mirror).

Every outcome is recorded, nothing raises out of ``run_once`` (which the app's ``realtime-poller``
job calls every 15 s, ``noriai.jobs``), so one bad feed never stops the others. A target that fails
(fetch error, undecodable message, or a bug of ours) backs off, 15 s doubling to ``MAX_BACKOFF_S``,
and ``health()`` reports each target's state: ``never`` (not polled yet), ``ok``, ``failing`` or
``stale`` (failing, and the last good message is older than ``STALE_AFTER_S``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bus_location.fetcher import Fetcher
from bus_location.snapshot import RealtimeWriter, UpdateReport

log = logging.getLogger("noriai.realtime")

FIRST_BACKOFF_S = 15.0
MAX_BACKOFF_S = 600.0
STALE_AFTER_S = 300.0  # a feed without a good message for this long is stale


@dataclass
class PollTarget:
    feed_id: str
    fetcher: Fetcher
    last_status: str = "never"
    last_error: str | None = None
    reports: int = 0
    failures: int = 0  # consecutive failed polls
    last_ok_at: float | None = None  # poller clock of the last good (or not-modified) poll
    next_at: float = 0.0  # no poll before this (backoff)

    def health(self, now: float) -> dict[str, Any]:
        age = None if self.last_ok_at is None else now - self.last_ok_at
        if self.failures == 0:
            state = "never" if self.last_ok_at is None else "ok"
        elif age is not None and age > STALE_AFTER_S:
            state = "stale"
        else:
            state = "failing"
        return {
            "url": self.fetcher.url,
            "state": state,
            "last_status": self.last_status,
            "last_error": self.last_error,
            "consecutive_failures": self.failures,
            "last_ok_age_s": None if age is None else int(age),
            "next_poll_in_s": max(0, int(self.next_at - now)),
            "messages": self.reports,
        }


@dataclass
class RealtimePoller:
    writer: RealtimeWriter
    targets: Sequence[PollTarget]
    on_update: Callable[[str], None] | None = None  # e.g. publish to the Redis mirror
    clock: Callable[[], float] = time.monotonic

    def run_once(self) -> list[UpdateReport]:
        out = []
        for t in self.targets:
            now = self.clock()
            if now < t.next_at:
                continue
            try:
                report = self._poll(t, now)
            except Exception as exc:  # a bug of ours on some input: this target backs off, others go on
                if t.failures == 0:
                    log.exception("realtime poll of %s failed unexpectedly", t.feed_id)
                self._failed(t, now, "internal_error", f"internal error: {type(exc).__name__}")
                continue
            if report is not None:
                out.append(report)
        return out

    def _poll(self, t: PollTarget, now: float) -> UpdateReport | None:
        res = t.fetcher.poll()
        if res.status == "too_soon":
            return None
        if res.status == "not_modified":
            t.last_status, t.last_error, t.failures, t.last_ok_at = res.status, None, 0, now
            return None
        if res.status != "ok" or res.data is None:
            self._failed(t, now, res.status, res.error)
            return None
        report = self.writer.apply_bytes(t.feed_id, res.data)
        t.reports += 1
        if not report.ok:
            self._failed(t, now, "bad_message", report.error)
            return None
        t.last_status, t.last_error, t.failures, t.last_ok_at = "ok", None, 0, now
        if self.on_update is not None:
            try:
                self.on_update(t.feed_id)
            except Exception:  # a mirror failure must never stop polling
                log.exception("realtime publish hook failed for %s", t.feed_id)
        return report

    def _failed(self, t: PollTarget, now: float, status: str, error: str | None) -> None:
        t.last_status, t.last_error = status, (error or status)[:500]
        t.failures += 1
        t.next_at = now + min(MAX_BACKOFF_S, FIRST_BACKOFF_S * 2 ** min(t.failures - 1, 10))
        if t.failures in (1, 5) or t.failures % 20 == 0:
            log.warning("realtime poll of %s failed (%d in a row): %s", t.feed_id, t.failures, t.last_error)

    def health(self) -> list[dict[str, Any]]:
        """Each target's state, in target order (several URLs may feed one static feed)."""
        now = self.clock()
        return [{"feed_id": t.feed_id, **t.health(now)} for t in self.targets]
