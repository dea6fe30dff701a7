"""The remittance record both sources produce, and the parser of its JSON shape (pure).

The shape is the integration guide's COD_REMITTANCE webhook: `remittance_id`, `remittance_date`,
`bank_transfer_amount`, `orders[]` of `awb`, `order_id`, `cod_amount`, `deducted_charges`. The poller
renders what it reads from Shiprocket's API in the same shape, adding `utr` and
`deductions_allocated`, so one handler serves both. Money is parsed straight into Decimal (strings or
numbers, never through float arithmetic: JSON numbers are decoded as Decimal); anything unusable
raises Malformed with a reason. Amounts go through `app.money.strict_amount`, the one strict parser of
rupee amounts, which both aggregators' remittance mappings use too."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from app.money import strict_amount
from app.parsing import Malformed, body_digest, decode_json_body

ZERO = Decimal(0)
MAX_ID_CHARS = 60


@dataclass(frozen=True)
class RemittanceLine:
    awb: str
    order_id: str
    cod_amount: Decimal
    deducted_charges: Decimal


@dataclass(frozen=True)
class Remittance:
    remittance_id: str
    remittance_date: date
    bank_transfer_amount: Decimal
    lines: tuple[RemittanceLine, ...] = field(default=())
    utr: str | None = None
    deductions_allocated: bool = False  # per-AWB deductions apportioned from the batch total (poller)


def _identifier(value: Any, what: str) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        raise Malformed(f"{what} is missing")
    text = str(value).strip()
    if not text:
        raise Malformed(f"{what} is missing")
    if len(text) > MAX_ID_CHARS:
        raise Malformed(f"{what} is longer than {MAX_ID_CHARS} characters")
    return text


def _date(value: Any) -> date:
    day = _read_date(value)
    if not 2000 <= day.year < 2100:  # year 1 is a corrupt body, not a remittance to post to Books
        raise Malformed(f"remittance_date {str(value)[:40]!r} is out of range")
    return day


def _read_date(value: Any) -> date:
    text = str(value or "").strip()
    if not text:
        raise Malformed("remittance_date is missing")
    for fmt in ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%d-%m-%Y", "%d/%m/%Y", "%Y-%b-%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        raise Malformed(f"remittance_date {text[:40]!r} is not a date") from None


def parse_remittance(raw: bytes, content_type: str = "application/json") -> Remittance:
    data = decode_json_body(raw, content_type, parse_float=Decimal)
    if not isinstance(data, dict):
        raise Malformed("body is not a JSON object")
    return remittance_from_json(data)


def remittance_from_json(data: dict[str, Any]) -> Remittance:
    remittance_id = _identifier(data.get("remittance_id"), "remittance_id")
    orders = data.get("orders")
    if not isinstance(orders, list):
        raise Malformed("orders is missing or not a list")
    lines: list[RemittanceLine] = []
    seen: set[str] = set()
    for n, order in enumerate(orders, start=1):
        if not isinstance(order, dict):
            raise Malformed(f"orders[{n}] is not an object")
        awb = _identifier(order.get("awb"), f"orders[{n}].awb")
        if awb in seen:
            raise Malformed(f"AWB {awb} appears twice in the remittance")
        seen.add(awb)
        lines.append(RemittanceLine(
            awb=awb, order_id=str(order.get("order_id") or "")[:MAX_ID_CHARS],
            cod_amount=strict_amount(order.get("cod_amount"), f"orders[{n}].cod_amount"),
            deducted_charges=strict_amount(order.get("deducted_charges", 0) or 0, f"orders[{n}].deducted_charges")))
    utr = data.get("utr")
    return Remittance(
        remittance_id=remittance_id, remittance_date=_date(data.get("remittance_date")),
        bank_transfer_amount=strict_amount(data.get("bank_transfer_amount"), "bank_transfer_amount"),
        lines=tuple(lines), utr=_identifier(utr, "utr") if utr else None,
        deductions_allocated=bool(data.get("deductions_allocated")))


def remittance_to_json(remittance: Remittance) -> dict[str, Any]:
    """The guide's shape (amounts as "998.00" strings), plus utr and deductions_allocated."""
    return {
        "remittance_id": remittance.remittance_id,
        "remittance_date": remittance.remittance_date.isoformat(),
        "bank_transfer_amount": str(remittance.bank_transfer_amount),
        "utr": remittance.utr,
        "deductions_allocated": remittance.deductions_allocated,
        "orders": [{"awb": ln.awb, "order_id": ln.order_id, "cod_amount": str(ln.cod_amount),
                    "deducted_charges": str(ln.deducted_charges)} for ln in remittance.lines],
    }


def dedupe_key(prefix: str, remittance_id: str | None, raw: bytes) -> str:
    """A redelivery repeats the body byte for byte; a corrected batch (new lines) is a new event."""
    return f"{prefix}:{remittance_id or '-'}:{body_digest(raw)[:32]}"
