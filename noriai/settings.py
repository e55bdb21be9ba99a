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
