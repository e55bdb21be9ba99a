"""Dispatch: bookings, planning, companies, persistence and live state of the shared-taxi service.

``DispatchService`` is the facade over the use cases (``quotes``, ``operations``, ``runs``,
``recurring``, ``access``); ``Repository`` the only door to the database; ``make_notifier`` and
``make_live_store`` build company change streams and live positions (Redis, or in process).
"""

from dispatch.booking import BookingEvent, BookingStatus, QuoteOption, TimeMode, TimeRequest, next_status
from dispatch.errors import Conflict, DispatchError, Forbidden, Invalid, NotFound
from dispatch.inputs import Endpoint, EndpointKind, GuestBookingRequest, QuoteRequest, RuleRequest
from dispatch.live import make_live_store
from dispatch.notify import make_notifier
from dispatch.persistence.repository import Repository
from dispatch.service import DispatchService

__all__ = [
    "BookingEvent",
    "BookingStatus",
    "Conflict",
    "DispatchError",
    "DispatchService",
    "Endpoint",
    "EndpointKind",
    "Forbidden",
    "GuestBookingRequest",
    "Invalid",
    "NotFound",
    "QuoteOption",
    "QuoteRequest",
    "Repository",
    "RuleRequest",
    "TimeMode",
    "TimeRequest",
    "make_live_store",
    "make_notifier",
    "next_status",
]
