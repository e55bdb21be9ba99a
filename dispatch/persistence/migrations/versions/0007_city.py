"""City bundles: the city row (names, service area, feeds, tariff), community-zone vehicles, per-day
shifts, zone hubs and drawn polygons, retired places/vehicles/companies, where a rider came from.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "city",
        sa.Column("city_id", AutoString(), nullable=False),
        sa.Column("name", AutoString(), nullable=False),
        sa.Column("name_en", AutoString(), nullable=False),
        sa.Column("timezone", AutoString(), nullable=False),
        sa.Column("booking_phone", AutoString(), nullable=False),
        sa.Column("service_area", AutoString(), nullable=False),
        sa.Column("feeds_json", AutoString(), nullable=False),
        sa.Column("gbfs_url", AutoString(), nullable=True),
        sa.Column("max_walk_m", sa.Float(), nullable=False),
        sa.Column("tariff_toml", AutoString(), nullable=False),
        sa.Column("bundle_path", AutoString(), nullable=False),
        sa.Column("imported_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("city_id"),
    )
    with op.batch_alter_table("place") as b:
        b.add_column(sa.Column("note", AutoString(), nullable=False, server_default=""))
        b.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table("company") as b:
        b.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table("vehicle") as b:
        b.add_column(sa.Column("zone_id", AutoString(), nullable=True))
        b.add_column(sa.Column("shifts_json", AutoString(), nullable=False, server_default=""))
        b.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table("rider") as b:
        b.add_column(sa.Column("source", AutoString(), nullable=False, server_default="operator"))
    with op.batch_alter_table("zone") as b:
        b.add_column(sa.Column("hubs", AutoString(), nullable=False, server_default=""))
        b.add_column(sa.Column("geometry", AutoString(), nullable=False, server_default=""))


def downgrade() -> None:
    for table, cols in (
        ("zone", ("hubs", "geometry")),
        ("rider", ("source",)),
        ("vehicle", ("zone_id", "shifts_json", "active")),
        ("company", ("active",)),
        ("place", ("note", "active")),
    ):
        with op.batch_alter_table(table) as b:
            for c in cols:
                b.drop_column(c)
    op.drop_table("city")
