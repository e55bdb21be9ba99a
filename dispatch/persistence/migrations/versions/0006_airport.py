"""Airport shared taxi: bookings by flight and flight delays.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "airport_booking",
        sa.Column("booking_id", AutoString(), nullable=False),
        sa.Column("flight", AutoString(), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("direction", AutoString(), nullable=False),
        sa.Column("rider_id", AutoString(), nullable=False),
        sa.Column("companions", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["booking_id"], ["booking.booking_id"]),
        sa.PrimaryKeyConstraint("booking_id"),
    )
    op.create_index("ix_airport_booking_flight", "airport_booking", ["flight"])
    op.create_index("ix_airport_booking_service_date", "airport_booking", ["service_date"])
    op.create_table(
        "flight_delay",
        sa.Column("flight", AutoString(), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("delay_s", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("flight", "service_date"),
    )


def downgrade() -> None:
    op.drop_table("flight_delay")
    op.drop_table("airport_booking")
