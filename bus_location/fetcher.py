"""Polling realtime feeds over HTTP with an injectable transport (tests use httpx.MockTransport).

Respects the polling interval (``ttl_s``), sends ``If-None-Match`` with the last ETag, times out
quickly, and never raises into the polling loop: every outcome is a ``FetchResult``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx


@dataclass(frozen=True, slots=True)
class FetchResult:
    url: str
    status: str  # "ok" | "not_modified" | "too_soon" | "error"
    data: bytes | None = None
    error: str | None = None


class Fetcher:
    def __init__(
        self,
        url: str,
        *,
        ttl_s: float = 30.0,
        timeout_s: float = 5.0,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.ttl_s = ttl_s
        self._client = httpx.Client(transport=transport, timeout=timeout_s, follow_redirects=True)
        self._etag: str | None = None
        self._last: float | None = None
        self._clock = clock

    def set_ttl(self, ttl_s: float) -> None:
        """Feeds announce their own interval (GBFS ``ttl``); honour it, but never below one second."""
        self.ttl_s = max(1.0, ttl_s)

    def poll(self) -> FetchResult:
        now = self._clock()
        if self._last is not None and now - self._last < self.ttl_s:
            return FetchResult(self.url, "too_soon")
        self._last = now
        headers = {"If-None-Match": self._etag} if self._etag else {}
        try:
            r = self._client.get(self.url, headers=headers)
        except httpx.HTTPError as exc:
            return FetchResult(self.url, "error", error=f"{type(exc).__name__}: {exc}")
        if r.status_code == 304:
            return FetchResult(self.url, "not_modified")
        if r.status_code != 200:
            return FetchResult(self.url, "error", error=f"HTTP {r.status_code}")
        self._etag = r.headers.get("ETag", self._etag)
        return FetchResult(self.url, "ok", data=r.content)

    def close(self) -> None:
        self._client.close()
