"""Tables owned by COD remittance. A remittance is one Shiprocket payout batch, keyed by its id (the
webhook's `remittance_id`, which is the API's `crf_id`); a line is one AWB's cash inside it, stored once
per (remittance, AWB) whichever source saw it first, and carrying its own Books payment state."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models import Base
from app.timeutil import utcnow


class LineState(enum.StrEnum):
    pending = "pending"  # stored, not yet recorded in Books
    paid = "paid"  # a Books payment exists for it (payment_id); `problem` may still say it was short
    flagged = "flagged"  # not paid: `problem` says why, a person decides (then POST .../retry)


class LineProblem(enum.StrEnum):
    unknown_awb = "unknown_awb"  # no shipment of ours has this AWB
    not_cod = "not_cod"  # the AWB is a prepaid order: no cash should have been collected
    no_invoice = "no_invoice"  # the sales order has no payable invoice (none, or only draft/void)
    ambiguous_invoice = "ambiguous_invoice"  # several open invoices, none matching the amount
    already_paid = "already_paid"  # the invoice has no balance left
    amount_differs = "amount_differs"  # cod_amount differs from the invoice balance
    zero_amount = "zero_amount"  # nothing to record
    books_refused = "books_refused"  # Zoho refused the payment or the sales-order read


# A line still to settle: not yet paid, or paid with cf_cod_remittance_id not yet written (nor refused).
TO_SETTLE_SQL = "(state = 'pending' OR (state = 'paid' AND NOT so_updated AND so_error IS NULL))"


class CodRemittance(Base):
    __tablename__ = "cod_remittances"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    remittance_id: Mapped[str] = mapped_column(String(60), unique=True)
    utr: Mapped[str | None] = mapped_column(String(60), default=None, index=True)  # the bank transfer's reference
    remittance_date: Mapped[date] = mapped_column(Date)
    bank_transfer_amount: Mapped[Decimal]
    sources: Mapped[str] = mapped_column(String(40), default="")  # "poller", "webhook" or both, comma-joined
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class CodRemittanceLine(Base):
    __tablename__ = "cod_remittance_lines"
    __table_args__ = (
        UniqueConstraint("remittance_id", "awb", name="uq_cod_line_remittance_awb"),
        Index("ix_cod_lines_state", "state"),
        # The sweeper's question, "which remittances still have lines to settle?", stays cheap.
        Index("ix_cod_lines_to_settle", "remittance_id", postgresql_where=text(TO_SETTLE_SQL)),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    remittance_id: Mapped[str] = mapped_column(
        ForeignKey("cod_remittances.remittance_id", ondelete="CASCADE", onupdate="CASCADE"))
    awb: Mapped[str] = mapped_column(String(60), index=True)
    order_id: Mapped[str] = mapped_column(String(60), default="")  # Shiprocket's channel order id, as sent
    cod_amount: Mapped[Decimal]
    deducted_charges: Mapped[Decimal]
    # True when the poller apportioned the batch's deduction_value (the API has no per-AWB deductions).
    deductions_allocated: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(10))  # which source stored the line first
    state: Mapped[str] = mapped_column(String(20), default=LineState.pending)
    problem: Mapped[str | None] = mapped_column(String(30), default=None)
    detail: Mapped[str | None] = mapped_column(Text, default=None)
    salesorder_id: Mapped[str | None] = mapped_column(String(40), default=None)
    salesorder_number: Mapped[str | None] = mapped_column(String(60), default=None)
    invoice_id: Mapped[str | None] = mapped_column(String(40), default=None)
    invoice_number: Mapped[str | None] = mapped_column(String(60), default=None)
    invoice_balance: Mapped[Decimal | None] = mapped_column(default=None)  # balance seen before paying
    payment_reference: Mapped[str] = mapped_column(String(100))
    payment_id: Mapped[str | None] = mapped_column(String(40), default=None)
    # Stamped just before the payment POST: only a line stamped so may have a Books payment we did not
    # record (reply lost, worker killed), so only then is Books searched before paying.
    posting_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    so_updated: Mapped[bool] = mapped_column(Boolean, default=False)  # cf_cod_remittance_id written
    so_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class RemittancePollState(Base):
    """Where the remittance poller has read from and up to, so each poll re-reads only a short overlap
    and the overdue list knows where remittance tracking began. Shown in GET /ops/remittances."""

    __tablename__ = "cod_remittance_poll"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)  # "shiprocket"
    polled_from: Mapped[date] = mapped_column(Date)  # the earliest day any poll has read
    polled_through: Mapped[date] = mapped_column(Date)
    polled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)  # the last poll
