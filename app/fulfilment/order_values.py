"""What each line of a Zoho sales order costs the customer, in Shiprocket's terms: pure, Decimal only.

Shiprocket's `selling_price` is the per-unit price the customer pays, GST included; Zoho's line `rate`
excludes tax unless the order `is_inclusive_tax`, and a line `discount` ("10%" or an amount for the
line) comes off before tax. Prices are rounded UP to the paisa so the items never add up to less than
Zoho's figures; what the rounding adds back is part of the order-level discount the Shiprocket
mapping balances against the order total (see docs/fidelity.md, "Shiprocket payload values")."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any

from app.money import PAISA, ZERO, lenient_amount

HUNDRED = Decimal("100")


def line_discount(line: dict[str, Any], gross: Decimal) -> Decimal:
    """Zoho writes a line discount as "12.5%" (of the line) or as an amount for the whole line."""
    raw = line.get("discount")
    if isinstance(raw, str) and raw.strip().endswith("%"):
        return gross * lenient_amount(raw.strip()[:-1]) / HUNDRED
    amount = lenient_amount(raw)
    if amount == ZERO and line.get("discount_amount") not in (None, ""):
        amount = lenient_amount(line.get("discount_amount"))
    return amount


def tax_percent(line: dict[str, Any]) -> Decimal:
    return lenient_amount(line.get("tax_percentage"))


def line_total_incl_tax(line: dict[str, Any], *, inclusive: bool) -> Decimal:
    """What the customer pays for the whole line, unrounded: (rate x quantity - discount) plus GST."""
    gross = lenient_amount(line.get("rate")) * lenient_amount(line.get("quantity") or 1)
    net = gross - line_discount(line, gross)
    return net if inclusive else net * (1 + tax_percent(line) / HUNDRED)


def unit_selling_price(line: dict[str, Any], *, inclusive: bool) -> Decimal:
    """Per-unit, GST-inclusive, rounded up to the paisa (the difference goes into total_discount)."""
    quantity = lenient_amount(line.get("quantity") or 1) or Decimal(1)
    return (line_total_incl_tax(line, inclusive=inclusive) / quantity).quantize(PAISA, rounding=ROUND_CEILING)


def is_inclusive(so: dict[str, Any]) -> bool:
    return so.get("is_inclusive_tax") in (True, "true", "True", 1, "1")


def shipping_charge(so: dict[str, Any]) -> Decimal:
    """The shipping the customer pays; Zoho may tax it, and then says so in its own fields."""
    inclusive = so.get("shipping_charge_inclusive_of_tax")
    if inclusive not in (None, ""):
        return lenient_amount(inclusive).quantize(PAISA, rounding=ROUND_HALF_UP)
    amount = lenient_amount(so.get("shipping_charge"))
    rate = lenient_amount(so.get("shipping_charge_tax_percentage"))
    if rate and not is_inclusive(so):
        amount = amount * (1 + rate / HUNDRED)
    return amount.quantize(PAISA, rounding=ROUND_HALF_UP)
