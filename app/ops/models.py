"""Tables owned by ops: every repair action a person took (who, what, when, and what came of it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models import Base
from app.timeutil import utcnow


class OpsAction(Base):
    """One press of a repair button or one `shipbridge` repair command. Kept even when it did nothing
    (pressed twice, already resolved): the record of who touched an order is the point."""

    __tablename__ = "ops_actions"
    __table_args__ = (Index("ix_ops_actions_target", "target"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))  # "dashboard", "api", "cli:<user>"
    action: Mapped[str] = mapped_column(String(40))  # retry, resync, replay, ndr, resolve_alert, cancel
    target: Mapped[str] = mapped_column(String(100))  # "order:<salesorder_id>", "event:<id>", "alert:<id>"
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    outcome: Mapped[str] = mapped_column(String(20))  # done | noop | refused | failed
    detail: Mapped[str] = mapped_column(Text, default="")
