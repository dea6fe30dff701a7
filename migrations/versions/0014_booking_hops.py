"""shipments remember the couriers (and aggregators) a booking gave up on, so a fallback never tries one
twice; one shipment per order of each aggregator (their order ids are separate numberings)

Revision ID: 0014
Revises: 0012
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("shipments", sa.Column("booking_hops", postgresql.JSONB(astext_type=sa.Text()), nullable=False,
                                         server_default=sa.text("'[]'::jsonb")))
    op.drop_index("uq_shipments_sr_order_id", table_name="shipments")
    op.create_index("uq_shipments_sr_order_id", "shipments", ["aggregator", "sr_order_id"], unique=True,
                    postgresql_where=sa.text("sr_order_id IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("uq_shipments_sr_order_id", table_name="shipments")
    op.create_index("uq_shipments_sr_order_id", "shipments", ["sr_order_id"], unique=True,
                    postgresql_where=sa.text("sr_order_id IS NOT NULL"))
    op.drop_column("shipments", "booking_hops")
