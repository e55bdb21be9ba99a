"""Persistence: SQLModel tables and the engine. Table models never leave this package."""

from dispatch.persistence.db import create_db_engine, database_backend, migrate
from dispatch.persistence.reference import count_reference_rows, store_reference_data

__all__ = [
    "count_reference_rows",
    "create_db_engine",
    "database_backend",
    "migrate",
    "store_reference_data",
]
