"""Webhook secret rotation: an endpoint keeps its previous secret until a time (both signatures are
sent meanwhile): webhook_endpoint.previous_secret and previous_secret_expires_at, null when none.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("webhook_endpoint")}
    with op.batch_alter_table("webhook_endpoint") as batch:
        if "previous_secret" not in have:
            batch.add_column(sa.Column("previous_secret", AutoString(), nullable=True))
        if "previous_secret_expires_at" not in have:
            batch.add_column(sa.Column("previous_secret_expires_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_endpoint") as batch:
        batch.drop_column("previous_secret_expires_at")
        batch.drop_column("previous_secret")
