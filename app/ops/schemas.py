"""What the ops JSON endpoints answer, as pydantic models so OpenAPI documents them. Times are ISO
strings and money the "998.00" strings the views have always carried. Optional parts that a view leaves
out (an `error` only when Redis is down) stay out: the routes answer with `response_model_exclude_unset`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ActionOutcome(BaseModel):
    outcome: str  # done | noop | refused | failed
    detail: str


class RecordedAction(BaseModel):
    id: int
    at: str
    actor: str
    action: str
    target: str
    outcome: str
    detail: str


class RecentActions(BaseModel):
    actions: list[RecordedAction]


class AttentionItem(BaseModel):
    rule: str
    reason: str
    todo: str
    salesorder_id: str | None = None
    salesorder_number: str | None = None
    awb: str | None = None
    detail: str = ""
    since: str | None = None
    actions: list[str] = []
    ref: str | None = None
    aggregator: str | None = None  # who booked the parcel; None before a booking exists


class OpenAlert(BaseModel):
    id: int
    kind: str
    salesorder_id: str | None
    message: str
    created_at: str | None
    delivered: bool


class TokenState(BaseModel):
    expires_at: str | None
    valid: bool
    refreshed_at: str | None


class QueueState(BaseModel):
    depth: int | None
    oldest_job_age_seconds: float | None
    deferred: int | None
    error: str | None = None  # only when Redis did not answer


class ZohoBudget(BaseModel):
    scope: str
    limit: int
    used: int | None = None  # None when Redis did not answer
    day: str | None = None
    remaining: int | None = None
    deferring: bool | None = None
    deferred_pending: int | None = None
    zoho_remaining: int | None = None
    error: str | None = None


class Summary(BaseModel):
    generated_at: str
    shipments_by_state: dict[str, int]
    attention: list[AttentionItem]
    attention_count: int
    open_alerts: list[OpenAlert]
    last_webhook: dict[str, str | None]
    tokens: dict[str, TokenState]
    today: dict[str, int]
    queue: QueueState
    upstreams: dict[str, dict[str, Any]]  # per upstream: recent calls, errors, error rate, last error
    zoho_budget: ZohoBudget


class StoryInbox(BaseModel):
    event_id: int
    source: str
    state: str
    reason: str | None
    received_at: str | None
    attempts: int


class StoryAlert(BaseModel):
    id: int
    kind: str
    message: str
    created_at: str | None
    resolved: bool
    resolved_by: str | None
    resolved_at: str | None


class StoryAction(BaseModel):
    at: str | None
    actor: str
    action: str
    outcome: str
    detail: str


class StoryHop(BaseModel):
    """A courier (courier_id "*": the whole aggregator) the booking gave up on, and why."""
    aggregator: str
    courier_id: str
    reason: str


class StoryShipment(BaseModel):
    salesorder_number: str
    channel_order_id: str
    state: str
    payment_method: str
    declared_value: str | None
    courier_name: str | None
    courier_reason: str | None
    aggregator: str | None  # who booked it; None before a booking exists
    booking_hops: list[StoryHop]  # oldest first
    sr_order_id: str | None
    sr_shipment_id: str | None
    awb: str | None
    awb_attempts: int
    status_label: str | None
    zoho_synced_label: str | None
    last_error: str | None
    hold_reason: str | None
    tracking_status: str | None
    last_event_at: str | None
    delivered_at: str | None
    created_at: str | None
    updated_at: str | None
    label_url: str | None
    manifest_url: str | None
    pickup_scheduled_date: str | None
    pickup_token_number: str | None
    cancelled_at: str | None
    customer: dict[str, Any]  # name, phone, city, state, pincode: what the seller needs to call


class StoryStep(BaseModel):
    at: str | None
    step: str
    detail: str


class StoryTracking(BaseModel):
    at: str | None
    status: str
    shipment_status: str
    scan: str
    location: str
    source: str
    outcome: str | None


class StoryRemittanceLine(BaseModel):
    remittance_id: str
    awb: str
    state: str
    cod_amount: str | None
    deducted_charges: str | None
    problem: str | None
    payment_id: str | None


class OrderStory(BaseModel):
    salesorder_id: str
    shipment: StoryShipment | None
    steps: list[StoryStep]
    tracking: list[StoryTracking]
    remittance_lines: list[StoryRemittanceLine]
    inbox: list[StoryInbox]
    alerts: list[StoryAlert]
    actions_taken: list[StoryAction]
    available_actions: list[str]


class Readiness(BaseModel):
    """GET /readyz: "ok" for each part that is ready, else what is wrong with it (503 then)."""
    status: str  # ok | unavailable
    postgres: str
    migrations: str
    redis: str
    worker: str
    failing: list[str] | None = None  # only when unavailable: the parts that are not "ok"


class RtoRiskCell(BaseModel):
    """Orders of one risk category, by outcome, and the RTO rate among those delivered or RTO'd."""
    orders: int
    delivered: int
    rto: int
    cancelled: int
    lost: int
    held: int
    in_transit: int
    rto_rate: float | None


class RtoRiskReport(BaseModel):
    """GET /ops/reports/rto-risk: counts per GoKwik category overall (`by_category`) and per courier or
    pincode (`by_courier` or `by_pincode`, as `by` asked; the other is left out of the answer)."""
    since: str | None
    until: str | None
    orders: int
    by_category: dict[str, RtoRiskCell]
    by_courier: dict[str, dict[str, RtoRiskCell]] | None = None
    by_pincode: dict[str, dict[str, RtoRiskCell]] | None = None
