"""Polls realtime URLs and feeds the single writer: fetch -> parse -> match -> snapshot (-> Redis mirror).

Every outcome is recorded, nothing raises out of ``run_once``, so one bad feed never stops the others.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bus_location.fetcher import Fetcher
from bus_location.snapshot import RealtimeWriter, UpdateReport

log = logging.getLogger("noriai.realtime")


@dataclass
class PollTarget:
    feed_id: str
    fetcher: Fetcher
    last_status: str = "never"
    last_error: str | None = None
    reports: int = 0


@dataclass
class RealtimePoller:
    writer: RealtimeWriter
    targets: Sequence[PollTarget]
    on_update: Callable[[str], None] | None = None  # e.g. publish to the Redis mirror
    _stop: threading.Event = field(default_factory=threading.Event)

    def run_once(self) -> list[UpdateReport]:
        out = []
        for t in self.targets:
            res = t.fetcher.poll()
            t.last_status = res.status
            t.last_error = res.error
            if res.status != "ok" or res.data is None:
                if res.status == "error":
                    log.warning("realtime fetch failed for %s: %s", t.feed_id, res.error)
                continue
            report = self.writer.apply_bytes(t.feed_id, res.data)
            t.reports += 1
            if not report.ok:
                t.last_status, t.last_error = "bad_message", report.error
                log.warning("realtime message rejected for %s: %s", t.feed_id, report.error)
                continue
            if self.on_update is not None:
                try:
                    self.on_update(t.feed_id)
                except Exception:  # a mirror failure must never stop polling
                    log.exception("realtime publish hook failed for %s", t.feed_id)
            out.append(report)
        return out

    def start(self, interval_s: float = 5.0) -> threading.Thread:
        def loop() -> None:
            while not self._stop.wait(interval_s):
                self.run_once()

        thread = threading.Thread(target=loop, name="realtime-poller", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()
