"""Pure mapping of a Return Prime request onto a Zoho sales order Shipbridge shipped: its lines by SKU,
grouped by the reverse parcel that carries them. Anything that does not map exactly is refused with a
reason (Unmappable), never guessed."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from app.integrations.aggregator import ShipOrder
from app.integrations.returnprime.models import RequestLine, ReturnRequest
from app.tracking.returns import ReturnLine


class Unmappable(Exception):
    pass


@dataclass
class ParcelGroup:
    """The lines coming back in one reverse parcel: Return Prime's AWB, or "" for a pickup we book."""
    awb: str
    courier: str
    quantities: dict[str, Decimal] = field(default_factory=dict)  # Zoho line_item_id -> quantity
    request_lines: list[RequestLine] = field(default_factory=list)

    def return_lines(self) -> list[ReturnLine]:
        return [ReturnLine(line_id, qty) for line_id, qty in self.quantities.items()]


def channel_order_id(salesorder_number: str, request: ReturnRequest, awb: str) -> str:
    """Deterministic, so a booking whose answer was lost is found again (Shiprocket's duplicate-order
    check and our unique column both key on it) instead of booked twice."""
    base = f"{salesorder_number}-{request.number or request.id}"
    return (f"{base}-{awb}" if awb else base)[:60]


def map_lines(request: ReturnRequest, lines: list[RequestLine], order: ShipOrder) -> list[ParcelGroup]:
    by_sku: dict[str, list[str]] = {}
    for order_line in order.lines:
        if order_line.sku:
            by_sku.setdefault(order_line.sku.strip().lower(), []).append(order_line.line_item_id)
    groups: dict[str, ParcelGroup] = {}
    for line in lines:
        if line.quantity <= 0:
            raise Unmappable(f"{request.number}: line {line.line_id} has no quantity")
        if not line.sku:
            raise Unmappable(f"{request.number}: line {line.line_id} ({line.title}) has no SKU")
        matches = by_sku.get(line.sku.lower(), [])
        if not matches:
            raise Unmappable(f"{request.number}: SKU {line.sku} is not on sales order {order.salesorder_number}")
        awb = line.awb
        courier = next((s.courier for s in line.shipping if s.awb == awb), "") if awb else ""
        group = groups.setdefault(awb, ParcelGroup(awb, courier))
        # Two order lines with the same SKU are the same item: the first carries the return (the
        # quantity check in the customer-return path still refuses more than was shipped).
        target = matches[0]
        group.quantities[target] = group.quantities.get(target, Decimal(0)) + line.quantity
        group.request_lines.append(line)
    return list(groups.values())
