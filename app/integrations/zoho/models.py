"""Zoho-side bookkeeping tables: status-label writes deferred until the daily quota resets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models import Base
from app.timeutil import utcnow


class ZohoDeferredWrite(Base):
    """One row per sales order: the custom-field values a cosmetic write would have set when the day's
    Zoho budget was nearly spent. A later deferral for the same order replaces `values` (only the latest
    status matters) but keeps `deferred_at`, so the flush after the reset goes in first-deferred order."""

    __tablename__ = "zoho_deferred_writes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    salesorder_id: Mapped[str] = mapped_column(String(40), unique=True)
    values: Mapped[dict[str, Any]] = mapped_column()
    deferred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
