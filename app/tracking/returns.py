"""Customer-initiated returns of a delivered order: a Shiprocket return order (the customer is the
pickup, our warehouse the destination) for chosen lines, and its AWB. From then on the return parcel is
tracked by the same pipeline (`is_return`) and restocked by the same sales-return path on delivery.

Each step is persisted before the next, so a failure leaves the return in a state `advance_return`
resumes from (the ops retry endpoint and the CLI call it), and a repeated booking is recognised by its
order id ("<SO number>-RET<n>") instead of creating a second return order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from app.alerts import raise_alert
from app.errors import DomainError
from app.fulfilment import repository as fulfilment_repository
from app.fulfilment.order_mapping import ship_order_from_json
from app.integrations.aggregator import (
    Address,
    AwbAlreadyAssigned,
    AwbAssignment,
    CreatedOrder,
    DuplicateOrder,
    OrderLine,
    Parcel,
    ReturnOrder,
)
from app.integrations.http import PermanentUpstreamError
from app.integrations.shipping import UnsupportedByAggregator, display_name
from app.locks import advisory_lock, order_lock_name
from app.models import Shipment, ShipmentLog
from app.services import Services
from app.timeutil import ist_today
from app.tracking import repository
from app.tracking.models import CustomerReturn
from app.tracking.statuses import TrackingStatus

MIN_WEIGHT_KG = Decimal("0.1")


class ReturnRefused(DomainError):
    """The request cannot be honoured as asked; `status` is the HTTP status the ops API answers."""

    code = "return_refused"

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message, status=status)


@dataclass(frozen=True)
class ReturnLine:
    line_item_id: str
    quantity: Decimal


@dataclass(frozen=True)
class KnownReturn:
    """A return whose identity is decided by the caller (a returns portal): its own channel order id, and
    the reverse AWB when the portal already booked the pickup (then nothing is booked, only tracked)."""
    channel_order_id: str
    awb: str = ""
    courier_name: str = ""


async def request_return(svc: Services, salesorder_id: str, lines: list[ReturnLine] | None,
                         reason: str = "", known: KnownReturn | None = None) -> CustomerReturn:
    async with advisory_lock(svc.engine, order_lock_name(salesorder_id)) as held:
        if not held:
            raise ReturnRefused(409, "the order is being updated right now; try again in a moment")
        return_id = await _book(svc, salesorder_id, lines, reason, known)
        try:
            return await _advance(svc, return_id)
        except UnsupportedByAggregator as exc:
            await _unsupported(svc, return_id, exc)
            raise ReturnRefused(409, exc.upstream_message) from None


async def advance_return(svc: Services, return_id: int) -> CustomerReturn:
    async with svc.sessionmaker() as session:
        ret = await repository.customer_return(session, return_id)
    if ret is None:
        raise ReturnRefused(404, f"no customer return {return_id}")
    async with advisory_lock(svc.engine, order_lock_name(ret.salesorder_id)) as held:
        if not held:
            raise ReturnRefused(409, "the order is being updated right now; try again in a moment")
        return await _advance(svc, return_id)


async def _book(svc: Services, salesorder_id: str, lines: list[ReturnLine] | None, reason: str,
                known: KnownReturn | None = None) -> int:
    async with svc.sessionmaker.begin() as session:
        shipment = await fulfilment_repository.shipment_by_salesorder(session, salesorder_id)
        if shipment is None:
            raise ReturnRefused(404, f"Shipbridge has no shipment for sales order {salesorder_id}")
        if shipment.tracking_status != TrackingStatus.delivered:
            raise ReturnRefused(409, f"only a delivered order can be returned; {shipment.salesorder_number} is "
                                     f"{shipment.tracking_status or 'not tracked yet'}")
        order = ship_order_from_json(shipment.order)
        earlier = await repository.returns_of(session, salesorder_id)
        taken: dict[str, Decimal] = {}
        for prior in earlier:
            # A failed booking still holds its lines: it can be retried, and booking them again as well
            # would return more than was ordered. Only a cancelled return frees them.
            if prior.tracking_status == TrackingStatus.cancelled:
                continue
            for taken_line in prior.lines:
                key = taken_line["line_item_id"]
                taken[key] = taken.get(key, Decimal(0)) + Decimal(taken_line["quantity"])
        by_id = {line.line_item_id: line for line in order.lines}
        if lines is None:  # everything not returned yet
            lines = [ReturnLine(line.line_item_id, line.quantity - taken.get(line.line_item_id, Decimal(0)))
                     for line in order.lines]
            lines = [wanted for wanted in lines if wanted.quantity > 0]
            if not lines:
                raise ReturnRefused(409, f"everything on {shipment.salesorder_number} is already being returned")
        chosen = []
        for wanted in lines:
            found = by_id.get(wanted.line_item_id)
            if found is None:
                raise ReturnRefused(422, f"line {wanted.line_item_id} is not on {shipment.salesorder_number}")
            line = found
            left = line.quantity - taken.get(line.line_item_id, Decimal(0))
            if wanted.quantity <= 0 or wanted.quantity > left:
                raise ReturnRefused(422, f"{line.name}: can return at most {format(left.normalize(), 'f')}, "
                                         f"not {wanted.quantity}")
            chosen.append({"line_item_id": line.line_item_id, "item_id": line.item_id, "sku": line.sku,
                           "name": line.name, "quantity": format(wanted.quantity.normalize(), "f"),
                           "rate": str(line.rate), "hsn": line.hsn, "tax_percent": str(line.tax_percent)})
        if not order.address.email and not (known and known.awb):
            raise ReturnRefused(422, f"the order has no customer email, which "
                                     f"{display_name(shipment.aggregator)} requires for a return")
        ret = CustomerReturn(shipment_id=shipment.id, salesorder_id=salesorder_id,
                             salesorder_number=shipment.salesorder_number,
                             channel_order_id=known.channel_order_id if known else
                             f"{shipment.salesorder_number}-RET{len(earlier) + 1}",
                             lines=chosen, reason=reason[:500], state="requested")
        if known and known.awb:  # the portal's own pickup: track it, book nothing
            ret.state, ret.awb, ret.courier_name = "awb_assigned", known.awb, known.courier_name[:100] or None
            ret.tracking_status = TrackingStatus.awb_assigned.value
        session.add(ret)
        await session.flush()
        session.add(ShipmentLog(shipment_id=shipment.id, step="return_requested",
                                detail=f"{ret.channel_order_id}: " + ", ".join(f"{c['quantity']} x {c['name']}"
                                                                               for c in chosen)))
        return ret.id


async def _unsupported(svc: Services, return_id: int, exc: UnsupportedByAggregator) -> None:
    """The shipment's aggregator books no returns (Shiplee): the return can never be booked here, so it
    is closed as cancelled (its lines free again) and the caller is told to use the aggregator's panel."""
    async with svc.sessionmaker() as session:
        ret = await repository.customer_return(session, return_id)
    assert ret is not None
    await _save(svc, ret, "return_refused", exc.upstream_message, state="failed", last_error=exc.upstream_message,
                tracking_status=TrackingStatus.cancelled.value, tracking_final=True)


