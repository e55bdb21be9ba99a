"""Idempotency keys: one piece of work per (caller, key), bound to a hash of the request."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from dispatch.booking import Booking
from dispatch.context import DispatchContext
from dispatch.domain import Principal
from dispatch.errors import Conflict, Invalid
from dispatch.persistence.repository import Claim


def run_once(
    ctx: DispatchContext,
    principal: Principal,
    key: str,
    request: Mapping[str, Any],
    work: Callable[[str], Booking],
) -> Booking:
    """Run ``work`` once per (caller, key). The key is claimed in the database before the work
    starts, so concurrent retries wait for the first answer (instead of racing it) and then get the
    same booking; a claim whose work failed is released so that a retry can do it again."""
    scope = hashlib.sha256(f"{principal.actor}\x00{key}".encode()).hexdigest()
    digest = hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()
    deadline = time.monotonic() + ctx.idempotency_wait_s
    pause = 0.02
    while True:
        try:
            with ctx.repo.write() as tx:
                claim = tx.claim_idempotency(scope, digest, datetime.now(UTC), ctx.idempotency_stale_s)
        except IntegrityError:  # a concurrent request claimed the same key first: wait for it
            claim = Claim("in_progress")
        if claim.state == "mismatch":
            raise Invalid(
                "this Idempotency-Key was already used for a different request",
                "この操作キーは別の内容の申込みで使われています。新しいキーでやり直してください",
                code="idempotency_key_mismatch",
            )
        if claim.state == "done":
            assert claim.booking_id is not None
            with ctx.repo.read() as tx:
                done = tx.booking(claim.booking_id)
            assert done is not None
            return done
        if claim.state == "new":
            break
        if time.monotonic() > deadline:
            raise Conflict(
                "a request with this Idempotency-Key is still being processed; retry shortly",
                "同じ操作キーの申込みを処理中です。少し待ってからもう一度お試しください",
                code="idempotency_in_progress",
            )
        time.sleep(pause)
        pause = min(pause * 2, 0.25)
    try:
        return work(scope)
    except BaseException:
        with ctx.repo.write() as tx:
            tx.release_idempotency(scope)
        raise
