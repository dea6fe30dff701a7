"""What tracking's ops endpoints answer (customer returns, a parcel's history), as pydantic models so
OpenAPI documents them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ReturnView(BaseModel):
    return_id: int
    salesorder_id: str
    salesorder_number: str
    channel_order_id: str
    state: str
    awb: str | None
    courier_name: str | None
    sr_order_id: str | None
    lines: list[dict[str, Any]]
    reason: str
    tracking_status: str | None
    last_error: str | None


class TrackingEventView(BaseModel):
    at: str
    status: str
    scheme: str | None
    shipment_status_id: int | None
    shipment_status: str
    current_status_id: int | None
    current_status: str
    scan: str
    scan_code: str
    scan_location: str
    source: str
    inbox_event_id: int | None
    received_at: str
    applied: bool
    outcome: str | None


class TrackingHistory(BaseModel):
    awb: str
    salesorder_id: str
    is_return: bool
    tracking_status: str | None
    label: str | None
    delivered_at: str | None
    final: bool
    events: list[TrackingEventView]
