"""app.money is the one home of amount and number parsing: these pin the behaviour the seven helpers it
replaced had, so every caller reads an upstream's number the way it did before."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.money import amount_or_none, lenient_amount, rupees, rupees_or_none, to_int, to_json_number


@pytest.mark.parametrize(("value", "expected"), [
    (499, Decimal("499")), ("499.00", Decimal("499.00")), (" 7 ", Decimal("7")), (12.5, Decimal("12.5")),
    (Decimal("0.10"), Decimal("0.10")), (0, Decimal("0")),
])
def test_amount_or_none_reads_numbers_however_json_wrote_them(value: object, expected: Decimal) -> None:
    assert amount_or_none(value) == expected


@pytest.mark.parametrize("value", [None, "", "   ", True, False, {"rate": 5}, [5], "abc", "1,000", object()])
def test_amount_or_none_is_none_for_what_is_not_a_number(value: object) -> None:
    assert amount_or_none(value) is None


def test_lenient_amount_falls_back_to_its_default() -> None:
    assert lenient_amount("x") == Decimal("0")
    assert lenient_amount(None, Decimal("1")) == Decimal("1")
    assert lenient_amount(True, Decimal("2")) == Decimal("2")  # a bool is no amount, though int(True) == 1
    assert lenient_amount("3.5", Decimal("1")) == Decimal("3.5")


@pytest.mark.parametrize(("value", "expected"), [
    (7, 7), ("7", 7), (" 7 ", 7), (True, None), (False, None), (None, None), ("7.5", None), ({}, None), ("", None),
])
def test_to_int(value: object, expected: int | None) -> None:
    assert to_int(value) == expected


def test_rupees_formats_two_places() -> None:
    assert rupees(Decimal("499")) == "499.00"
    assert rupees(Decimal("0.125")) == "0.12"  # Decimal's default rounding (half even), as Zoho's totals were
    assert rupees_or_none(None) is None
    assert rupees_or_none(Decimal("1.5")) == "1.50"


def test_json_number_rounds_half_up_in_decimal_first() -> None:
    assert to_json_number(Decimal("0.125")) == 0.13
    assert to_json_number(Decimal("499")) == 499.0
