"""What the remittance ops views answer, as pydantic models so OpenAPI documents them. Money is the
"998.00" string the views have always carried; dates are ISO strings."""

from __future__ import annotations

from pydantic import BaseModel


class RemittanceView(BaseModel):
    remittance_id: str
    utr: str | None
    remittance_date: str
    sources: list[str]
    bank_transfer_amount: str | None
    gross: str | None
    deductions: str | None
    expected_transfer: str | None
    difference: str | None
    mismatch: bool
    lines: int
    paid: int
    pending: int
    flagged: int


class LineView(BaseModel):
    remittance_id: str
    awb: str
    order_id: str
    cod_amount: str | None
    deducted_charges: str | None
    deductions_allocated: bool
    source: str
    state: str
    problem: str | None
    detail: str | None
    salesorder_id: str | None
    salesorder_number: str | None
    invoice_id: str | None
    invoice_number: str | None
    invoice_balance: str | None
    payment_id: str | None
    payment_reference: str
    paid_at: str | None
    so_updated: bool
    so_error: str | None


class OverdueView(BaseModel):
    salesorder_id: str
    salesorder_number: str | None
    awb: str | None
    tracking_status: str | None
    delivered_at: str
    days_since_delivery: int
    cod_amount: str | None


class PollerView(BaseModel):
    polled_from: str | None
    polled_through: str | None
    polled_at: str | None


class RemittanceList(BaseModel):
    remittances: list[RemittanceView]
    poller: PollerView | None  # Shiprocket's
    pollers: dict[str, PollerView | None] = {}  # every aggregator polled, by name


class RemittanceExceptions(BaseModel):
    mismatches: list[RemittanceView]
    lines: list[LineView]
    overdue: list[OverdueView]
    overdue_days: int
    overdue_since: str


class RemittanceDetail(RemittanceView):
    orders: list[LineView]


class RemittanceRetry(BaseModel):
    remittance_id: str
    reopened: int
    enqueued: bool
