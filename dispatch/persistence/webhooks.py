"""Webhook endpoints and the delivery outbox (tables ``webhook_endpoint``, ``webhook_delivery``).

The outbox is the database: an event is written as one ``pending`` row per subscribed endpoint, and a
deliverer (any process) *claims* the oldest pending row of each (endpoint, vehicle) queue with a short
lease before sending it, so rows of one vehicle go out one at a time, in order, and two deliverers
never send the same row at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import func, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dispatch.persistence.tables import WebhookDeliveryRow, WebhookEndpointRow
from dispatch.webhooks.model import DeliveryStatus, WebhookDelivery, WebhookEndpoint


def _endpoint(row: WebhookEndpointRow) -> WebhookEndpoint:
    return WebhookEndpoint(
        row.endpoint_id,
        row.company_id,
        row.url,
        row.secret,
        tuple(t for t in row.event_types.split(",") if t),
        row.active,
        row.created_at,
        row.previous_secret,
        row.previous_secret_expires_at,
    )


def _delivery(row: WebhookDeliveryRow) -> WebhookDelivery:
    assert row.delivery_id is not None
    return WebhookDelivery(
        row.delivery_id,
        row.endpoint_id,
        row.company_id,
        row.event_id,
        row.event_type,
        row.ordering_key,
        row.payload,
        DeliveryStatus(row.status),
        row.attempts,
        row.next_attempt_at,
        row.last_status_code,
        row.last_error,
        row.created_at,
        row.delivered_at,
    )


def _subscribed(s: Session, company_id: str, event_type: str) -> list[WebhookEndpoint]:
    rows = s.exec(
        select(WebhookEndpointRow).where(
            WebhookEndpointRow.company_id == company_id, col(WebhookEndpointRow.active).is_(True)
        )
    ).all()
    return [ep for ep in map(_endpoint, rows) if event_type in ep.event_types]


def add_deliveries(
    s: Session,
    company_id: str,
    event_type: str,
    ordering_key: str,
    event_id: str,
    payload: Callable[[WebhookEndpoint], str],
    now: datetime,
) -> int:
    """Add one pending row per active endpoint of ``company_id`` subscribed to ``event_type`` to the
    session's transaction (committed or rolled back with whatever else it holds: the booking's)."""
    targets = _subscribed(s, company_id, event_type)
    for ep in targets:
        s.add(
            WebhookDeliveryRow(
                endpoint_id=ep.endpoint_id,
                company_id=company_id,
                event_id=event_id,
                event_type=event_type,
                ordering_key=ordering_key,
                payload=payload(ep),
                status=DeliveryStatus.PENDING.value,
                next_attempt_at=now,
                created_at=now,
            )
        )
    return len(targets)


class WebhookStore:
    def __init__(self, engine: Engine, read_engine: Engine | None = None) -> None:
        self.engine = engine
        self.read_engine = read_engine or engine

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    # --- endpoints ---------------------------------------------------------------------------------
    def add_endpoint(self, ep: WebhookEndpoint) -> None:
        with self._session() as s:
            s.add(
                WebhookEndpointRow(
                    endpoint_id=ep.endpoint_id,
                    company_id=ep.company_id,
                    url=ep.url,
                    secret=ep.secret,
                    event_types=",".join(ep.event_types),
                    active=ep.active,
                    created_at=ep.created_at,
                )
            )
            s.commit()

    def endpoint(self, endpoint_id: str) -> WebhookEndpoint | None:
        with self._session() as s:
            row = s.get(WebhookEndpointRow, endpoint_id)
            return _endpoint(row) if row else None

    def endpoints(self, company_id: str | None = None, *, active_only: bool = False) -> list[WebhookEndpoint]:
        stmt = select(WebhookEndpointRow)
        if company_id is not None:
            stmt = stmt.where(WebhookEndpointRow.company_id == company_id)
        if active_only:
            stmt = stmt.where(col(WebhookEndpointRow.active).is_(True))
        with self._session() as s:
            return [_endpoint(r) for r in s.exec(stmt.order_by(col(WebhookEndpointRow.created_at)))]

    def rotate_secret(
        self, endpoint_id: str, new_secret: str, now: datetime, expires_at: datetime
    ) -> WebhookEndpoint | None:
        """Replace the secret; the current one keeps signing until ``expires_at`` (no overlap when
        that is not after ``now``). A rotation during an overlap drops the oldest secret."""
        with self._session() as s:
            row = s.get(WebhookEndpointRow, endpoint_id, with_for_update=True)
            if row is None:
                return None
            overlap = expires_at > now
            row.previous_secret = row.secret if overlap else None
            row.previous_secret_expires_at = expires_at if overlap else None
            row.secret = new_secret
            s.add(row)
            s.commit()
            return _endpoint(row)

    def deactivate(self, endpoint_id: str) -> None:
        """Stop sending to an endpoint; its pending rows are marked failed (the log keeps them)."""
        with self._session() as s:
            row = s.get(WebhookEndpointRow, endpoint_id)
            if row is not None:
                row.active = False
                s.add(row)
                s.execute(
                    update(WebhookDeliveryRow)
                    .where(
                        col(WebhookDeliveryRow.endpoint_id) == endpoint_id,
                        col(WebhookDeliveryRow.status) == DeliveryStatus.PENDING.value,
                    )
                    .values(status=DeliveryStatus.FAILED.value, last_error="endpoint removed")
                )
            s.commit()

    # --- the outbox --------------------------------------------------------------------------------
    def enqueue(
        self,
        company_id: str,
        event_type: str,
        ordering_key: str,
        event_id: str,
        payload: Callable[[WebhookEndpoint], str],
        now: datetime,
    ) -> int:
        """One pending row per active endpoint of ``company_id`` subscribed to ``event_type``, in a
        transaction of its own (events that belong to no booking change: positions). The endpoints are
        read first on the reader engine, so an event nobody subscribed to costs no write."""
        with Session(self.read_engine) as s:
            if not _subscribed(s, company_id, event_type):
                return 0
        with self._session() as s:
            n = add_deliveries(s, company_id, event_type, ordering_key, event_id, payload, now)
            s.commit()
        return n

    def due(self, now: datetime, limit: int = 100) -> list[tuple[WebhookDelivery, WebhookEndpoint]]:
        """The head (oldest pending row) of each (endpoint, vehicle) queue, if it is due and not leased."""
        heads = (
            select(func.min(WebhookDeliveryRow.delivery_id))
            .where(col(WebhookDeliveryRow.status) == DeliveryStatus.PENDING.value)
            .group_by(col(WebhookDeliveryRow.endpoint_id), col(WebhookDeliveryRow.ordering_key))
        )
        stmt = (
            select(WebhookDeliveryRow, WebhookEndpointRow)
            .join(
                WebhookEndpointRow, col(WebhookEndpointRow.endpoint_id) == col(WebhookDeliveryRow.endpoint_id)
            )
            .where(
                col(WebhookDeliveryRow.delivery_id).in_(heads),
                col(WebhookDeliveryRow.next_attempt_at) <= now,
                or_(col(WebhookDeliveryRow.lease_until).is_(None), col(WebhookDeliveryRow.lease_until) < now),
            )
            .order_by(col(WebhookDeliveryRow.delivery_id))
            .limit(limit)
        )
        with self._session() as s:
            return [(_delivery(d), _endpoint(e)) for d, e in s.exec(stmt).all()]

    def claim(self, delivery_id: int, now: datetime, lease_until: datetime) -> bool:
        """Take a row for one attempt; False if another deliverer holds it or it is no longer pending."""
        with self._session() as s:
            res = s.execute(
                update(WebhookDeliveryRow)
                .where(
                    col(WebhookDeliveryRow.delivery_id) == delivery_id,
                    col(WebhookDeliveryRow.status) == DeliveryStatus.PENDING.value,
                    or_(
                        col(WebhookDeliveryRow.lease_until).is_(None),
                        col(WebhookDeliveryRow.lease_until) < now,
                    ),
                )
                .values(lease_until=lease_until)
            )
            s.commit()
            return bool(getattr(res, "rowcount", 0) == 1)

    def record_attempt(
        self,
        delivery_id: int,
        *,
        delivered: bool,
        status_code: int | None,
        error: str,
        now: datetime,
        retry_at: datetime | None,
    ) -> None:
        """The outcome of one attempt. ``retry_at`` None after a failure means: give up (failed)."""
        with self._session() as s:
            row = s.get(WebhookDeliveryRow, delivery_id)
            if row is None:
                return
            row.attempts += 1
            row.last_status_code = status_code
            row.last_error = error[:200]
            row.lease_until = None
            if delivered:
                row.status = DeliveryStatus.DELIVERED.value
                row.delivered_at = now
            elif retry_at is None:
                row.status = DeliveryStatus.FAILED.value
            else:
                row.next_attempt_at = retry_at
            s.add(row)
            s.commit()

    def deliveries(
        self, endpoint_id: str, *, limit: int = 100, statuses: Sequence[DeliveryStatus] | None = None
    ) -> list[WebhookDelivery]:
        """The delivery log of one endpoint, newest first."""
        stmt = select(WebhookDeliveryRow).where(WebhookDeliveryRow.endpoint_id == endpoint_id)
        if statuses is not None:
            stmt = stmt.where(col(WebhookDeliveryRow.status).in_([s.value for s in statuses]))
        with self._session() as s:
            rows = s.exec(stmt.order_by(col(WebhookDeliveryRow.delivery_id).desc()).limit(limit)).all()
            return [_delivery(r) for r in rows]
