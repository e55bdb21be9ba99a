"""Webhooks for taxi companies: endpoints and the durable delivery outbox.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_endpoint",
        sa.Column("endpoint_id", AutoString(), nullable=False),
        sa.Column("company_id", AutoString(), nullable=False),
        sa.Column("url", AutoString(), nullable=False),
        sa.Column("secret", AutoString(), nullable=False),
        sa.Column("event_types", AutoString(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["company.company_id"]),
        sa.PrimaryKeyConstraint("endpoint_id"),
    )
    op.create_index("ix_webhook_endpoint_company_id", "webhook_endpoint", ["company_id"])
    op.create_table(
        "webhook_delivery",
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", AutoString(), nullable=False),
        sa.Column("company_id", AutoString(), nullable=False),
        sa.Column("event_id", AutoString(), nullable=False),
        sa.Column("event_type", AutoString(), nullable=False),
        sa.Column("ordering_key", AutoString(), nullable=False),
        sa.Column("payload", AutoString(), nullable=False),
        sa.Column("status", AutoString(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", AutoString(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["endpoint_id"], ["webhook_endpoint.endpoint_id"]),
        sa.PrimaryKeyConstraint("delivery_id"),
    )
    op.create_index("ix_webhook_delivery_endpoint_id", "webhook_delivery", ["endpoint_id"])
    op.create_index("ix_webhook_delivery_company_id", "webhook_delivery", ["company_id"])
    op.create_index("ix_webhook_delivery_status", "webhook_delivery", ["status"])


def downgrade() -> None:
    op.drop_table("webhook_delivery")
    op.drop_table("webhook_endpoint")
