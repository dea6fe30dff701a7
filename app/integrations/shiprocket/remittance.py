"""Shiprocket's remittance API in the neutral words (RemittanceBatch, OrderRemittance), pure: rows of the
batch listing (`GET /account/details/remittance`, totals and UTR per batch, no per-order lines) and the
remittance fields of `GET /orders/show/{id}`. The I/O is ShiprocketClient.remittances / remittance_order.
Shiprocket writes money as "186895.00" strings or numbers; an unusable amount raises Malformed (the
listing reports that row as unreadable and goes on).

`money` is remittance's strict amount parser (non-negative, to the paisa, fits Numeric(12, 2)); it is
imported from there, not copied, until it moves to the foundation (pyproject's import contracts list
this import as the one to remove then)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from app.integrations.shipping import OrderRemittance, RemittanceBatch
from app.money import ZERO, strict_amount
from app.timeutil import IST

WINDOW_DAYS = 28  # other public clients read the listing in 28-day windows
PAGE_SIZE = 100
MAX_PAGES = 50


def windows(start: date, end: date) -> Iterator[tuple[date, date]]:
    """`start`..`end` in consecutive windows of at most WINDOW_DAYS days."""
    while start <= end:
        window_end = min(end, start + timedelta(days=WINDOW_DAYS - 1))
        yield start, window_end
        start = window_end + timedelta(days=1)


def last_page(body: dict[str, Any], page: int) -> bool:
    pagination = (body.get("meta") or {}).get("pagination") or {}
    try:
        return int(pagination.get("current_page") or page) >= int(pagination.get("total_pages") or 1)
    except (TypeError, ValueError):
        return True


def parse_batch(row: dict[str, Any]) -> RemittanceBatch | None:
    """None for a row without a UTR (no bank transfer has happened yet, so nothing to record) or a date.
    Malformed for a row whose amounts are not amounts."""
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
    what = f"remittance {crf_id}"
    # `crf_id` is the batch id (the webhook's remittance_id); the listing itemises nothing.
    return RemittanceBatch(batch_id=crf_id, utr=utr, remittance_date=day,
                           remitted=strict_amount(row.get("remitted_value"), f"{what} remitted_value", default=ZERO),
                           deductions=strict_amount(row.get("deduction_value"), f"{what} deduction_value",
                                                      default=ZERO),
                           gross=strict_amount(row.get("cod_payble"), f"{what} cod_payble", default=ZERO))


def parse_order_remittance(data: dict[str, Any]) -> OrderRemittance:
    amount = data.get("net_total") if data.get("net_total") not in (None, "") else data.get("total")
    return OrderRemittance(channel_order_id=str(data.get("channel_order_id") or ""),
                           utr=str(data.get("remittance_utr") or "").strip(),
                           cod_amount=strict_amount(amount, f"order {data.get('id')} net_total", default=ZERO))
