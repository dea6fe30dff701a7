"""The rto_predictions table: one GoKwik risk answer (or its absence) per COD order, kept so the seller
can later compare the predicted risk with what happened to the parcel (app/ops/rto_report.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models import Base
from app.timeutil import utcnow

UNAVAILABLE = "Unavailable"  # GoKwik down or answering an error: the order shipped unchecked


class RtoPrediction(Base):
    __tablename__ = "rto_predictions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    # One check per order: its existence is what tells a released order not to be checked again.
    salesorder_id: Mapped[str] = mapped_column(String(40), unique=True)
    category: Mapped[str] = mapped_column(String(20))  # High | Medium | Low | Control | Unavailable
    reason: Mapped[str] = mapped_column(Text, default="")
    request_id: Mapped[str] = mapped_column(String(100), default="")
    held: Mapped[bool] = mapped_column(default=False)
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
