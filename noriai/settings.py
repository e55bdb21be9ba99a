"""Settings from the environment (pydantic-settings). Defaults give the embedded demo set-up."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DB_PATH = Path("var") / "noriai.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_DB_PATH}",
        description="SQLAlchemy URL; SQLite file by default, postgresql+psycopg://... for PostgreSQL",
    )
    redis_url: str | None = Field(
        default=None, description="redis://host:port/db for live state; unset = in-process store"
    )
    redis_timeout_s: float = Field(default=0.2, description="socket and connect timeout for Redis calls")
    gtfs_rt_urls: str = Field(
        default="", description="comma-separated GTFS-Realtime URLs for the city-bus feed (polled every 15 s)"
    )
    log_level: str = Field(default="INFO")
    log_json: bool = Field(
        default=True, description="JSON lines on stderr (personal data scrubbed either way)"
    )
    operator_api_key: str | None = Field(
        default=None, description="seed one operator API key at start (stored hashed); the demo adds its own"
    )
    osm_file: str | None = Field(
        default=None, description=".osm/.osm.pbf road network for travel times; unset = straight-line model"
    )
    reoptimise_interval_s: float = Field(
        default=900.0, description="re-optimise today's plan this often (0 = only on demand)"
    )
    reoptimise_time_limit_s: float = Field(
        default=5.0, description="solver time per scheduled re-optimisation"
    )
    gbfs_url: str | None = Field(
        default=None,
        description="gbfs.json URL of the city's bike share (polled per its ttl); unset = demo bike share",
    )
    role: Literal["all", "api", "runner"] = Field(
        default="all",
        description="api: serve requests only; runner: also a candidate for the background-jobs lease; "
        "all (default, one process): both",
    )
    runner_lease_ttl_s: float = Field(
        default=15.0, description="runner lease time: a dead runner is replaced after about this long"
    )
    materialise_interval_s: float = Field(
        default=3600.0, description="book recurring rides this often (0 = only on demand)"
    )
    flight_status_interval_s: float = Field(
        default=120.0,
        description="poll the city's flight-status feed ([airport] status_url) this often (0 = never)",
    )
    materialise_days_ahead: int = Field(
        default=7, description="recurring rides are booked this many days ahead"
    )
    db_pool_size: int = Field(default=10, description="PostgreSQL connections kept per engine and process")
    db_max_overflow: int = Field(default=20, description="extra PostgreSQL connections per engine under load")
    map_tile_url: str = Field(
        default="https://cyberjapandata.gsi.go.jp/xyz/std/{z}/{x}/{y}.png",
        description="street map tiles for the company view ({z}/{x}/{y}); GSI 地理院タイル by default, "
        "e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png; empty = schematic map only",
    )
    map_tile_attribution: str = Field(
        default='<a href="https://maps.gsi.go.jp/development/ichiran.html">地理院タイル</a>',
        description="attribution shown on the map (HTML), as the tile provider requires",
    )
    guest_link_secret: str | None = Field(
        default=None,
        description="signs the cancel links of trip-planner bookings; unset = random per start "
        "(links then stop working after a restart)",
    )
    max_walk_m: float = Field(default=800.0, description="trip planner: longest walk to or from a stop")
    booking_phone: str = Field(
        default="083-000-1000", description="shared-taxi booking centre phone, published in GTFS-Flex"
    )
    webhook_backoff_s: list[float] = Field(
        default_factory=lambda: [10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0] + [3600.0] * 20,
        description="webhooks: delay before each retry (JSON list); after the last, a delivery is failed",
    )
    webhook_poll_s: float = Field(default=1.0, description="webhooks: how often the deliverer looks for work")
    webhook_timeout_s: float = Field(default=5.0, description="webhooks: HTTP timeout per delivery attempt")
    webhook_allow_http_loopback: bool = Field(
        default=False, description="webhooks: accept http://127.0.0.1 endpoints (tests, local receivers)"
    )
    clinic_arrival_margin_s: int = Field(
        default=900, description="hospital appointments: arrive this long before the appointment's start"
    )
    clinic_return_after_s: int = Field(
        default=600,
        description="hospital appointments: the ride home is picked up from this long after the end",
    )
    # --- abuse limits and personal data (SECURITY.md) ---------------------------------------------------
    max_body_bytes: int = Field(default=65_536, description="request bodies over this are refused (413)")
    rate_guest_booking: str = Field(
        default="10/minute;30/hour", description="guest taxi bookings per client address (limits syntax)"
    )
    rate_guest_phone: str = Field(default="5/hour;20/day", description="guest taxi bookings per phone number")
    rate_planner: str = Field(default="120/minute", description="trip-planner searches per client address")
    rate_phone_code: str = Field(
        default="3/10minute;10/day", description="confirmation codes sent per phone number and per address"
    )
    guest_open_bookings_max: int = Field(
        default=4, description="open future bookings one guest phone number may hold"
    )
    guest_phone_check: bool = Field(
        default=False,
        description="guest bookings need a code sent by SMS to the phone first (turn on in production)",
    )
    pii_hash_secret: str = Field(
        default="noriai-demo-secret",
        description="key of the hashes that stand for phone numbers in Redis (rate limits, codes); set it",
    )
    retention_days: int = Field(
        default=400, description="finished trips older than this are anonymised by the background runner"
    )
