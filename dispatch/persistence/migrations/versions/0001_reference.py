"""Reference data: places, companies, vehicles, riders, zones (the first release's tables).

Revision ID: 0001
Revises: None
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "company",
        sa.Column("company_id", AutoString(), nullable=False),
        sa.Column("name", AutoString(), nullable=False),
        sa.Column("name_en", AutoString(), nullable=False),
        sa.Column("phone", AutoString(), nullable=False),
        sa.Column("depot_name", AutoString(), nullable=False),
        sa.Column("depot_lat", sa.Float(), nullable=False),
        sa.Column("depot_lon", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("company_id"),
    )
    op.create_table(
        "place",
        sa.Column("place_id", AutoString(), nullable=False),
        sa.Column("name", AutoString(), nullable=False),
        sa.Column("name_en", AutoString(), nullable=False),
        sa.Column("kana", AutoString(), nullable=False),
        sa.Column("kind", AutoString(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("place_id"),
    )
    with op.batch_alter_table("place", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_place_kana"), ["kana"], unique=False)
        batch_op.create_index(batch_op.f("ix_place_kind"), ["kind"], unique=False)

    op.create_table(
        "rider",
        sa.Column("rider_id", AutoString(), nullable=False),
        sa.Column("name", AutoString(), nullable=False),
        sa.Column("kana", AutoString(), nullable=False),
        sa.Column("phone", AutoString(), nullable=False),
        sa.Column("home_lat", sa.Float(), nullable=False),
        sa.Column("home_lon", sa.Float(), nullable=False),
        sa.Column("district", AutoString(), nullable=False),
        sa.Column("birth_year", sa.Integer(), nullable=False),
        sa.Column("wheelchair", sa.Boolean(), nullable=False),
        sa.Column("walker", sa.Boolean(), nullable=False),
        sa.Column("companion", sa.Boolean(), nullable=False),
        sa.Column("disability_certificate", sa.Boolean(), nullable=False),
        sa.Column("welfare_bus_pass", sa.Boolean(), nullable=False),
        sa.Column("consent_data_reuse", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("rider_id"),
    )
    with op.batch_alter_table("rider", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rider_kana"), ["kana"], unique=False)
        batch_op.create_index(batch_op.f("ix_rider_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_rider_phone"), ["phone"], unique=False)

    op.create_table(
        "zone",
        sa.Column("zone_id", AutoString(), nullable=False),
        sa.Column("name", AutoString(), nullable=False),
        sa.Column("name_en", AutoString(), nullable=False),
        sa.Column("kind", AutoString(), nullable=False),
        sa.Column("h3_resolution", sa.Integer(), nullable=False),
        sa.Column("cells", AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("zone_id"),
    )
    op.create_table(
        "vehicle",
        sa.Column("vehicle_id", AutoString(), nullable=False),
        sa.Column("company_id", AutoString(), nullable=False),
        sa.Column("kind", AutoString(), nullable=False),
        sa.Column("plate", AutoString(), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("wheelchair_places", sa.Integer(), nullable=False),
        sa.Column("shift_start_s", sa.Integer(), nullable=False),
        sa.Column("shift_end_s", sa.Integer(), nullable=False),
        sa.Column("features", AutoString(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.company_id"],
        ),
        sa.PrimaryKeyConstraint("vehicle_id"),
    )
    with op.batch_alter_table("vehicle", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vehicle_company_id"), ["company_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("vehicle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vehicle_company_id"))

    op.drop_table("vehicle")
    op.drop_table("zone")
    with op.batch_alter_table("rider", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rider_phone"))
        batch_op.drop_index(batch_op.f("ix_rider_name"))
        batch_op.drop_index(batch_op.f("ix_rider_kana"))

    op.drop_table("rider")
    with op.batch_alter_table("place", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_place_kind"))
        batch_op.drop_index(batch_op.f("ix_place_kana"))

    op.drop_table("place")
    op.drop_table("company")
