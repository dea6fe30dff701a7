"""shipments record which aggregator booked them; courier ids become the aggregator's string keys

Revision ID: 0012
Revises: 0011
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every shipment before this revision was booked on Shiprocket.
    op.add_column("shipments", sa.Column("aggregator", sa.String(length=20), nullable=False,
                                         server_default="shiprocket"))
    # Shiplee's booking key (carrier_id) is a string; Shiprocket's numeric ids keep their digits.
    op.alter_column("shipments", "courier_id", type_=sa.String(length=40), existing_nullable=True,
                    postgresql_using="courier_id::text")


def downgrade() -> None:
    op.alter_column("shipments", "courier_id", type_=sa.Integer(), existing_nullable=True,
                    postgresql_using="NULLIF(regexp_replace(courier_id, '[^0-9]', '', 'g'), '')::integer")
    op.drop_column("shipments", "aggregator")
