"""API keys -> the caller (``Principal``), cached for 60 s, as a FastAPI dependency for routers that
live outside ``noriai.web.api`` (webhooks, FHIR)."""

from collections.abc import Callable
from typing import Annotated

from fastapi import Header

from dispatch.domain import Principal
from dispatch.persistence.repository import Repository
from noriai.web.auth import KeyCache, Unauthorized


def key_from_headers(x_api_key: str | None, authorization: str | None) -> str | None:
    if x_api_key is None and authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return x_api_key


def api_key_principal(repo: Repository) -> Callable[..., Principal]:
    """The caller of a request, from ``X-API-Key`` or ``Authorization: Bearer`` (as the dispatch API)."""
    keys = KeyCache(repo)

    def principal(
        x_api_key: Annotated[str | None, Header()] = None,
        authorization: Annotated[str | None, Header()] = None,
    ) -> Principal:
        key = key_from_headers(x_api_key, authorization)
        p = keys.lookup(key) if key else None
        if p is None:
            raise Unauthorized("missing or unknown API key", "APIキーがないか正しくありません")
        return p

    return principal
