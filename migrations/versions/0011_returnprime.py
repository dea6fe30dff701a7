"""return prime: request lines linked to customer returns

Revision ID: 0011
Revises: 0010
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "returnprime_lines",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=24), nullable=False),
        sa.Column("line_id", sa.String(length=40), nullable=False),
        sa.Column("request_number", sa.String(length=40), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("quantity", sa.String(length=20), nullable=False),
        sa.Column("salesorder_id", sa.String(length=40), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("customer_return_id", sa.BigInteger(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_return_id"], ["customer_returns.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id", "line_id", name="uq_returnprime_lines_request_line"),
    )
    op.create_index("ix_returnprime_lines_request_id", "returnprime_lines", ["request_id"])
    op.create_index("ix_returnprime_lines_customer_return_id", "returnprime_lines", ["customer_return_id"])


def downgrade() -> None:
    op.drop_index("ix_returnprime_lines_customer_return_id", table_name="returnprime_lines")
    op.drop_index("ix_returnprime_lines_request_id", table_name="returnprime_lines")
    op.drop_table("returnprime_lines")
