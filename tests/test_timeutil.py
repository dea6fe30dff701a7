"""app.timeutil: the seller's day is the IST day, which the UTC day is not for its first 5½ hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from app.timeutil import IST, ist_midnight, ist_today, parse_date, utcnow, zoho_date


def test_ist_day_runs_ahead_of_utc_after_1830() -> None:
    late_evening_utc = datetime(2026, 3, 14, 19, 0, tzinfo=UTC)  # 00:30 on the 15th in India
    assert ist_today(late_evening_utc) == date(2026, 3, 15)
    assert zoho_date(late_evening_utc) == "2026-03-15"
    assert ist_today(datetime(2026, 3, 14, 18, 0, tzinfo=UTC)) == date(2026, 3, 14)


def test_ist_midnight_is_aware_and_five_and_a_half_hours_before_utc_midnight() -> None:
    start = ist_midnight(date(2026, 3, 15))
    assert start.tzinfo is IST
    assert start.astimezone(UTC) == datetime(2026, 3, 14, 18, 30, tzinfo=UTC)


def test_utcnow_is_aware() -> None:
    assert utcnow().utcoffset() == timedelta(0)


def test_parse_date_reads_zoho_dates_and_falls_back_to_today() -> None:
    assert parse_date("2026-03-15") == date(2026, 3, 15)
    assert parse_date("2026-03-15T10:00:00+0530") == date(2026, 3, 15)
    assert parse_date("garbage") == ist_today()  # the seller's day, not UTC's (yesterday before 05:30 IST)
    assert parse_date(None) == ist_today()
