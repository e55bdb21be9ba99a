"""Settings from the environment (pydantic-settings). Defaults give the embedded demo set-up."""

from __future__ import annotations

from pathlib import Path

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
