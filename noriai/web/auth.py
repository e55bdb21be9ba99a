"""API keys on requests: ``X-API-Key`` (or ``Authorization: Bearer``), looked up as a digest and cached
for 60 s (so a revoked or expired key can work for up to a minute more; SECURITY.md).

(No ``from __future__ import annotations``: FastAPI reads the dependencies' annotations at runtime.)
"""

import time
from typing import Annotated

from fastapi import Depends, Header

from dispatch.domain import Principal
from dispatch.errors import DispatchError, Forbidden
from dispatch.persistence.repository import Repository


class Unauthorized(DispatchError):
    status_code = 401
    code = "unauthorized"


def api_key(x_api_key: str | None, authorization: str | None) -> str | None:
    if x_api_key is not None:
        return x_api_key
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None


class KeyCache:
    """Key -> principal for 60 s, so each request does not hash and query."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    def lookup(self, key: str) -> Principal | None:
        hit = self._cache.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        with self.repo.read() as tx:
            p = tx.principal_for_key(key)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (time.monotonic() + 60, p)
        return p

    def principal(self, key: str | None) -> Principal:
        if not key:
            raise Unauthorized("missing API key (X-API-Key header)", "APIキーがありません")
        p = self.lookup(key)
        if p is None:
            raise Unauthorized("unknown API key", "APIキーが正しくありません")
        return p


class Auth:
    """The FastAPI dependencies of the dispatch API: ``any_key`` (an operator or company key; other
    roles get 403) and ``operator``."""

    def __init__(self, repo: Repository) -> None:
        self.keys = KeyCache(repo)

        def any_key(
            x_api_key: Annotated[str | None, Header()] = None,
            authorization: Annotated[str | None, Header()] = None,
        ) -> Principal:
            p = self.keys.principal(api_key(x_api_key, authorization))
            if p.role not in ("operator", "company"):  # a clinic key may only post FHIR appointments
                raise Forbidden("this key may not use the dispatch API", "このキーでは利用できません")
            return p

        def operator(p: Annotated[Principal, Depends(any_key)]) -> Principal:
            if p.role != "operator":
                raise Forbidden("operators only", "オペレーター専用の機能です")
            return p

        self.any_key, self.operator = any_key, operator
