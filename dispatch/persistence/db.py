"""Engine creation. SQLite gets WAL and a busy timeout; booking writes use BEGIN IMMEDIATE (see
../shared/OPERATIONS.md: plain BEGIN produced 'database is locked' under 16 writers, IMMEDIATE none)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine, make_url
from sqlmodel import create_engine

from dispatch.persistence import tables  # noqa: F401  (registers the tables on SQLModel.metadata)


def database_backend(url: str) -> str:
    return make_url(url).get_backend_name()


def create_db_engine(
    url: str, *, read_only: bool = False, pool_size: int = 10, max_overflow: int = 20
) -> Engine:
    """``read_only`` engines (SQLite) open plain deferred transactions, so quotes and pages read in
    parallel under WAL instead of queueing behind BEGIN IMMEDIATE with the booking writers.

    ``pool_size``/``max_overflow`` size the PostgreSQL pool of *this process*: with N API workers each
    opens up to two engines of ``pool_size + max_overflow`` connections, which must stay under the
    server's ``max_connections``."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow)
    if u.database and u.database != ":memory:":
        Path(u.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy issue BEGIN itself so we can choose IMMEDIATE for writes.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")  # survives a process crash; FULL is ~20x slower
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BASELINE_REVISION = "0001"  # the reference tables as the first release created them (create_all)


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration. A database made before migrations existed (reference
    tables but no ``alembic_version``) is stamped at the baseline first, so its data is kept."""
    cfg = alembic_config(engine)
    names = set(inspect(engine).get_table_names())
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        if "place" in names and "alembic_version" not in names:
            command.stamp(cfg, BASELINE_REVISION)
        command.upgrade(cfg, "head")
