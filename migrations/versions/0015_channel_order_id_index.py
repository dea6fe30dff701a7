"""index shipments.channel_order_id: every order asks whether another shipment holds its order id (a reused
Zoho number) before it is created alongside the quote and again before it is recorded; without the index
each ask scans every shipment ever booked

Revision ID: 0015
Revises: 0014
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_shipments_channel_order_id", "shipments", ["channel_order_id"])


def downgrade() -> None:
    op.drop_index("ix_shipments_channel_order_id", table_name="shipments")
