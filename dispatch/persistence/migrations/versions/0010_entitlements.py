"""Riders' group-taxi vouchers: rider_entitlement (vouchers per fiscal year) and voucher_ledger (each
use at confirmation and return at cancellation).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rider_entitlement",
        sa.Column("rider_id", AutoString(), nullable=False),
        sa.Column("vouchers_per_year", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["rider_id"], ["rider.rider_id"]),
        sa.PrimaryKeyConstraint("rider_id"),
    )
    op.create_table(
        "voucher_ledger",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("rider_id", AutoString(), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("booking_id", AutoString(), nullable=False),
        sa.Column("kind", AutoString(), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["booking_id"], ["booking.booking_id"]),
        sa.ForeignKeyConstraint(["rider_id"], ["rider.rider_id"]),
        sa.PrimaryKeyConstraint("entry_id"),
        sa.UniqueConstraint("booking_id", "kind"),
    )
    op.create_index("ix_voucher_ledger_rider_id", "voucher_ledger", ["rider_id"])
    op.create_index("ix_voucher_ledger_booking_id", "voucher_ledger", ["booking_id"])


def downgrade() -> None:
    op.drop_table("voucher_ledger")
    op.drop_table("rider_entitlement")
