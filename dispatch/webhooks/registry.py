"""Use cases for a company's webhook endpoints: register, list, remove, read the delivery log.

A company key acts for its own company only; another company's endpoint is a 404, as if it did not
exist. An operator may act for any company (it names the company when registering).
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from dispatch.domain import Principal
from dispatch.errors import Forbidden, Invalid, NotFound
from dispatch.persistence.webhooks import WebhookStore
from dispatch.webhooks.model import (
    DEFAULT_EVENT_TYPES,
    EVENT_TYPES,
    WebhookDelivery,
    WebhookEndpoint,
    new_secret,
)

MAX_ENDPOINTS_PER_COMPANY = 10
DEFAULT_OVERLAP_S = 24 * 3600  # a secret rotation: the old secret still signs for a day by default
MAX_OVERLAP_S = 7 * 24 * 3600


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Webhooks:
    def __init__(
        self,
        store: WebhookStore,
        company_ids: Callable[[], Sequence[str]],
        *,
        allow_http_loopback: bool = False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.company_ids = company_ids
        self.allow_http_loopback = allow_http_loopback
        self.clock = clock

    def _company(self, p: Principal, company_id: str | None) -> str:
        if p.role == "company" and p.company_id is not None:
            if company_id not in (None, p.company_id):
                raise NotFound(f"no company {company_id}", f"事業者 {company_id} が見つかりません")
            return p.company_id
        if p.role != "operator":
            raise Forbidden("companies and operators only", "事業者またはオペレーター専用の機能です")
        if not company_id:
            raise Invalid("an operator must name the company (company_id)", "事業者を指定してください")
        if company_id not in self.company_ids():
            raise NotFound(f"no company {company_id}", f"事業者 {company_id} が見つかりません")
        return company_id

    def _check_url(self, url: str) -> None:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if not host or parts.username or parts.password:
            raise Invalid(
                "the webhook URL needs a host and no user:password",
                "URLにホスト名が必要です（認証情報は不可）",
            )
        if parts.scheme == "https":
            return
        if parts.scheme == "http" and self.allow_http_loopback and _is_loopback(host):
            return
        raise Invalid("webhook URLs must be https://", "WebhookのURLは https:// で始めてください")

    def register(
        self, p: Principal, url: str, event_types: Sequence[str] | None = None, company_id: str | None = None
    ) -> WebhookEndpoint:
        company = self._company(p, company_id)
        self._check_url(url)
        types = tuple(dict.fromkeys(event_types or DEFAULT_EVENT_TYPES))
        unknown = [t for t in types if t not in EVENT_TYPES]
        if unknown:
            raise Invalid(
                f"unknown event types {unknown}; known: {sorted(EVENT_TYPES)}",
                f"イベント種別が正しくありません: {unknown}",
            )
        if len(self.store.endpoints(company, active_only=True)) >= MAX_ENDPOINTS_PER_COMPANY:
            raise Invalid(
                f"at most {MAX_ENDPOINTS_PER_COMPANY} endpoints per company",
                f"Webhookは1事業者{MAX_ENDPOINTS_PER_COMPANY}件までです",
                code="too_many_endpoints",
            )
        ep = WebhookEndpoint(
            "W" + uuid.uuid4().hex[:12], company, url, new_secret(), types, True, self.clock()
        )
        self.store.add_endpoint(ep)
        return ep

    def endpoint(self, p: Principal, endpoint_id: str) -> WebhookEndpoint:
        ep = self.store.endpoint(endpoint_id)
        if ep is None or (p.role == "company" and ep.company_id != p.company_id):
            raise NotFound(f"no webhook endpoint {endpoint_id}", f"Webhook {endpoint_id} が見つかりません")
        if p.role not in ("company", "operator"):
            raise Forbidden("companies and operators only", "事業者またはオペレーター専用の機能です")
        return ep

    def endpoints(self, p: Principal, company_id: str | None = None) -> list[WebhookEndpoint]:
        if p.role == "operator" and company_id is None:
            return self.store.endpoints()
        return self.store.endpoints(self._company(p, company_id))

    def rotate_secret(
        self, p: Principal, endpoint_id: str, overlap_s: int = DEFAULT_OVERLAP_S
    ) -> WebhookEndpoint:
        """A new secret for the endpoint; for ``overlap_s`` seconds every delivery carries the old
        secret's signature beside the new one, so the receiver can switch without losing events."""
        ep = self.endpoint(p, endpoint_id)
        if not ep.active:
            raise NotFound(f"no webhook endpoint {endpoint_id}", f"Webhook {endpoint_id} が見つかりません")
        if not 0 <= overlap_s <= MAX_OVERLAP_S:
            raise Invalid(
                f"overlap_s must be 0..{MAX_OVERLAP_S}",
                f"旧シークレットの有効期間は0〜{MAX_OVERLAP_S // 86400}日で指定してください",
            )
        now = self.clock()
        got = self.store.rotate_secret(ep.endpoint_id, new_secret(), now, now + timedelta(seconds=overlap_s))
        assert got is not None
        return got

    def remove(self, p: Principal, endpoint_id: str) -> WebhookEndpoint:
        ep = self.endpoint(p, endpoint_id)
        self.store.deactivate(ep.endpoint_id)
        return ep

    def deliveries(self, p: Principal, endpoint_id: str, limit: int = 100) -> list[WebhookDelivery]:
        return self.store.deliveries(self.endpoint(p, endpoint_id).endpoint_id, limit=limit)
