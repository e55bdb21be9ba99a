"""Riders' data rights and key lifecycle: rider_event (consents, exports, erasures), rider.erased_at,
booking.anonymised_at, api_key.expires_at and revoked_at.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rider_event",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("rider_id", AutoString(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", AutoString(), nullable=False),
        sa.Column("event", AutoString(), nullable=False),
        sa.Column("detail", AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["rider_id"], ["rider.rider_id"]),
        sa.PrimaryKeyConstraint("event_id"),
    )
    with op.batch_alter_table("rider_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rider_event_rider_id"), ["rider_id"], unique=False)
    with op.batch_alter_table("rider", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.add_column(sa.Column("anonymised_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("revoked_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_column("revoked_at")
        batch_op.drop_column("expires_at")
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_column("anonymised_at")
    with op.batch_alter_table("rider", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
    with op.batch_alter_table("rider_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rider_event_rider_id"))
    op.drop_table("rider_event")
