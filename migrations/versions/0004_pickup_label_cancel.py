"""pickup, label, manifest and cancellation on the shipment

Revision ID: 0004
Revises: 0003
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("pickup_requested_at", sa.DateTime(timezone=True)),
    ("pickup_scheduled_date", sa.DateTime(timezone=True)),
    ("pickup_token_number", sa.String(length=200)),
    ("label_url", sa.Text()),
    ("manifest_url", sa.Text()),
    ("cancelled_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    for name, type_ in COLUMNS:
        op.add_column("shipments", sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    for name, _ in reversed(COLUMNS):
        op.drop_column("shipments", name)
