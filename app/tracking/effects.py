"""The side effects of tracking, each done exactly once per parcel (settle.py decides which are due).

`once` is the exactly-once discipline: a `started` row is committed before the upstream call and `done`
after it. Finding a `started` row means a previous run stopped in between (crash, timeout, retryable
error): the effect's reconcile function looks in Zoho for what that run may have created before anything
is created again. A repeated status settles nothing and costs no Zoho call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from app.alerts import raise_alert
from app.fulfilment.order_mapping import ship_order_from_json
from app.integrations.aggregator import ShipOrder
from app.integrations.http import PermanentUpstreamError
from app.integrations.shipping import display_name
from app.models import Shipment, ShipmentLog
from app.money import lenient_amount
from app.services import Services
from app.timeutil import zoho_date
from app.tracking import repository
from app.tracking import zoho_writes as zw
from app.tracking.models import CustomerReturn, TrackingEffect
from app.tracking.parcels import ParcelRef
from app.tracking.statuses import LEFT_WAREHOUSE

ZERO = Decimal(0)

Result = dict[str, Any]


@dataclass
class Context:
    svc: Services
    ref: ParcelRef
    parcel: Shipment | CustomerReturn
    shipment: Shipment  # the forward shipment: the order as accepted, customer, payment method
    _salesorder: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def order(self) -> ShipOrder:
        return ship_order_from_json(self.shipment.order)

    @property
    def marker(self) -> str:
        """Written on every Zoho record we create for this parcel; how a later run recognises them."""
        return f"{'Return' if self.ref.is_return else 'RTO'} {self.ref.awb}"

    @property
    def number(self) -> str:
        return self.shipment.salesorder_number

    @property
    def salesorder_read(self) -> dict[str, Any] | None:
        """The sales order if this settle has read it already (a write-back restates it: no extra call)."""
        return self._salesorder

    async def salesorder(self, fresh: bool = False) -> dict[str, Any]:
        """The sales order as Zoho has it now; read at most once per settle unless asked."""
        if self._salesorder is None or fresh:
            self._salesorder = await self.svc.zoho.get_salesorder(self.ref.salesorder_id)
        return self._salesorder


async def once(ctx: Context, effect: str, action: Callable[[], Awaitable[Result]],
               reconcile: Callable[[], Awaitable[Result | None]] | None = None) -> Result:
    """Run `action` once per parcel; returns its result (or the stored one). A permanent refusal is
    recorded as `failed` with an alert for a person, and not tried again."""
    async with ctx.svc.sessionmaker.begin() as session:
        row = await repository.effect(session, ctx.ref.subject, effect)
        if row is not None and row.state in ("done", "failed"):
            return dict(row.result)
        resumed = row is not None
        if row is None:
            session.add(TrackingEffect(subject=ctx.ref.subject, salesorder_id=ctx.ref.salesorder_id, effect=effect,
                                       state="started", result={}))
        else:
            row.attempts += 1
    try:
        result = await reconcile() if resumed and reconcile is not None else None
    except PermanentUpstreamError as exc:
        # We cannot tell whether the interrupted run already did it: a person decides, never a duplicate.
        return await _failed(ctx, effect, f"could not check for an earlier attempt ({exc.upstream_message}); "
                                          "check Zoho before doing it by hand")
    if result is not None:
        result = {**result, "reconciled": True}
    else:
        try:
            result = await action()
        except PermanentUpstreamError as exc:
            # Often a duplicate guard tripped by the HTTP layer's retry of a request Zoho had already
            # served (its first reply lost): look for what that request created before giving up.
            found = await _quiet(reconcile) if reconcile is not None else None
            if found is None:
                return await _failed(ctx, effect, f"refused by Zoho: {exc.upstream_message}. Do it by hand in Zoho")
            result = {**found, "reconciled": True}
    await _finish(ctx, effect, "done", result)
    return result


async def _quiet(reconcile: Callable[[], Awaitable[Result | None]]) -> Result | None:
    try:
        return await reconcile()
    except PermanentUpstreamError:
        return None


async def _failed(ctx: Context, effect: str, message: str) -> Result:
    await _finish(ctx, effect, "failed", {"error": message})
    async with ctx.svc.sessionmaker.begin() as session:
        await raise_alert(session, kind="tracking_effect_failed", key=f"{ctx.ref.subject}:{effect}",
                          salesorder_id=ctx.ref.salesorder_id,
                          message=f"{ctx.number} (AWB {ctx.ref.awb}): {effect} {message}.")
    return {"error": message}


async def _finish(ctx: Context, effect: str, state: str, result: Result) -> None:
    detail = ", ".join(f"{k}={v}" for k, v in result.items() if k != "lines")
    async with ctx.svc.sessionmaker.begin() as session:
        await repository.update_effect(session, ctx.ref.subject, effect, state=state, result=result,
                                       detail=detail[:2000], updated_at=datetime.now(UTC))
        session.add(ShipmentLog(shipment_id=ctx.shipment.id, step=f"tracking:{effect}",
                                detail=f"{state}: {detail}"[:2000]))


async def effect_state(ctx: Context, effect: str) -> str | None:
    """started | done | failed, or None when the effect was never attempted for this parcel."""
    async with ctx.svc.sessionmaker() as session:
        return await repository.effect_state(session, ctx.ref.subject, effect)


async def effect_result(ctx: Context, effect: str) -> Result | None:
    async with ctx.svc.sessionmaker() as session:
        row = await repository.done_effect(session, ctx.ref.subject, effect)
    return dict(row.result) if row is not None else None


# --- the effects -------------------------------------------------------------------------------------

async def _left_warehouse_at(ctx: Context) -> datetime | None:
    async with ctx.svc.sessionmaker() as session:
        return await repository.first_event_at(session, ctx.ref, [s.value for s in LEFT_WAREHOUSE])


async def record_shipment(ctx: Context) -> None:
    """A package and a shipment order carrying the AWB, so Zoho shows the order shipped (and deducts
    the stock, which an RTO later puts back through a sales return)."""
    zoho, so_id, awb = ctx.svc.zoho, ctx.ref.salesorder_id, ctx.ref.awb
    courier = ctx.shipment.courier_name or display_name(ctx.shipment.aggregator)

    async def ship(package_id: str, date: str) -> Result:
        order = await zw.create_shipment_order(zoho, so_id, package_id, awb=awb, courier=courier, date=date,
                                               source=display_name(ctx.shipment.aggregator),
                                               reference=ctx.shipment.sr_order_id or "")
        return {"package_id": package_id, "shipment_order_id": str(order.get("shipment_id") or "")}

    async def reconcile() -> Result | None:
        so = await ctx.salesorder(fresh=True)
        packages = [p for p in so.get("packages") or [] if isinstance(p, dict)]
        for p in packages:
            if str(p.get("tracking_number")) == awb and p.get("shipment_id"):
                return {"package_id": str(p["package_id"]), "shipment_order_id": str(p["shipment_id"])}
        lines = so.get("line_items") or []
        shipped = [p for p in packages if p.get("shipment_id")]
        if shipped and all(lenient_amount(ln.get("quantity_shipped")) >= lenient_amount(ln.get("quantity"))
                           for ln in lines):
            # Someone recorded the shipment in Zoho already: adopt it rather than ship twice.
            return {"package_id": str(shipped[0]["package_id"]), "shipment_order_id": str(shipped[0]["shipment_id"]),
                    "adopted": "already shipped in Zoho"}
        unshipped = next((p for p in packages if not p.get("shipment_id")), None)
        if unshipped is not None:
            return await ship(str(unshipped["package_id"]), zoho_date(await _left_warehouse_at(ctx)))
        return None

    async def action() -> Result:
        date = zoho_date(await _left_warehouse_at(ctx))
        lines = [{"so_line_item_id": line.line_item_id, "quantity": float(line.quantity)} for line in ctx.order.lines]
        # Refused (say, already packed by hand)? `once` then reconciles: adopts what Zoho already has.
        package = await zw.create_package(zoho, so_id, lines, date, notes=f"AWB {awb}")
        return await ship(str(package["package_id"]), date)

    await once(ctx, "zoho_shipment", action, reconcile)


async def record_delivered(ctx: Context) -> None:
    shipped = await effect_result(ctx, "zoho_shipment")
    shipment_order_id = (shipped or {}).get("shipment_order_id")
    if not shipment_order_id:
        return  # the shipment could not be recorded (alerted there); nothing to mark

    async def action() -> Result:
        await zw.mark_shipment_delivered(ctx.svc.zoho, shipment_order_id)
        return {"shipment_order_id": shipment_order_id}

    await once(ctx, "zoho_delivered", action)


async def alert_rto(ctx: Context) -> None:
    s, a = ctx.shipment, ctx.order.address
    async with ctx.svc.sessionmaker.begin() as session:
        await raise_alert(session, kind="rto_initiated", key=ctx.ref.awb, salesorder_id=ctx.ref.salesorder_id,
                          message=f"{ctx.number}: RTO initiated for AWB {ctx.ref.awb} ({s.courier_name or 'courier'}, "
                                  f"{s.payment_method} Rs {s.declared_value}). Call {a.name} on {a.phone} before it "
                                  "comes back; stock is restocked only when it is delivered back.")


async def alert_ndr(ctx: Context) -> None:
    """A failed delivery attempt (NDR) is the moment an RTO can still be prevented: say so, once."""
    s, a = ctx.shipment, ctx.order.address
    async with ctx.svc.sessionmaker.begin() as session:
        await raise_alert(session, kind="ndr", key=ctx.ref.awb, salesorder_id=ctx.ref.salesorder_id,
                          message=f"{ctx.number}: delivery attempt failed for AWB {ctx.ref.awb} "
                                  f"({s.courier_name or 'courier'}, {s.payment_method} Rs {s.declared_value}). Call "
                                  f"{a.name} on {a.phone} and request a reattempt in "
                                  f"{display_name(s.aggregator)}'s NDR panel before the courier returns it to origin.")


async def alert_lost(ctx: Context) -> None:
    s = ctx.shipment
    what = "return parcel" if ctx.ref.is_return else "shipment"
    async with ctx.svc.sessionmaker.begin() as session:
        await raise_alert(session, kind="lost_in_transit", key=ctx.ref.awb, salesorder_id=ctx.ref.salesorder_id,
                          message=f"{ctx.number}: {what} AWB {ctx.ref.awb} reported lost by "
                                  f"{s.courier_name or 'the courier'}. Raise an insurance claim "
                                  f"(declared value Rs {s.declared_value}).")
