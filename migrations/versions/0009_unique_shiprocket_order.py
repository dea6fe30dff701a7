"""one shipment per Shiprocket order (two sales orders with one number, booked at the same moment, can
both be handed the same Shiprocket order; the second to record it must book under its own id instead);
the sales order's PUT base kept on the shipment, so custom-field writes need no read first

Revision ID: 0009
Revises: 0008
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("uq_shipments_sr_order_id", "shipments", ["sr_order_id"], unique=True,
                    postgresql_where=sa.text("sr_order_id IS NOT NULL"))
    op.add_column("shipments", sa.Column("zoho_put_base", postgresql.JSONB(astext_type=sa.Text()), nullable=True))


def downgrade() -> None:
    op.drop_column("shipments", "zoho_put_base")
    op.drop_index("uq_shipments_sr_order_id", table_name="shipments")
