"""Return Prime's return/exchange request, reduced to what Shipbridge acts on. Pure parsing of the
API's JSON (field names from integrators' schemas validated against the live API; see docs/fidelity.md):
the domain never sees Return Prime's JSON."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.money import lenient_amount

REQUEST_ID = re.compile(r"^[0-9a-f]{24}$")  # a Mongo ObjectId; a request number (RET777) is refused with 412


@dataclass(frozen=True)
class ReverseShipment:
    awb: str
    courier: str
    tracking_url: str


@dataclass(frozen=True)
class RequestLine:
    line_id: str  # the Shopify line-item id
    sku: str
    title: str
    quantity: Decimal
    price: Decimal
    reason: str
    shipping: tuple[ReverseShipment, ...]

    @property
    def awb(self) -> str:
        return next((s.awb for s in self.shipping if s.awb), "")


@dataclass(frozen=True)
class ReturnRequest:
    id: str
    number: str  # RET777, what the seller sees
    kind: str  # "return" | "exchange"
    order_id: str  # Shopify order id
    order_name: str  # "#113696"
    approved: bool
    received: bool
    rejected: bool
    archived: bool
    lines: tuple[RequestLine, ...]

    @property
    def actionable(self) -> bool:
        """Approved and not refused. `archived` alone is not a refusal: merchants archive finished ones."""
        return self.approved and not self.rejected


def _flag(data: dict[str, Any], *names: str) -> bool:
    for name in names:
        value = data.get(name)
        if isinstance(value, dict):
            return value.get("status") is True
        if isinstance(value, bool):
            return value
    return False


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def parse_request(data: dict[str, Any]) -> ReturnRequest:
    """Raises ValueError when the object is not a request at all (no id)."""
    request_id = _text(data.get("id") or data.get("_id"))
    if not REQUEST_ID.match(request_id):
        raise ValueError(f"not a Return Prime request id: {request_id[:40]!r}")
    order = _object(data.get("order"))
    lines = []
    for raw in data.get("line_items") or []:
        if not isinstance(raw, dict):
            continue
        product = _object(raw.get("original_product"))
        shipping = tuple(ReverseShipment(_text(s.get("awb")), _text(s.get("shipping_company")),
                                         _text(s.get("tracking_url")))
                         for s in raw.get("shipping") or [] if isinstance(s, dict))
        lines.append(RequestLine(line_id=_text(raw.get("id")), sku=_text(product.get("sku")),
                                 title=_text(product.get("title")), quantity=lenient_amount(raw.get("quantity")),
                                 price=lenient_amount(product.get("price")),
                                 reason=_text(raw.get("reason_detail") or raw.get("reason")), shipping=shipping))
    kind = _text(data.get("request_type")).lower() or "return"
    return ReturnRequest(id=request_id, number=_text(data.get("request_number")), kind=kind,
                         order_id=_text(order.get("id")), order_name=_text(order.get("name")),
                         approved=_flag(data, "approved"), received=_flag(data, "received"),
                         rejected=_flag(data, "rejected", "reject"), archived=_flag(data, "archived"),
                         lines=tuple(lines))
