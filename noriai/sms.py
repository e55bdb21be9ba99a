"""Text messages to riders' phones (the guest booking's confirmation code). A pluggable sender: the
city wires its SMS gateway behind ``SmsSender``; the demo and tests use the senders below.

No sender here logs a phone number: the log sender names the message by a random reference instead.
"""

from __future__ import annotations

import logging
import secrets
import threading
from typing import Protocol

log = logging.getLogger("noriai.sms")


class SmsSender(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class LogSmsSender:
    """The demo's sender: the message goes to the log (the phone number does not, nor any hash of it:
    a hash of a phone number is easily reversed by trying them all)."""

    def send(self, phone: str, text: str) -> None:
        ref = secrets.token_hex(4)
        log.info("SMS (demo, not sent) ref=%s: %s", ref, text)


class MemorySmsSender:
    """Keeps the messages in memory, for tests that read the code as the rider's phone would."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def send(self, phone: str, text: str) -> None:
        with self._lock:
            self.sent.append((phone, text))

    def last_to(self, phone: str) -> str | None:
        with self._lock:
            return next((t for p, t in reversed(self.sent) if p == phone), None)
