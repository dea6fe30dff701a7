"""Which Return Prime request line became which customer return. Unique per (request, line): however
often a request is delivered or polled, a line is booked (or tracked) once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models import Base
from app.timeutil import utcnow


class ReturnPrimeLine(Base):
    __tablename__ = "returnprime_lines"
    __table_args__ = (UniqueConstraint("request_id", "line_id", name="uq_returnprime_lines_request_line"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(24), index=True)  # Return Prime's ObjectId
    line_id: Mapped[str] = mapped_column(String(40))  # the Shopify line-item id
    request_number: Mapped[str] = mapped_column(String(40), default="")
    sku: Mapped[str] = mapped_column(String(100), default="")
    quantity: Mapped[str] = mapped_column(String(20), default="0")
    salesorder_id: Mapped[str | None] = mapped_column(String(40), default=None)
    # linked: part of customer_return_id | unmappable: kept, alerted, retried on the next delivery or poll
    state: Mapped[str] = mapped_column(String(20), default="unmappable")
    customer_return_id: Mapped[int | None] = mapped_column(
        ForeignKey("customer_returns.id", ondelete="SET NULL"), default=None, index=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
