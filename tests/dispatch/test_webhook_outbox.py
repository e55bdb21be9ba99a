"""The webhook outbox is written inside the booking's own database transaction (real SQLite): a change
that commits always has its outbox rows, one that rolls back never has them, and the live stream is told
only after the commit (its failure cannot undo or fail an acknowledged booking)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dispatch.booking import BookingStatus
from dispatch.persistence import create_db_engine
from dispatch.persistence.repository import Tx
from dispatch.persistence.webhooks import WebhookStore
from dispatch.service import DispatchService
from dispatch.webhooks.delivery import WebhookOutbox
from dispatch.webhooks.model import WebhookEndpoint
from tests.dispatch.helpers import DAY, OPERATOR, make_service, trip


class Sink:
    """The live stream (SSE) behind the outbox; ``fail`` makes it raise as a Redis outage might."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.got: list[tuple[str, dict[str, Any]]] = []

    def publish(self, company_id: str, event: Mapping[str, Any]) -> None:
        if self.fail:
            raise ConnectionError("stream down")
        self.got.append((company_id, dict(event)))


class Injected(RuntimeError):
    pass


class FailsAfterTheOutboxInsert(WebhookOutbox):
    """The outbox rows are added to the transaction, then the change fails before its commit."""

    def write_outbox(self, tx: Tx, company_id: str, event: Mapping[str, Any]) -> None:
        super().write_outbox(tx, company_id, event)
        tx.s.flush()  # the rows really reached the database inside the transaction
        raise Injected("failure injected after the outbox insert")


def setup(
    tmp_path: Path, outbox: type[WebhookOutbox] = WebhookOutbox, *, stream_fails: bool = False
) -> tuple[DispatchService, WebhookStore, Sink]:
    url = f"sqlite:///{tmp_path / 'o.db'}"
    svc, _ = make_service(url)
    store = WebhookStore(create_db_engine(url), create_db_engine(url, read_only=True))
    now = datetime.now(UTC)
    for c in svc.companies:  # wherever the booking lands, its company has a subscribed endpoint
        store.add_endpoint(
            WebhookEndpoint(f"W-{c}", c, "https://hooks.example/x", "whsec_t", ("run_changed",), True, now)
        )
    sink = Sink(fail=stream_fails)
    svc.ctx.notifier = outbox(sink, store)
    return svc, store, sink


def rows(svc: DispatchService, store: WebhookStore) -> list[dict[str, Any]]:
    got = [d for c in svc.companies for d in store.deliveries(f"W-{c}")]
    return [json.loads(d.payload) for d in sorted(got, key=lambda d: d.delivery_id)]


def test_a_committed_booking_has_its_outbox_row_and_the_stream_hears_after_commit(tmp_path: Path) -> None:
    svc, store, sink = setup(tmp_path)
    q = svc.quote(OPERATOR, trip("R0001", "yamaguchi-sta"))
    b = svc.confirm(OPERATOR, q.booking_id, 0)
    assert b.state is BookingStatus.SCHEDULED
    [ev] = rows(svc, store)
    assert ev["type"] == "run_changed" and ev["company_id"] == b.company_id
    assert ev["data"] == {**ev["data"], "vehicle_id": b.vehicle_id, "why": "booking_added"}
    assert [e for _c, e in sink.got] == [ev["data"]]  # the same event on the live stream
    svc.cancel(OPERATOR, b.booking_id, "test")
    assert [e["data"]["why"] for e in rows(svc, store)] == ["booking_added", "booking_cancel"]
    assert len(sink.got) == 2


def test_a_failure_after_the_outbox_insert_leaves_neither_booking_nor_outbox_row(tmp_path: Path) -> None:
    svc, store, sink = setup(tmp_path, FailsAfterTheOutboxInsert)
    q = svc.quote(OPERATOR, trip("R0001", "yamaguchi-sta"))
    with pytest.raises(Injected):
        svc.confirm(OPERATOR, q.booking_id, 0)
    assert svc.booking(OPERATOR, q.booking_id).state is BookingStatus.QUOTED  # not booked
    assert rows(svc, store) == []  # and no outbox row
    assert sink.got == []  # nobody was told
    assert all(p.version == 0 and not p.stops for p in _plans(svc).values())  # no run changed
    assert svc.check_day(DAY) == []


def test_a_stream_that_fails_after_commit_loses_neither_the_booking_nor_its_webhook(tmp_path: Path) -> None:
    svc, store, _sink = setup(tmp_path, stream_fails=True)
    q = svc.quote(OPERATOR, trip("R0001", "yamaguchi-sta"))
    b = svc.confirm(OPERATOR, q.booking_id, 0)  # acknowledged although the stream raised
    assert svc.booking(OPERATOR, b.booking_id).state is BookingStatus.SCHEDULED
    assert [e["data"]["why"] for e in rows(svc, store)] == ["booking_added"]


def _plans(svc: DispatchService) -> dict[str, Any]:
    with svc.repo.read() as tx:
        return tx.plans(DAY)
