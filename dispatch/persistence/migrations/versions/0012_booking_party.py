"""Bookings: the rider's party beside what the booking holds (booking.party_seats,
booking.party_wheelchairs; null: seats/wheelchairs are the party). A private ride (貸切) holds its
whole car, so its seats are the car's; the party is what the driver and the company page show.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a database made by the first release (create_all from today's models) may have them already
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("booking")}
    with op.batch_alter_table("booking") as batch:
        for name in ("party_seats", "party_wheelchairs"):
            if name not in have:
                batch.add_column(sa.Column(name, sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("booking") as batch:
        batch.drop_column("party_wheelchairs")
        batch.drop_column("party_seats")
