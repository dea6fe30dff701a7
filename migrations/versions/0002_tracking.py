"""tracking: shipment tracking columns, tracking_events, tracking_effects, customer_returns

Revision ID: 0002
Revises: 0001
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def _tracking_columns() -> list[sa.Column]:
    return [
        sa.Column("tracking_status", sa.String(length=30), nullable=True),
        sa.Column("last_event_at", TZ, nullable=True),
        sa.Column("last_tracking_at", TZ, nullable=True),
        sa.Column("delivered_at", TZ, nullable=True),
    ]


def upgrade() -> None:
    for column in _tracking_columns():
        op.add_column("shipments", column)
    op.add_column("shipments", sa.Column("rto_initiated_at", TZ, nullable=True))
    op.add_column("shipments", sa.Column("tracking_final", sa.Boolean(), server_default="false", nullable=False))
    op.add_column("shipments", sa.Column("tracking_settled", sa.Boolean(), server_default="true", nullable=False))
    op.create_index("ix_shipments_tracking_poll", "shipments", ["tracking_final", "last_tracking_at"])

    op.create_table(
        "tracking_events",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("awb", sa.String(length=60), nullable=False),
        sa.Column("salesorder_id", sa.String(length=40), nullable=False),
        sa.Column("parcel", sa.String(length=10), nullable=False),
        sa.Column("parcel_id", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("inbox_event_id", sa.BigInteger(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("scheme", sa.String(length=30), nullable=False),
        sa.Column("shipment_status_id", sa.Integer(), nullable=True),
        sa.Column("shipment_status", sa.String(length=100), nullable=False),
        sa.Column("current_status_id", sa.Integer(), nullable=True),
        sa.Column("current_status", sa.String(length=100), nullable=False),
        sa.Column("scan_code", sa.String(length=60), nullable=False),
        sa.Column("scan_activity", sa.Text(), nullable=False),
        sa.Column("scan_location", sa.String(length=200), nullable=False),
        sa.Column("is_return", sa.Boolean(), nullable=False),
        sa.Column("event_at", TZ, nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("awb", "dedupe_key", name="uq_tracking_events_awb_key"),
    )
    op.create_index("ix_tracking_events_parcel", "tracking_events", ["parcel", "parcel_id", "applied"])

    op.create_table(
        "tracking_effects",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("salesorder_id", sa.String(length=40), nullable=False),
        sa.Column("effect", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subject", "effect", name="uq_tracking_effects_subject_effect"),
    )

    op.create_table(
        "customer_returns",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("shipment_id", sa.BigInteger(), nullable=False),
        sa.Column("salesorder_id", sa.String(length=40), nullable=False),
        sa.Column("salesorder_number", sa.String(length=60), nullable=False),
        sa.Column("channel_order_id", sa.String(length=60), nullable=False),
        sa.Column("lines", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("sr_order_id", sa.String(length=40), nullable=True),
        sa.Column("sr_shipment_id", sa.String(length=40), nullable=True),
        sa.Column("awb", sa.String(length=60), nullable=True),
        sa.Column("courier_name", sa.String(length=100), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        *_tracking_columns(),
        sa.Column("status_label", sa.String(length=60), nullable=True),
        sa.Column("zoho_synced_label", sa.String(length=60), nullable=True),
        sa.Column("tracking_final", sa.Boolean(), nullable=False),
        sa.Column("tracking_settled", sa.Boolean(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["shipment_id"], ["shipments.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel_order_id"),
        sa.UniqueConstraint("awb"),
    )
    op.create_index("ix_customer_returns_shipment_id", "customer_returns", ["shipment_id"])
    op.create_index("ix_customer_returns_salesorder_id", "customer_returns", ["salesorder_id"])
    op.create_index("ix_customer_returns_tracking_poll", "customer_returns", ["tracking_final", "last_tracking_at"])


def downgrade() -> None:
    op.drop_table("customer_returns")
    op.drop_table("tracking_effects")
    op.drop_table("tracking_events")
    op.drop_index("ix_shipments_tracking_poll", table_name="shipments")
    for name in ("tracking_settled", "tracking_final", "rto_initiated_at", "delivered_at", "last_tracking_at",
                 "last_event_at", "tracking_status"):
        op.drop_column("shipments", name)
