"""cod remittance: remittances, their per-AWB lines, the poller's cursor

Revision ID: 0003
Revises: 0002
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here (not imported from the models): a migration must not change when the code does.
TO_SETTLE_SQL = "(state = 'pending' OR (state = 'paid' AND NOT so_updated AND so_error IS NULL))"


def upgrade() -> None:
    op.create_table(
        "cod_remittances",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("remittance_id", sa.String(length=60), nullable=False),
        sa.Column("utr", sa.String(length=60), nullable=True),
        sa.Column("remittance_date", sa.Date(), nullable=False),
        sa.Column("bank_transfer_amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("sources", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("remittance_id"),
    )
    op.create_index("ix_cod_remittances_utr", "cod_remittances", ["utr"])
    op.create_table(
        "cod_remittance_lines",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("remittance_id", sa.String(length=60), nullable=False),
        sa.Column("awb", sa.String(length=60), nullable=False),
        sa.Column("order_id", sa.String(length=60), nullable=False),
        sa.Column("cod_amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("deducted_charges", sa.Numeric(12, 2), nullable=False),
        sa.Column("deductions_allocated", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("problem", sa.String(length=30), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("salesorder_id", sa.String(length=40), nullable=True),
        sa.Column("salesorder_number", sa.String(length=60), nullable=True),
        sa.Column("invoice_id", sa.String(length=40), nullable=True),
        sa.Column("invoice_number", sa.String(length=60), nullable=True),
        sa.Column("invoice_balance", sa.Numeric(12, 2), nullable=True),
        sa.Column("payment_reference", sa.String(length=100), nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=True),
        sa.Column("posting_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("so_updated", sa.Boolean(), nullable=False),
        sa.Column("so_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["remittance_id"], ["cod_remittances.remittance_id"], ondelete="CASCADE",
                                onupdate="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("remittance_id", "awb", name="uq_cod_line_remittance_awb"),
    )
    op.create_index("ix_cod_lines_state", "cod_remittance_lines", ["state"])
    op.create_index("ix_cod_remittance_lines_awb", "cod_remittance_lines", ["awb"])
    op.create_index("ix_cod_lines_to_settle", "cod_remittance_lines", ["remittance_id"],
                    postgresql_where=sa.text(TO_SETTLE_SQL))
    op.create_table(
        "cod_remittance_poll",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("polled_from", sa.Date(), nullable=False),
        sa.Column("polled_through", sa.Date(), nullable=False),
        sa.Column("polled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("cod_remittance_poll")
    op.drop_index("ix_cod_lines_to_settle", table_name="cod_remittance_lines")
    op.drop_index("ix_cod_remittance_lines_awb", table_name="cod_remittance_lines")
    op.drop_index("ix_cod_lines_state", table_name="cod_remittance_lines")
    op.drop_table("cod_remittance_lines")
    op.drop_index("ix_cod_remittances_utr", table_name="cod_remittances")
    op.drop_table("cod_remittances")
