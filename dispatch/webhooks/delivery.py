"""The webhook outbox notifier and the background deliverer.

``WebhookOutbox`` wraps the company notifier the dispatch service already publishes to (server-sent
events): each event still goes there, and is also written to the database outbox for every endpoint of
that company subscribed to its type. ``WebhookDeliverer`` is the background job (``start``/``stop``)
that sends the outbox: signed POSTs, one at a time per (endpoint, vehicle) so a company sees a vehicle's
changes in order, retried on the backoff schedule while the receiver is down or answers non-2xx, then
marked failed. Delivery is at least once; the event id (``Noriai-Webhook-Id``) lets a receiver drop the
repeat that follows a lost answer. Logs carry delivery and endpoint ids only, never URLs or payloads.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from dispatch.notify import Notifier
from dispatch.persistence.repository import Tx
from dispatch.persistence.webhooks import WebhookStore, add_deliveries
from dispatch.webhooks.model import WebhookDelivery, WebhookEndpoint, signed_headers

log = logging.getLogger("noriai.webhooks")

# 10 s, 30 s, 1, 2, 5, 10, 30 min, then hourly: about a day of retries before a delivery is failed.
DEFAULT_BACKOFF_S: tuple[float, ...] = (10, 30, 60, 120, 300, 600, 1800) + (3600,) * 20


def _utcnow() -> datetime:
    return datetime.now(UTC)


class WebhookOutbox:
    """A notifier for the dispatch service: publishes to ``inner`` and writes the webhook outbox."""

    def __init__(self, inner: Notifier, store: WebhookStore, clock: Callable[[], datetime] = _utcnow) -> None:
        self.inner, self.store, self.clock = inner, store, clock

    def _event(self, company_id: str, event: Mapping[str, Any]) -> tuple[str, str, str, datetime]:
        """(event id, type, body, now) of one event as receivers get it."""
        event_type = str(event.get("type", "message"))
        now = self.clock()
        event_id = "evt_" + uuid.uuid4().hex
        body = json.dumps(
            {
                "id": event_id,
                "type": event_type,
                "company_id": company_id,
                "created_at": now.isoformat(),
                "data": dict(event),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return event_id, event_type, body, now

    def publish(self, company_id: str, event: Mapping[str, Any]) -> None:
        """An event outside any transaction (a position): the stream, then an outbox row of its own."""
        self.inner.publish(company_id, event)
        event_id, event_type, body, now = self._event(company_id, event)
        try:
            self.store.enqueue(
                company_id, event_type, str(event.get("vehicle_id", "")), event_id, lambda _ep: body, now
            )
        except Exception:  # never fail a position report for a webhook
            log.exception("webhook outbox write failed for event %s (company %s)", event_id, company_id)

    def write_outbox(self, tx: Tx, company_id: str, event: Mapping[str, Any]) -> None:
        """The event's outbox rows inside the caller's write transaction (a booking change): they
        commit with it or not at all. A failure here fails the change, so nothing is acknowledged
        without its notification."""
        event_id, event_type, body, now = self._event(company_id, event)
        vehicle = str(event.get("vehicle_id", ""))
        add_deliveries(tx.s, company_id, event_type, vehicle, event_id, lambda _ep: body, now)

    def publish_stream(self, company_id: str, event: Mapping[str, Any]) -> None:
        """The live stream alone (after the transaction that wrote the outbox rows committed)."""
        self.inner.publish(company_id, event)


class WebhookDeliverer:
    """Sends due outbox rows on a daemon thread. ``run_once`` does one pass (tests and the CLI use it)."""

    def __init__(
        self,
        store: WebhookStore,
        *,
        backoff_s: Sequence[float] = DEFAULT_BACKOFF_S,
        timeout_s: float = 5.0,
        poll_s: float = 0.5,
        lease_s: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if not backoff_s or any(b < 0 for b in backoff_s):
            raise ValueError("backoff_s needs at least one non-negative delay")
        self.store = store
        self.backoff_s = tuple(backoff_s)
        self.poll_s, self.lease_s, self.clock = poll_s, lease_s, clock
        self._client = httpx.Client(timeout=timeout_s, transport=transport, follow_redirects=False)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="webhook-deliverer", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                sent = self.run_once()
            except Exception:
                log.exception("webhook delivery pass failed")
                sent = 0
            if not sent:
                self._stop.wait(self.poll_s)

    def run_once(self) -> int:
        """Attempt every due queue head once; returns how many attempts were made."""
        attempts = 0
        for d, ep in self.store.due(self.clock()):
            if self._stop.is_set():
                break
            now = self.clock()
            if not self.store.claim(d.delivery_id, now, now + timedelta(seconds=self.lease_s)):
                continue  # another deliverer has it
            self._attempt(d, ep)
            attempts += 1
        return attempts

    def _attempt(self, d: WebhookDelivery, ep: WebhookEndpoint) -> None:
        body = d.payload.encode()
        status: int | None = None
        error = ""
        try:
            secret, *older = ep.signing_secrets(self.clock())
            r = self._client.post(
                ep.url,
                content=body,
                headers=signed_headers(secret, d.event_id, int(time.time()), body, *older),
            )
            status = r.status_code
            ok = 200 <= r.status_code < 300
            if not ok:
                error = f"HTTP {r.status_code}"
        except httpx.HTTPError as e:
            ok = False
            error = type(e).__name__  # never the URL: it may carry the company's own tokens
        now = self.clock()
        retry_at = None
        if not ok and d.attempts < len(self.backoff_s):
            retry_at = now + timedelta(seconds=self.backoff_s[d.attempts])
        self.store.record_attempt(
            d.delivery_id, delivered=ok, status_code=status, error=error, now=now, retry_at=retry_at
        )
        if not ok:
            log.info(
                "webhook delivery %s to endpoint %s: attempt %d failed (%s)%s",
                d.delivery_id,
                ep.endpoint_id,
                d.attempts + 1,
                error,
                "" if retry_at else "; giving up",
            )
