"""Hospital-linked booking: riders' consents per clinic and the clinics' FHIR appointments.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clinic_consent",
        sa.Column("clinic_id", AutoString(), nullable=False),
        sa.Column("rider_id", AutoString(), nullable=False),
        sa.Column("patient_id", AutoString(), nullable=True),
        sa.Column("return_ride", sa.Boolean(), nullable=False),
        sa.Column("consented_at", UTCDateTime(), nullable=False),
        sa.Column("withdrawn_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["rider_id"], ["rider.rider_id"]),
        sa.PrimaryKeyConstraint("clinic_id", "rider_id"),
    )
    op.create_index("ix_clinic_consent_patient_id", "clinic_consent", ["patient_id"])
    op.create_table(
        "clinic_appointment",
        sa.Column("clinic_id", AutoString(), nullable=False),
        sa.Column("appointment_key", AutoString(), nullable=False),
        sa.Column("rider_id", AutoString(), nullable=False),
        sa.Column("place_id", AutoString(), nullable=False),
        sa.Column("start_at", UTCDateTime(), nullable=False),
        sa.Column("end_at", UTCDateTime(), nullable=True),
        sa.Column("status", AutoString(), nullable=False),
        sa.Column("booking_id", AutoString(), nullable=True),
        sa.Column("return_booking_id", AutoString(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["rider_id"], ["rider.rider_id"]),
        sa.PrimaryKeyConstraint("clinic_id", "appointment_key"),
    )
    op.create_index("ix_clinic_appointment_rider_id", "clinic_appointment", ["rider_id"])


def downgrade() -> None:
    op.drop_table("clinic_appointment")
    op.drop_table("clinic_consent")
