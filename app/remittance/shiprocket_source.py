"""Shiprocket's remittance API, read-only: the batch listing (`GET /account/details/remittance`, totals
and UTR per batch) and the per-order remittance fields of `GET /orders/show/{id}`. I/O plus the
mapping of those bodies into our words; Shiprocket writes money as "186895.00" strings or numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from app.integrations.http import PermanentUpstreamError, parse_body, upstream_message
from app.integrations.shiprocket.client import SERVICE, ShiprocketClient
from app.remittance.reconcile import to_money

IST = timezone(timedelta(hours=5, minutes=30), "IST")
LISTING_PATH = "/account/details/remittance"
WINDOW_DAYS = 28  # other public clients read the listing in 28-day windows
PAGE_SIZE = 100
MAX_PAGES = 50
# The listing wants "2025-May-01"; spelt out so the process locale can never change it.
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def listing_date(day: date) -> str:
    return f"{day.year:04d}-{MONTHS[day.month - 1]}-{day.day:02d}"


def ist_today(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(IST).date()


@dataclass(frozen=True)
class Batch:
    """One row of the listing. `crf_id` is the batch id (the webhook's remittance_id)."""

    crf_id: str
    utr: str
    remittance_date: date
    remitted: Decimal  # what reached the bank
    deductions: Decimal
    gross: Decimal  # `cod_payble`
    status: str


@dataclass(frozen=True)
class OrderRemittance:
    sr_order_id: str
    awb: str
    channel_order_id: str
    utr: str
    remittance_date: str
    cod_amount: Decimal


def parse_batch(row: dict[str, Any]) -> Batch | None:
    """None for a row without a UTR (no bank transfer has happened yet, so nothing to record) or a date."""
    utr = str(row.get("utr") or "").strip()
    crf_id = str(row.get("crf_id") or "").strip()
    if not utr or not crf_id:
        return None
    created = str(row.get("created_at") or "")
    try:  # epoch seconds in the real sample; a "2025-05-05 10:30:33" string is taken as IST
        day = datetime.fromtimestamp(int(created), UTC).astimezone(IST).date()
    except (ValueError, OverflowError):
        try:
            day = datetime.fromisoformat(created).date()
        except ValueError:
            return None
    return Batch(crf_id=crf_id, utr=utr, remittance_date=day, remitted=to_money(row.get("remitted_value")),
                 deductions=to_money(row.get("deduction_value")), gross=to_money(row.get("cod_payble")),
                 status=str(row.get("status") or ""))


def parse_order_remittance(data: dict[str, Any]) -> OrderRemittance:
    shipments = data.get("shipments")
    ship = shipments[0] if isinstance(shipments, list) and shipments else (shipments or {})
    awb = str((ship or {}).get("awb") or (data.get("awb_data") or {}).get("awb") or "")
    amount = data.get("net_total") if data.get("net_total") not in (None, "") else data.get("total")
    return OrderRemittance(sr_order_id=str(data.get("id") or ""), awb=awb,
                           channel_order_id=str(data.get("channel_order_id") or ""),
                           utr=str(data.get("remittance_utr") or "").strip(),
                           remittance_date=str(data.get("remittance_date") or ""), cod_amount=to_money(amount))


async def list_batches(client: ShiprocketClient, start: date, end: date) -> list[Batch]:
    batches: dict[str, Batch] = {}
    window_start = start
    while window_start <= end:
        window_end = min(end, window_start + timedelta(days=WINDOW_DAYS - 1))
        for page in range(1, MAX_PAGES + 1):
            response = await client.call("GET", LISTING_PATH, params={
                "from": listing_date(window_start), "to": listing_date(window_end), "page": page,
                "per_page": PAGE_SIZE})
            body = parse_body(response)
            if response.status_code != 200 or not isinstance(body, dict):
                raise PermanentUpstreamError(SERVICE, upstream_message(response), status=response.status_code,
                                             body=body)
            for row in body.get("data") or []:
                batch = parse_batch(row) if isinstance(row, dict) else None
                if batch is not None:
                    batches.setdefault(batch.crf_id, batch)
            pagination = (body.get("meta") or {}).get("pagination") or {}
            if int(pagination.get("current_page") or page) >= int(pagination.get("total_pages") or 1):
                break
        window_start = window_end + timedelta(days=1)
    return sorted(batches.values(), key=lambda b: (b.remittance_date, b.crf_id))


async def order_remittance(client: ShiprocketClient, sr_order_id: str) -> OrderRemittance | None:
    response = await client.call("GET", f"/orders/show/{sr_order_id}")
    body = parse_body(response)
    if response.status_code == 400 or (response.status_code == 404):
        return None  # "Order ID not found": nothing to learn about it
    if response.status_code != 200 or not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        raise PermanentUpstreamError(SERVICE, upstream_message(response), status=response.status_code, body=body)
    return parse_order_remittance(body["data"])
