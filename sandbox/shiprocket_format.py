"""How Shiprocket writes times and money, in one place.

One real payload mixes "Jul 01, 2024" (serviceability etd), "DD MM YYYY HH:mm:ss" (webhook
current_timestamp), "YYYY-MM-DD HH:mm:ss" (almost everywhere else) and "21 Sep 2022 05:28 PM" (order
views), all in IST; money comes back as numbers in some places and as "123.00" strings in others.
The simulator keeps datetimes timezone-aware and money as Decimal, and only formats at the edge.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, TypeVar

T = TypeVar("T")

IST = timezone(timedelta(hours=5, minutes=30), "IST")  # India has no DST, so a fixed offset is exact.
PAISA = Decimal("0.01")


def now_ist() -> datetime:
    return datetime.now(IST)


def as_ist(when: datetime) -> datetime:
    """Naive datetimes are taken to be IST already (that is how Shiprocket writes them)."""
    return when.replace(tzinfo=IST) if when.tzinfo is None else when.astimezone(IST)


def ymd_hms(when: datetime | None) -> str | None:
    return None if when is None else as_ist(when).strftime("%Y-%m-%d %H:%M:%S")


def webhook_timestamp(when: datetime) -> str:
    return as_ist(when).strftime("%d %m %Y %H:%M:%S")


def etd_label(when: datetime) -> str:
    return as_ist(when).strftime("%b %d, %Y")


def panel_time(when: datetime) -> str:
    return as_ist(when).strftime("%d %b %Y %I:%M %p")


def php_datetime(when: datetime) -> dict[str, Any]:
    """PHP DateTime serialised by Laravel, as in `assigned_date_time` and `pickup_generated_date`."""
    return {"date": as_ist(when).strftime("%Y-%m-%d %H:%M:%S.%f"), "timezone_type": 3,
            "timezone": "Asia/Kolkata"}


def remittance_query_date(text: str) -> date:
    """`from`/`to` of the remittance listing look like 2025-May-01."""
    return datetime.strptime(text, "%Y-%b-%d").date()


def int_param(value: Any, default: T) -> int | T:
    """An integer from a query string or JSON value, or `default` when it is absent or not a number."""
    try:
        return int(str(value).strip())
    except ValueError:
        return default


def to_decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def money(value: Decimal) -> Decimal:
    return value.quantize(PAISA, rounding=ROUND_HALF_UP)


def money_str(value: Decimal) -> str:
    return str(money(value))


def money_num(value: Decimal) -> int | float:
    """A JSON number the way PHP emits it: 54, 150.12 (only at the edge; never used for arithmetic)."""
    value = money(value)
    return int(value) if value == value.to_integral_value() else float(value)