async def _advance(svc: Services, return_id: int) -> CustomerReturn:
    async with svc.sessionmaker() as session:
        ret = await repository.customer_return(session, return_id)
        assert ret is not None
        shipment = await repository.shipment(session, ret.shipment_id)
        assert shipment is not None
    if ret.state in ("requested", "failed"):
        await _book_with_aggregator(svc, ret, shipment)
    if ret.state in ("created", "awb_failed"):
        await _assign_awb(svc, ret, shipment)
    return ret


def _return_order(ret: CustomerReturn, shipment: Shipment, warehouse: Address,
                  pickup_location_id: str = "") -> ReturnOrder:
    order = ship_order_from_json(shipment.order)
    lines = tuple(OrderLine(line_item_id=c["line_item_id"], item_id=c["item_id"], sku=c["sku"], name=c["name"],
                            quantity=Decimal(c["quantity"]), rate=Decimal(c["rate"]), hsn=c.get("hsn", ""),
                            tax_percent=Decimal(c.get("tax_percent", "0"))) for c in ret.lines)
    units = sum((line.quantity for line in order.lines), Decimal(0)) or Decimal(1)
    share = sum((line.quantity for line in lines), Decimal(0)) / units
    weight = max(MIN_WEIGHT_KG, (shipment.weight_kg * share).quantize(Decimal("0.001")))
    parcel = Parcel(weight_kg=weight, length_cm=shipment.length_cm, breadth_cm=shipment.breadth_cm,
                    height_cm=shipment.height_cm)
    return ReturnOrder(channel_order_id=ret.channel_order_id, order_date=ist_today(),
                       customer=order.address, warehouse=warehouse, lines=lines, parcel=parcel, reason=ret.reason,
                       pickup_location_id=pickup_location_id)


