"""Persistence: SQLModel tables and the engine. Table models never leave this package."""

from dispatch.persistence.db import create_db_engine, database_backend, migrate
from dispatch.persistence.reference import (
    ImportRefused,
    ImportReport,
    count_reference_rows,
    import_city,
    load_city,
    store_reference_data,
)

__all__ = [
    "ImportRefused",
    "ImportReport",
    "count_reference_rows",
    "create_db_engine",
    "database_backend",
    "import_city",
    "load_city",
    "migrate",
    "store_reference_data",
]
