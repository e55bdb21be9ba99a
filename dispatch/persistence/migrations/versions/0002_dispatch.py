"""Dispatch: bookings with their audit trail, vehicle plans, recurring rules, API keys.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_key",
        sa.Column("key_hash", AutoString(), nullable=False),
        sa.Column("label", AutoString(), nullable=False),
        sa.Column("role", AutoString(), nullable=False),
        sa.Column("company_id", AutoString(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.company_id"],
        ),
        sa.PrimaryKeyConstraint("key_hash"),
    )
    op.create_table(
        "recurring_rule",
        sa.Column("rule_id", AutoString(), nullable=False),
        sa.Column("rider_id", AutoString(), nullable=False),
        sa.Column("origin_json", AutoString(), nullable=False),
        sa.Column("dest_json", AutoString(), nullable=False),
        sa.Column("time_mode", AutoString(), nullable=False),
        sa.Column("time_s", sa.Integer(), nullable=False),
        sa.Column("weekdays", AutoString(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("skip_holidays", sa.Boolean(), nullable=False),
        sa.Column("exceptions", AutoString(), nullable=False),
        sa.Column("return_mode", AutoString(), nullable=False),
        sa.Column("return_time_s", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rider_id"],
            ["rider.rider_id"],
        ),
        sa.PrimaryKeyConstraint("rule_id"),
    )
    with op.batch_alter_table("recurring_rule", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recurring_rule_rider_id"), ["rider_id"], unique=False)

    op.create_table(
        "booking",
        sa.Column("booking_id", AutoString(), nullable=False),
        sa.Column("rider_id", AutoString(), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("status", AutoString(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("origin_place_id", AutoString(), nullable=True),
        sa.Column("origin_label", AutoString(), nullable=False),
        sa.Column("origin_lat", sa.Float(), nullable=False),
        sa.Column("origin_lon", sa.Float(), nullable=False),
        sa.Column("dest_place_id", AutoString(), nullable=True),
        sa.Column("dest_label", AutoString(), nullable=False),
        sa.Column("dest_lat", sa.Float(), nullable=False),
        sa.Column("dest_lon", sa.Float(), nullable=False),
        sa.Column("time_mode", AutoString(), nullable=False),
        sa.Column("time_s", sa.Integer(), nullable=True),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("wheelchairs", sa.Integer(), nullable=False),
        sa.Column("needs", AutoString(), nullable=False),
        sa.Column("options_json", AutoString(), nullable=False),
        sa.Column("quote_expires_at", UTCDateTime(), nullable=True),
        sa.Column("chosen_option", sa.Integer(), nullable=True),
        sa.Column("vehicle_id", AutoString(), nullable=True),
        sa.Column("company_id", AutoString(), nullable=True),
        sa.Column("promised_pickup_from_s", sa.Integer(), nullable=True),
        sa.Column("promised_pickup_to_s", sa.Integer(), nullable=True),
        sa.Column("promised_arrival_by_s", sa.Integer(), nullable=True),
        sa.Column("max_ride_time_s", sa.Integer(), nullable=True),
        sa.Column("planned_pickup_s", sa.Integer(), nullable=True),
        sa.Column("planned_dropoff_s", sa.Integer(), nullable=True),
        sa.Column("fare_yen", sa.Integer(), nullable=True),
        sa.Column("fare_json", AutoString(), nullable=True),
        sa.Column("arrived_at_s", sa.Integer(), nullable=True),
        sa.Column("picked_up_at_s", sa.Integer(), nullable=True),
        sa.Column("dropped_off_at_s", sa.Integer(), nullable=True),
        sa.Column("reason", AutoString(), nullable=True),
        sa.Column("idempotency_key", AutoString(), nullable=True),
        sa.Column("return_of", AutoString(), nullable=True),
        sa.Column("recurring_rule_id", AutoString(), nullable=True),
        sa.ForeignKeyConstraint(
            ["rider_id"],
            ["rider.rider_id"],
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"],
            ["vehicle.vehicle_id"],
        ),
        sa.PrimaryKeyConstraint("booking_id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_booking_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_booking_recurring_rule_id"), ["recurring_rule_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_booking_return_of"), ["return_of"], unique=False)
        batch_op.create_index(batch_op.f("ix_booking_rider_id"), ["rider_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_booking_service_date"), ["service_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_booking_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_booking_vehicle_id"), ["vehicle_id"], unique=False)

    op.create_table(
        "vehicle_plan",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", AutoString(), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("stops_json", AutoString(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("out_of_service", sa.Boolean(), nullable=False),
        sa.Column("anchor_lat", sa.Float(), nullable=True),
        sa.Column("anchor_lon", sa.Float(), nullable=True),
        sa.Column("anchor_s", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["vehicle_id"],
            ["vehicle.vehicle_id"],
        ),
        sa.PrimaryKeyConstraint("plan_id"),
        sa.UniqueConstraint("vehicle_id", "service_date"),
    )
    with op.batch_alter_table("vehicle_plan", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vehicle_plan_service_date"), ["service_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_vehicle_plan_vehicle_id"), ["vehicle_id"], unique=False)

    op.create_table(
        "booking_event",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("booking_id", AutoString(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", AutoString(), nullable=False),
        sa.Column("event", AutoString(), nullable=False),
        sa.Column("from_status", AutoString(), nullable=True),
        sa.Column("to_status", AutoString(), nullable=False),
        sa.Column("detail", AutoString(), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["booking.booking_id"],
        ),
        sa.PrimaryKeyConstraint("event_id"),
    )
    with op.batch_alter_table("booking_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_booking_event_booking_id"), ["booking_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("booking_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_booking_event_booking_id"))

    op.drop_table("booking_event")
    with op.batch_alter_table("vehicle_plan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vehicle_plan_vehicle_id"))
        batch_op.drop_index(batch_op.f("ix_vehicle_plan_service_date"))

    op.drop_table("vehicle_plan")
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_booking_vehicle_id"))
        batch_op.drop_index(batch_op.f("ix_booking_status"))
        batch_op.drop_index(batch_op.f("ix_booking_service_date"))
        batch_op.drop_index(batch_op.f("ix_booking_rider_id"))
        batch_op.drop_index(batch_op.f("ix_booking_return_of"))
        batch_op.drop_index(batch_op.f("ix_booking_recurring_rule_id"))
        batch_op.drop_index(batch_op.f("ix_booking_company_id"))

    op.drop_table("booking")
    with op.batch_alter_table("recurring_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recurring_rule_rider_id"))

    op.drop_table("recurring_rule")
    op.drop_table("api_key")
