"""Money leaving Shipbridge as a JSON number: rounded in Decimal first, converted at the edge."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def to_json_number(value: Decimal) -> float:
    """Rupees to two places (half up), as the float a JSON body carries; no binary noise leaks through."""
    return float(value.quantize(CENT, rounding=ROUND_HALF_UP))
