"""Guards in front of the routes: a request body limit applied before anything is parsed, 422 answers
that never echo the input back, rate limits on the open endpoints (per client address and per phone
number, with the ``limits`` library on Redis or in process) and their 429 answer, and the error schema
the OpenAPI document lists for every operation.

Phone numbers never reach Redis or a log: rate-limit keys use a keyed hash of the digits
(``phone_digest``), so the keys cannot be reversed by trying the few billion phone numbers.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bus_location.live_redis import fast_redis
from dispatch.errors import DispatchError
from noriai.web.errors import field_errors, http_error_body

log = logging.getLogger("noriai.web.guard")


class ErrorOut(BaseModel):
    """Every 4xx answer of the API: a stable code and the same sentence in English and Japanese."""

    error: str
    message: str
    message_ja: str
    detail: list[dict[str, Any]] | str | None = None
    fields: list[dict[str, str]] | None = None  # 422: each bad field, its code and both sentences


ERROR_STATUSES = {
    400: "the body is not JSON (or not UTF-8)",
    401: "no API key, or an unknown, revoked or expired one",
    403: "the key's role may not do this",
    404: "no such resource (or not visible to this key)",
    409: "the request conflicts with the current state",
    413: "request body too large",
    422: "invalid input (nothing was changed)",
    429: "too many requests: retry after the time in Retry-After",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: the listed error statuses with the error schema."""
    return {s: {"model": ErrorOut, "description": ERROR_STATUSES[s]} for s in statuses}


class TooManyRequests(DispatchError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            f"too many requests; try again in {retry_after_s} s",
            f"リクエストが多すぎます。{retry_after_s}秒後にもう一度お試しください",
        )
        self.retry_after_s = retry_after_s


class PayloadTooLarge(DispatchError):
    status_code = 413
    code = "payload_too_large"


def phone_digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch in "0123456789")


def phone_digest(phone: str, secret: str) -> str:
    """A keyed hash of a phone number's digits: the same number gives the same key, and the key says
    nothing about the number to whoever reads Redis without the secret."""
    return hmac.new(secret.encode(), phone_digits(phone).encode(), hashlib.sha256).hexdigest()[:32]


# --- body size limit --------------------------------------------------------------------------------


