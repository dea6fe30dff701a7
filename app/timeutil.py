"""The one home of time: the database stores UTC, the sellers, Zoho's calendar dates and the Indian
aggregators live in IST. Every conversion between the two is written here once."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

IST = ZoneInfo("Asia/Kolkata")


def utcnow() -> datetime:
    """Now, timezone-aware: what every stored timestamp is written with."""
    return datetime.now(UTC)


def ist_today(now: datetime | None = None) -> date:
    """The seller's calendar day (IST), which is not the UTC day for the first 5½ hours of it."""
    return (now or utcnow()).astimezone(IST).date()


def ist_midnight(day: date) -> datetime:
    """The start of an IST calendar day as an aware datetime (compared with UTC columns as it is)."""
    return datetime.combine(day, time(0), IST)


def zoho_date(when: datetime | None = None) -> str:
    """A Zoho date field ("2026-03-15"): the IST calendar day of `when` (now if None)."""
    return ist_today(when).isoformat()


def parse_date(value: Any) -> date:
    """The calendar date at the start of a Zoho date or datetime string; the seller's today (IST) when
    unreadable, because an order with a garbled date is still an order to ship (and before 05:30 IST the
    UTC date is still yesterday in India)."""
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return ist_today()
