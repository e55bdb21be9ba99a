"""Riders: the day consent to data reuse was given (rider.consent_given_on, null before this) and the
home's postal address (rider.address, empty before this).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a database made by the first release (create_all from today's models) may have it already
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("rider")}
    with op.batch_alter_table("rider") as batch:
        if "consent_given_on" not in have:
            batch.add_column(sa.Column("consent_given_on", sa.Date(), nullable=True))
        if "address" not in have:
            batch.add_column(sa.Column("address", AutoString(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("rider") as batch:
        batch.drop_column("address")
        batch.drop_column("consent_given_on")