class BodyLimit:
    """Refuses a request body over ``max_bytes`` with 413 before any route reads it: by its
    Content-Length when given, else while it streams in (chunked uploads are counted)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and (not value.isdigit() or int(value) > self.max_bytes):
                await self._refuse(send)
                return
        seen = 0
        over = False

        async def counted() -> Message:
            # Past the limit the app gets an empty end of body (its parse fails, nothing is kept) and its
            # answer is replaced by the 413 below.
            nonlocal seen, over
            if over:
                return {"type": "http.request", "body": b"", "more_body": False}
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_bytes:
                    over = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return msg

        async def watched(msg: Message) -> None:
            if not over:
                await send(msg)
            elif msg["type"] == "http.response.start":
                await self._refuse(send)

        await self.app(scope, counted, watched)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {
                "error": PayloadTooLarge.code,
                "message": f"request body over {self.max_bytes} bytes",
                "message_ja": f"送信データが大きすぎます（{self.max_bytes}バイトまで）",
            },
            ensure_ascii=False,
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


# --- 422 without echo -------------------------------------------------------------------------------


def _clean(text: str, limit: int) -> str:
    """At most ``limit`` characters, valid UTF-8 (a lone surrogate becomes its escape)."""
    text = text[:limit]
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def validation_errors(errors: Any) -> list[dict[str, Any]]:
    """Where and why, never what: the input is left out (it may be megabytes, NaN, or personal data)."""
    out = []
    for e in list(errors)[:10]:
        out.append(
            {
                "loc": [_clean(str(x), 40) for x in e.get("loc", ())][:6],
                "type": _clean(str(e.get("type", "")), 60),
                "msg": _clean(str(e.get("msg", "")), 200),
            }
        )
    return out


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(
        {
            "error": "invalid",
            "message": "the request is not valid; see detail",
            "message_ja": "入力内容が正しくありません",
            "detail": validation_errors(exc.errors()),
            # each bad field with its own code and sentences, for pages to show next to the field
            "fields": field_errors(exc.errors()),
        },
        status_code=422,
    )


async def _dispatch_error(request: Request, exc: Exception) -> JSONResponse:
    """Any refusal of the dispatch use cases: its status, code and both sentences."""
    assert isinstance(exc, DispatchError)
    return JSONResponse(
        {"error": exc.code, "message": exc.message_en, "message_ja": exc.message_ja},
        status_code=exc.status_code,
    )


async def _too_many(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TooManyRequests)
    return JSONResponse(
        {"error": exc.code, "message": exc.message_en, "message_ja": exc.message_ja},
        status_code=429,
        headers={"Retry-After": str(exc.retry_after_s)},
    )


# --- rate limits ------------------------------------------------------------------------------------


class RateLimiter:
    """Named limits (``"guest_booking": "10/minute;30/hour"``) kept in Redis when configured, so all
    app processes share them, else in process. When Redis does not answer, the in-process counters
    take over (a limit per process is better than none, and a booking never waits on Redis)."""

    def __init__(self, rules: dict[str, str], redis_url: str | None = None, timeout_s: float = 0.2) -> None:
        self.rules: dict[str, list[RateLimitItem]] = {k: parse_many(v) for k, v in rules.items() if v}
        self._memory = MovingWindowRateLimiter(MemoryStorage())
        self._redis: MovingWindowRateLimiter | None = None
        if redis_url:
            pool = fast_redis(redis_url, timeout_s).connection_pool
            storage: Storage = RedisStorage(redis_url, connection_pool=pool, wrap_exceptions=True)
            self._redis = MovingWindowRateLimiter(storage)

    def hit(self, name: str, key: str) -> None:
        """Count one request of ``name`` by ``key``; TooManyRequests when a limit is already used up."""
        for item in self.rules.get(name, ()):
            ok = self._hit(item, name, key)
            if not ok:
                raise TooManyRequests(max(1, item.get_expiry()))

    def _hit(self, item: RateLimitItem, name: str, key: str) -> bool:
        if self._redis is not None:
            try:
                return self._redis.hit(item, name, key)
            except StorageError:
                log.warning("rate-limit store unreachable; counting in process")
        return self._memory.hit(item, name, key)

    def reset(self) -> None:
        self._memory.storage.reset()
        if self._redis is not None:
            with contextlib.suppress(StorageError):
                self._redis.storage.reset()


def client_address(request: Request) -> str:
    """The caller's address (behind a proxy, uvicorn's --proxy-headers puts the real one here)."""
    return request.client.host if request.client else "unknown"


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own errors (unknown path, wrong method, a route's HTTPException) in the error schema:
    a route's ``{"error", "message", "message_ja"}`` detail as it is, else the status's code with an
    English and a Japanese sentence; ``detail`` keeps FastAPI's sentence for clients that read it."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        body = dict(_INVALID_JSON)
    else:
        body = http_error_body(exc.status_code, exc.detail)
    body = {k: _clean(v, 300) for k, v in body.items()}
    body["detail"] = body["message"] if isinstance(exc.detail, Mapping) else _clean(str(exc.detail), 300)
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request, headers.get("Allow", "")))
    return JSONResponse(body, status_code=exc.status_code, headers=headers or None)


# FastAPI's answer to a body that is not JSON (or not UTF-8), with its own code.
_INVALID_JSON = {
    "error": "invalid_json",
    "message": "the body is not valid JSON (or not UTF-8)",
    "message_ja": "送信データをJSONとして読めません（UTF-8でない可能性があります）",
}


def allowed_methods(request: Request, first: str = "") -> list[str]:
    """Every method the OpenAPI document gives this path (plus ``first``, the methods of the route that
    answered): Starlette's 405 names only the first route that matched the path, while one path may
    have several routes (GET and DELETE of one resource)."""
    app = request.app
    index: list[tuple[re.Pattern[str], set[str]]] | None = getattr(app.state, "allow_index", None)
    if index is None:
        index = []
        for template, ops in app.openapi().get("paths", {}).items():
            regex = re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(template))
            index.append((re.compile(regex), {m.upper() for m in ops}))
        app.state.allow_index = index
    methods = {m.strip() for m in first.split(",") if m.strip()}
    for pattern, ops in index:
        if pattern.fullmatch(request.url.path):
            methods |= ops
    return sorted(methods)


def _document_errors(app: FastAPI) -> None:
    """Every operation in the OpenAPI document lists the error statuses it can answer, with the error
    schema: 422 always; 401 and 403 where a key is read; 404 with path parameters or a body (ids);
    409 for writes; 413 with a body. Routes add what else they answer (429) with ``error_responses``."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
        )
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["ErrorOut"] = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        ref = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
        for ops in schema.get("paths", {}).values():
            for method, op in ops.items():
                params = op.get("parameters", [])
                statuses = {422}
                if any(p.get("in") == "header" and p.get("name", "").lower() == "x-api-key" for p in params):
                    statuses |= {401, 403}
                if any(p.get("in") == "path" for p in params) or "requestBody" in op:
                    statuses.add(404)  # a path id, or an id in the body (rider, place, vehicle)
                if method in ("post", "put", "patch", "delete"):
                    statuses.add(409)
                if "requestBody" in op:
                    statuses |= {400, 413}
                responses = op.setdefault("responses", {})
                for code in sorted(statuses | {int(c) for c in responses if c.isdigit() and int(c) >= 400}):
                    entry = responses.setdefault(
                        str(code), {"description": ERROR_STATUSES.get(code, "error")}
                    )
                    if set(entry.get("content", {})) <= {"application/json"}:
                        entry["content"] = ref  # a route's own media type (FHIR) is kept
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_guards(app: FastAPI, *, max_body_bytes: int) -> None:
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(DispatchError, _dispatch_error)
    app.add_exception_handler(TooManyRequests, _too_many)
    app.add_exception_handler(HTTPException, _http_error)
    _document_errors(app)
