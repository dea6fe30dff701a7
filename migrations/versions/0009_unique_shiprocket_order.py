"""one shipment per Shiprocket order: two sales orders with one number, booked at the same moment, can
both be handed the same Shiprocket order; the second to record it must book under its own id instead

Revision ID: 0009
Revises: 0008
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("uq_shipments_sr_order_id", "shipments", ["sr_order_id"], unique=True,
                    postgresql_where=sa.text("sr_order_id IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("uq_shipments_sr_order_id", table_name="shipments")
