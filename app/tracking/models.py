"""Tables owned by tracking: the full event history, the side effects done per parcel (each exactly
once), and customer-initiated return parcels. A forward parcel's current tracking state lives on
`shipments` (columns tracking_status, delivered_at, ...), a return parcel's on `customer_returns`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models import Base
from app.timeutil import utcnow


class TrackingEvent(Base):
    """One status report about one parcel (a webhook delivery or a poll answer), kept forever with the
    raw codes and labels exactly as the aggregator sent them, and what we made of it."""

    __tablename__ = "tracking_events"
    __table_args__ = (
        UniqueConstraint("awb", "dedupe_key", name="uq_tracking_events_awb_key"),
        Index("ix_tracking_events_parcel", "parcel", "parcel_id", "applied"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    awb: Mapped[str] = mapped_column(String(60))  # looked up through uq_tracking_events_awb_key
    salesorder_id: Mapped[str] = mapped_column(String(40))
    parcel: Mapped[str] = mapped_column(String(10))  # "shipment" | "return"
    parcel_id: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(10))  # "webhook" | "poll"
    inbox_event_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    dedupe_key: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(30))  # TrackingStatus value
    scheme: Mapped[str] = mapped_column(String(30))  # the field that decided the status
    shipment_status_id: Mapped[int | None] = mapped_column(Integer, default=None)
    shipment_status: Mapped[str] = mapped_column(String(100), default="")
    current_status_id: Mapped[int | None] = mapped_column(Integer, default=None)
    current_status: Mapped[str] = mapped_column(String(100), default="")
    scan_code: Mapped[str] = mapped_column(String(60), default="")
    scan_activity: Mapped[str] = mapped_column(Text, default="")
    scan_location: Mapped[str] = mapped_column(String(200), default="")
    is_return: Mapped[bool] = mapped_column(Boolean, default=False)
    event_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    applied: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str | None] = mapped_column(Text, default=None)


class TrackingEffect(Base):
    """A side effect (a Zoho write, an alert) done for one parcel. The unique key makes "exactly once"
    a database fact: `started` is written before the upstream call, `done`/`failed` after, so a crash in
    between is found on the next run and reconciled against Zoho instead of repeated blindly."""

    __tablename__ = "tracking_effects"
    __table_args__ = (UniqueConstraint("subject", "effect", name="uq_tracking_effects_subject_effect"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(40))  # "shipment:<id>" | "return:<id>"
    salesorder_id: Mapped[str] = mapped_column(String(40))
    effect: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(10), default="started")  # started | done | failed
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    detail: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class CustomerReturn(Base):
    """A return the customer asked for after delivery: a Shiprocket return order (customer -> our
    warehouse) tracked through the same pipeline, restocked through the same sales-return path."""

    __tablename__ = "customer_returns"
    __table_args__ = (Index("ix_customer_returns_tracking_poll", "tracking_final", "last_tracking_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    salesorder_id: Mapped[str] = mapped_column(String(40), index=True)
    salesorder_number: Mapped[str] = mapped_column(String(60))
    channel_order_id: Mapped[str] = mapped_column(String(60), unique=True)  # "<SO number>-RET<n>"
    # [{line_item_id, item_id, sku, name, quantity, rate}] as strings: what is coming back
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    reason: Mapped[str] = mapped_column(Text, default="")
    # requested -> created (Shiprocket return order) -> awb_assigned; awb_failed / failed wait for a person
    state: Mapped[str] = mapped_column(String(20), default="requested")
    sr_order_id: Mapped[str | None] = mapped_column(String(40), default=None)
    sr_shipment_id: Mapped[str | None] = mapped_column(String(40), default=None)
    awb: Mapped[str | None] = mapped_column(String(60), default=None, unique=True)
    courier_name: Mapped[str | None] = mapped_column(String(100), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    tracking_status: Mapped[str | None] = mapped_column(String(30), default=None)
    status_label: Mapped[str | None] = mapped_column(String(60), default=None)
    zoho_synced_label: Mapped[str | None] = mapped_column(String(60), default=None)
    last_event_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    last_tracking_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    tracking_final: Mapped[bool] = mapped_column(Boolean, default=False)
    tracking_settled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
