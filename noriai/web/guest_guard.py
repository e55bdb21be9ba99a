"""What stands between the open guest booking (no API key) and the dispatch service: rate limits per
client address and per phone number, the confirmation code sent to the phone (when turned on), and a
cap on the open future bookings one phone number may hold."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from dispatch.booking import BookingStatus
from dispatch.errors import Conflict, Invalid
from dispatch.service import DispatchService
from noriai.web.guard import RateLimiter, phone_digest, phone_digits
from noriai.web.phone_codes import PhoneCodes

# A booking that still holds (or may still take) a seat: the cap counts these.
OPEN_STATES = (
    BookingStatus.ON_CALL,
    BookingStatus.CONFIRMED,
    BookingStatus.SCHEDULED,
    BookingStatus.PICKED_UP,
)


class GuestGuard:
    def __init__(
        self,
        service: DispatchService,
        limiter: RateLimiter,
        codes: PhoneCodes,
        *,
        secret: str,
        open_bookings_max: int,
        phone_check: bool,
    ) -> None:
        self.service, self.limiter, self.codes = service, limiter, codes
        self.secret, self.open_bookings_max, self.phone_check = secret, open_bookings_max, phone_check
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def planner(self, address: str) -> None:
        self.limiter.hit("planner", address)

    def send_code(self, address: str, phone: str) -> int:
        self.limiter.hit("phone_code", "addr:" + address)
        self.limiter.hit("phone_code", "phone:" + phone_digest(phone, self.secret))
        return self.codes.issue(phone)

    @contextmanager
    def guest_booking(self, address: str, phone: str, code: str | None) -> Iterator[None]:
        """Checks before a guest booking; the booking is made inside the block, one at a time per
        phone number in this process, so the cap cannot be overrun by parallel requests here."""
        digest = phone_digest(phone, self.secret)
        self.limiter.hit("guest_booking", address)
        self.limiter.hit("guest_phone", digest)
        if self.phone_check:
            if not code:
                raise Invalid(
                    "this booking needs the code sent to the phone: POST /api/v1/plan/phone-codes first",
                    "携帯電話に送った確認コードを入力してください",
                    code="code_required",
                )
            if not self.codes.verify(phone, code):
                raise Invalid(
                    "wrong or expired confirmation code", "確認コードが違うか、期限切れです", code="bad_code"
                )
        with self._lock_for(digest):
            if self.open_bookings(phone) >= self.open_bookings_max:
                raise Conflict(
                    f"this phone number already has {self.open_bookings_max} open bookings",
                    f"この電話番号のご予約は{self.open_bookings_max}件までです。"
                    "変更はお電話でお問い合わせください",
                    code="open_bookings_limit",
                )
            yield

    def open_bookings(self, phone: str) -> int:
        """Open bookings from today on of every rider with this phone number."""
        digits = phone_digits(phone)
        today = self.service.now().date()
        states = [s.value for s in OPEN_STATES]
        with self.service.repo.read() as tx:
            found = [
                b
                for r in tx.riders_by_phone(digits)
                for b in tx.bookings(rider_id=r.rider_id, statuses=states)
            ]
        return sum(1 for b in found if b.service_date >= today)

    def _lock_for(self, digest: str) -> threading.Lock:
        with self._locks_lock:
            if len(self._locks) > 10_000:
                self._locks = {k: v for k, v in self._locks.items() if v.locked()}
            return self._locks.setdefault(digest, threading.Lock())
