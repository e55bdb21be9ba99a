"""The city's airport shared taxi (city.toml ``[airport]``): city.airport_json.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("city", schema=None) as batch_op:
        batch_op.add_column(sa.Column("airport_json", AutoString(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("city", schema=None) as batch_op:
        batch_op.drop_column("airport_json")
