"""shipments.hold_reason: why an order is on_hold (payment method unknown, later RTO risk)

Revision ID: 0005
Revises: 0003
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # `state` is a plain string column, so the new on_hold state needs no type change.
    op.add_column("shipments", sa.Column("hold_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("shipments", "hold_reason")
