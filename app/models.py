"""Tables. Inbox rows are the durable record of every authenticated delivery; a shipment row is the
persisted state machine of one sales order's fulfilment (unique per Zoho salesorder_id)."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.timeutil import utcnow


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSONB().with_variant(JSON(), "sqlite"), Decimal: Numeric(12, 2)}


class InboxState(enum.StrEnum):
    pending = "pending"  # stored, work not done yet (queued or waiting for the sweeper)
    done = "done"  # handled
    ignored = "ignored"  # valid but nothing to do (e.g. a sales order that is not confirmed)
    invalid = "invalid"  # authenticated but malformed: kept raw for a person to inspect
    failed = "failed"  # handling raised repeatedly; kept for replay


class InboxEvent(Base):
    __tablename__ = "inbox_events"
    __table_args__ = (
        UniqueConstraint("source", "dedupe_key", name="uq_inbox_source_dedupe"),
        Index("ix_inbox_state_received", "state", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(40))
    dedupe_key: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    state: Mapped[str] = mapped_column(String(20), default=InboxState.pending)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    subject: Mapped[str | None] = mapped_column(String(100), default=None)  # e.g. the salesorder_id or AWB
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    enqueued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class ShipmentState(enum.StrEnum):
    received = "received"  # order accepted for fulfilment, nothing done upstream yet
    serviceability_failed = "serviceability_failed"  # no courier serves the pincode: a person decides
    courier_chosen = "courier_chosen"
    order_created = "order_created"  # Shiprocket order exists (sr_order_id, sr_shipment_id stored)
    awb_retry = "awb_retry"  # AWB assignment failed, a retry is scheduled at next_attempt_at
    awb_failed = "awb_failed"  # AWB failed after every attempt: alerted, waits for a person
    order_failed = "order_failed"  # Shiprocket refused the order itself (bad address, phone...): alerted
    awb_assigned = "awb_assigned"  # AWB known; Zoho not yet updated
    synced = "synced"  # AWB, courier and status written back to the Zoho sales order
    writeback_failed = "writeback_failed"  # Zoho refused the write-back: alerted, replayable
    on_hold = "on_hold"  # not shipped until a person (or a fixed order) releases it; hold_reason says why
    # After the AWB is on Zoho (app/fulfilment/dispatch.py): a courier comes only for a requested pickup.
    pickup_requested = "pickup_requested"  # Shiprocket queued the pickup; Zoho not yet told
    pickup_scheduled = "pickup_scheduled"  # Zoho shows Pickup Scheduled; the label is next
    labelled = "labelled"  # label_url stored; the manifest is next
    manifested = "manifested"  # manifest_url stored: ready for the courier, fulfilment is done
    pickup_failed = "pickup_failed"  # Shiprocket refused the pickup request: alerted
    label_failed = "label_failed"  # Shiprocket refused the label: alerted
    manifest_failed = "manifest_failed"  # Shiprocket refused the manifest: alerted
    cancelled = "cancelled"  # voided in Zoho: cancelled on Shiprocket (or never booked)
    stalled = "stalled"  # one step failed FULFIL_MAX_ATTEMPTS times: alerted, out of the sweeper's loop


# States a fulfilment job may still move forward on its own.
ACTIVE_STATES = (
    ShipmentState.received,
    ShipmentState.courier_chosen,
    ShipmentState.order_created,
    ShipmentState.awb_retry,
    ShipmentState.awb_assigned,
    ShipmentState.synced,
    ShipmentState.pickup_requested,
    ShipmentState.pickup_scheduled,
    ShipmentState.labelled,
)


class Shipment(Base):
    __tablename__ = "shipments"
    __table_args__ = (Index("ix_shipments_state_updated", "state", "updated_at"),
                      Index("ix_shipments_tracking_poll", "tracking_final", "last_tracking_at"),
                      # Who holds an order id (a reused Zoho number) is asked once or twice per order: 0015.
                      Index("ix_shipments_channel_order_id", "channel_order_id"),
                      # One shipment per aggregator order (migrations 0009, 0014): see _create_order's race.
                      Index("uq_shipments_sr_order_id", "aggregator", "sr_order_id", unique=True,
                            postgresql_where=text("sr_order_id IS NOT NULL")))

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    salesorder_id: Mapped[str] = mapped_column(String(40), unique=True)
    salesorder_number: Mapped[str] = mapped_column(String(60))
    # The order id sent to Shiprocket: the salesorder_number, suffixed only if Shiprocket holds a
    # cancelled order under that number (it refuses to reuse a cancelled order's id).
    channel_order_id: Mapped[str] = mapped_column(String(60))
    state: Mapped[str] = mapped_column(String(30), default=ShipmentState.received)
    order: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the normalised order we ship from
    payment_method: Mapped[str] = mapped_column(String(10))  # COD | Prepaid
    declared_value: Mapped[Decimal]
    weight_kg: Mapped[Decimal] = mapped_column(Numeric(8, 3))
    length_cm: Mapped[Decimal] = mapped_column(Numeric(8, 1))
    breadth_cm: Mapped[Decimal] = mapped_column(Numeric(8, 1))
    height_cm: Mapped[Decimal] = mapped_column(Numeric(8, 1))
    courier_id: Mapped[str | None] = mapped_column(String(40), default=None)  # the aggregator's booking key
    # Which aggregator booked (or is booking) this shipment; tracking, cancellation, returns and remittance
    # go to that one. sr_order_id / sr_shipment_id hold that aggregator's ids whatever their name says.
    aggregator: Mapped[str] = mapped_column(String(20), default="shiprocket", server_default="shiprocket")
    courier_name: Mapped[str | None] = mapped_column(String(100), default=None)
    # Couriers the booking gave up on, oldest first: {"aggregator", "courier_id" ("*" = the whole
    # aggregator), "reason"}. The fallback never offers them again (app/fulfilment/routing.py).
    booking_hops: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list, server_default=text("'[]'::jsonb"))
    courier_reason: Mapped[str | None] = mapped_column(Text, default=None)
    sr_order_id: Mapped[str | None] = mapped_column(String(40), default=None)
    sr_shipment_id: Mapped[str | None] = mapped_column(String(40), default=None)
    awb: Mapped[str | None] = mapped_column(String(60), default=None, unique=True)
    awb_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    status_label: Mapped[str | None] = mapped_column(String(60), default=None)  # last value written to Zoho
    zoho_synced_label: Mapped[str | None] = mapped_column(String(60), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    hold_reason: Mapped[str | None] = mapped_column(Text, default=None)  # why the order is on_hold
    # Tracking (app/tracking): the courier-side status, separate from the fulfilment `state` above.
    # tracking_status is an app.tracking.statuses.TrackingStatus value ("in_transit", "delivered",
    # "rto_delivered", ...); delivered_at is when the courier delivered (remittance reads both).
    tracking_status: Mapped[str | None] = mapped_column(String(30), default=None)
    last_event_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    last_tracking_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    rto_initiated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    tracking_final: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    tracking_settled: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    # Dispatch after the AWB (migration 0004); the dashboard reads these names.
    pickup_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    pickup_scheduled_date: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    pickup_token_number: Mapped[str | None] = mapped_column(String(200), default=None)
    label_url: Mapped[str | None] = mapped_column(Text, default=None)
    manifest_url: Mapped[str | None] = mapped_column(Text, default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    # The sales order's invoices[] as last seen (webhook payload, write-back replies): lets remittance pay
    # without reading the order again; a stale entry costs one read when Zoho refuses (docs/BENCHMARKS.md).
    zoho_invoices: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB, default=None)
    # What a sales-order PUT must restate (number, customer, every line by id), as last seen in a webhook,
    # a read or a PUT's reply: custom-field writes need no read first (app/integrations/zoho/client.py).
    zoho_put_base: Mapped[dict[str, Any] | None] = mapped_column(JSONB, default=None)


class ShipmentLog(Base):
    """Append-only history of what the fulfilment did to a shipment, and why; read by ops and the demo."""

    __tablename__ = "shipment_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    step: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("dedupe_key", name="uq_alerts_dedupe"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    # One alert per (kind, subject) occurrence: a retried job must not page ops twice.
    dedupe_key: Mapped[str] = mapped_column(String(200))
    salesorder_id: Mapped[str | None] = mapped_column(String(40), default=None)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)  # ops
    resolved_by: Mapped[str | None] = mapped_column(String(100), default=None)  # ops
    delivered: Mapped[bool] = mapped_column(Boolean, default=False)  # pushed to ALERT_WEBHOOK_URL


class ApiToken(Base):
    """Upstream access tokens shared by every process (Zoho allows 10 token requests per 10 minutes)."""

    __tablename__ = "api_tokens"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)  # "shiprocket", "zoho"
    token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class OpsAction(Base):
    """One press of a repair button or one `shipbridge` repair command. Kept even when it did nothing
    (pressed twice, already resolved): the record of who touched an order is the point. Here with the
    spine's tables, not under app/ops/, because the hand cancel in fulfilment records into it too
    (app/web/outcome.py)."""

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
