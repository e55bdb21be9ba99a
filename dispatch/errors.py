"""Errors of the dispatch use cases; the web layer maps each to an HTTP status with its code and both
sentences (Japanese for the operator's screen, English for logs and API clients)."""

from __future__ import annotations


class DispatchError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(self, message_en: str, message_ja: str = "", *, code: str | None = None) -> None:
        super().__init__(message_en)
        self.message_en = message_en
        self.message_ja = message_ja or message_en
        if code:
            self.code = code


class NotFound(DispatchError):
    status_code = 404
    code = "not_found"


class Conflict(DispatchError):
    status_code = 409
    code = "conflict"


class Invalid(DispatchError):
    status_code = 422
    code = "invalid"


class Forbidden(DispatchError):
    status_code = 403
    code = "forbidden"