async def _save(svc: Services, ret: CustomerReturn, step: str, detail: str, **values: object) -> None:
    async with svc.sessionmaker.begin() as session:
        row = await repository.customer_return(session, ret.id)
        assert row is not None
        for key, value in {**values, "updated_at": datetime.now(UTC)}.items():
            setattr(row, key, value)
            setattr(ret, key, value)
        session.add(ShipmentLog(shipment_id=ret.shipment_id, step=step, detail=f"{ret.channel_order_id}: {detail}"))
        if values.get("state") in ("failed", "awb_failed"):
            await raise_alert(session, kind=f"return_{values['state']}", key=f"{ret.id}:{ret.last_error}"[:150],
                              salesorder_id=ret.salesorder_id,
                              message=f"{ret.salesorder_number}: customer return {ret.channel_order_id} {detail}. "
                                      "Retry it from the ops API once fixed.")


async def _book_with_aggregator(svc: Services, ret: CustomerReturn, shipment: Shipment) -> None:
    settings = svc.settings
    location = settings.RETURNS_PICKUP_LOCATION or settings.SHIPROCKET_PICKUP_LOCATION
    client = svc.aggregator_for(shipment.aggregator)  # the one that carried the parcel out
    name = display_name(shipment.aggregator)
    found = await client.pickup_location(location)
    if found is None:
        await _save(svc, ret, "return_failed", f"pickup location {location!r} not found in {name}",
                    state="failed", last_error=f"pickup location {location!r} not found in {name}")
        return
    created: CreatedOrder | None
    try:
        pickup_location_id, warehouse = found
        created = await client.create_return(_return_order(ret, shipment, warehouse, pickup_location_id))
    except DuplicateOrder:  # booked before, its answer lost: find it
        created = await client.find_order(ret.channel_order_id)
    except UnsupportedByAggregator:
        raise
    except PermanentUpstreamError as exc:
        await _save(svc, ret, "return_failed", f"{name} refused the return: {exc.upstream_message}",
                    state="failed", last_error=exc.upstream_message[:1000])
        return
    if created is None:
        await _save(svc, ret, "return_failed", f"{name} says the order id exists but cannot find it",
                    state="failed", last_error="duplicate order id not found")
        return
    await _save(svc, ret, "return_created", f"{name} return order {created.order_id} / shipment "
                f"{created.shipment_id}", state="created", sr_order_id=created.order_id,
                sr_shipment_id=created.shipment_id, last_error=None)


async def _assign_awb(svc: Services, ret: CustomerReturn, shipment: Shipment) -> None:
    assert ret.sr_shipment_id
    assignment: AwbAssignment | None
    client = svc.aggregator_for(shipment.aggregator)
    try:
        assignment = await client.assign_awb(ret.sr_shipment_id, None)
    except AwbAlreadyAssigned:
        assignment = await client.shipment_awb(ret.sr_order_id or "", ret.sr_shipment_id)
    except PermanentUpstreamError as exc:
        await _save(svc, ret, "return_awb_failed", f"no return AWB: {exc.upstream_message}", state="awb_failed",
                    last_error=exc.upstream_message[:1000])
        return
    if assignment is None:
        await _save(svc, ret, "return_awb_failed",
                    f"no return AWB: {display_name(shipment.aggregator)} has none for the shipment",
                    state="awb_failed", last_error="no AWB found after 'already assigned'")
        return
    await _save(svc, ret, "return_awb_assigned", f"return AWB {assignment.awb} with {assignment.courier_name}",
                state="awb_assigned", awb=assignment.awb, courier_name=assignment.courier_name or None,
                tracking_status=TrackingStatus.awb_assigned.value, last_error=None)
