"""zoho budget: deferred cosmetic writes; invoices last seen on the sales order

Revision ID: 0008
Revises: 0006
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "zoho_deferred_writes",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("salesorder_id", sa.String(length=40), nullable=False),
        sa.Column("values", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("deferred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("salesorder_id"),
    )
    op.create_index("ix_zoho_deferred_writes_deferred_at", "zoho_deferred_writes", ["deferred_at"])
    op.add_column("shipments", sa.Column("zoho_invoices", postgresql.JSONB(astext_type=sa.Text()), nullable=True))


def downgrade() -> None:
    op.drop_column("shipments", "zoho_invoices")
    op.drop_index("ix_zoho_deferred_writes_deferred_at", table_name="zoho_deferred_writes")
    op.drop_table("zoho_deferred_writes")
