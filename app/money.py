"""The one home of money and number parsing: what an upstream's JSON wrote (499, "499.00", " 7 ", null)
becomes a Decimal or an int here, and money leaves Shipbridge as rupees to two places from here.

Two kinds of parsing on purpose: `lenient_amount` / `amount_or_none` for fields that are only hints (a missing weight, a
quantity Zoho left out) where a default is the right answer, and `strict_amount`, the parser of amounts
that become payments (remittances, invoice balances), which refuses what it cannot read, because a wrong
amount there becomes a wrong payment in Books."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from app.parsing import Malformed

PAISA = Decimal("0.01")
ZERO = Decimal("0")


def amount_or_none(value: Any) -> Decimal | None:
    """A Decimal however the JSON wrote it (499, 499.5, "499.00", " 7 "); None for anything unreadable:
    None, "", a bool, a dict or list, words. No rounding: the caller decides what precision it needs."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        parsed = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return parsed if parsed.is_finite() else None  # "NaN", "Infinity": no amount


def lenient_amount(value: Any, default: Decimal = ZERO) -> Decimal:
    """`amount_or_none`, with `default` (zero unless given) where the value is unreadable."""
    parsed = amount_or_none(value)
    return default if parsed is None else parsed


def to_int(value: Any) -> int | None:
    """An integer however an upstream's JSON wrote it (7, "7", " 7 "); None for anything else, bools included."""
    if isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def rupees(value: Decimal) -> str:
    """Rupees as text with two places ("499.00"), as Zoho's and GoKwik's JSON write amounts."""
    return str(value.quantize(PAISA))


def rupees_or_none(value: Decimal | None) -> str | None:
    """`rupees` for a column that may be empty (the dashboard's views): None stays None."""
    return None if value is None else rupees(value)


def to_json_number(value: Decimal) -> float:
    """Rupees to two places (half up), as the float a JSON body carries; no binary noise leaks through."""
    return float(value.quantize(PAISA, rounding=ROUND_HALF_UP))


MAX_AMOUNT = Decimal("9999999999.99")  # Numeric(12, 2), where every amount is stored


def strict_amount(value: Any, what: str, *, default: Decimal | None = None) -> Decimal:
    """A non-negative amount (Decimal, int, "998.00" string, or a float by its shortest repr) in rupees,
    rounded half up to the paisa. A missing value (None, "") is `default`, or Malformed without one."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if default is not None:
            return default
        raise Malformed(f"{what} is missing")
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, float, str)):
        raise Malformed(f"{what} is not an amount ({str(value)[:40]!r})")
    try:
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise Malformed(f"{what} is not an amount ({str(value)[:40]!r})") from None
    if not amount.is_finite() or amount < 0:
        raise Malformed(f"{what} must be a non-negative amount, got {str(value)[:40]!r}")
    # Compared before rounding too: quantizing 1e30 to the paisa exceeds Decimal's precision and raises.
    rounded = amount.quantize(PAISA, rounding=ROUND_HALF_UP) if amount < MAX_AMOUNT + 1 else None
    if rounded is None or rounded > MAX_AMOUNT:  # would overflow its column in the worker, retried for nothing
        raise Malformed(f"{what} {str(value)[:40]!r} is larger than {MAX_AMOUNT}")
    return rounded
