"""Ops answers to an order held for RTO risk: release it (ship as COD), ship it as prepaid (the customer
paid online after the call), or cancel it. Each re-reads the hold first, so a second press is a noop."""

from __future__ import annotations

from typing import Any

from app.fulfilment import repository
from app.fulfilment.cancel import cancel_shipment
from app.fulfilment.risk import RTO_RISK
from app.fulfilment.service import FULFIL_JOB
from app.integrations.http import UpstreamError
from app.models import ShipmentLog, ShipmentState
from app.queue import commit_then_enqueue
from app.services import Services
from app.web.outcome import Outcome


async def release_rto_hold(svc: Services, salesorder_id: str, *, prepaid: bool, actor: str) -> Outcome:
    async with svc.sessionmaker() as session:
        shipment = await repository.shipment_by_salesorder(session, salesorder_id)
    if shipment is None:
        return Outcome("refused", f"no shipment for sales order {salesorder_id}", 404)
    if shipment.state != ShipmentState.on_hold:
        return Outcome("noop", f"not on hold: the order is {shipment.state}")
    if not (shipment.hold_reason or "").startswith(RTO_RISK):
        return Outcome("refused", f"held for another reason ({shipment.hold_reason}); not an RTO-risk hold", 409)
    values: dict[str, Any] = {}
    how = "COD"
    if prepaid:
        # The customer paid online: the courier must collect nothing, so the parcel ships prepaid.
        values |= {"payment_method": "Prepaid", "order": {**shipment.order, "payment_method": "Prepaid"}}
        how = "Prepaid (paid online)"
    # Fulfilment is queued once the release is committed (never for a release that did not happen).
    async with commit_then_enqueue(svc.sessionmaker, svc.queue) as (session, jobs):
        if not await repository.release_hold(session, shipment.id, **values):
            return Outcome("noop", "the order changed meanwhile; nothing done")
        session.add(ShipmentLog(shipment_id=shipment.id, step="released",
                                detail=f"RTO-risk hold released by {actor}: ships {how}"))
        jobs.add(FULFIL_JOB, salesorder_id)
    note = ""
    if prepaid:
        try:  # Zoho keeps saying COD otherwise, and a later edit would look like a change after booking
            await svc.zoho.update_salesorder_custom_fields(
                salesorder_id, {svc.settings.CF_PAYMENT_METHOD: "Prepaid"})
        except UpstreamError as exc:
            note = f"; set {svc.settings.CF_PAYMENT_METHOD} to Prepaid in Zoho by hand ({exc})"
    return Outcome("done", f"released: ships {how}; fulfilment queued{note}")


async def cancel_order(svc: Services, salesorder_id: str, *, reason: str, actor: str) -> Outcome:
    try:
        outcome = await cancel_shipment(svc, salesorder_id, reason=reason or f"cancelled by {actor}", actor=actor)
    except UpstreamError as exc:  # a fulfilment step holds the order, or Shiprocket is unreachable: press again
        return Outcome("failed", f"not cancelled yet, try again: {exc}", 503)
    if outcome == "no_shipment":
        return Outcome("refused", f"no shipment for sales order {salesorder_id}", 404)
    if outcome == "already_cancelled":
        return Outcome("noop", "already cancelled")
    if outcome in ("cancelled", "not_booked"):
        return Outcome("done", outcome.replace("_", " "))
    return Outcome("failed", f"{outcome.replace('_', ' ')}: see the alert", 409)
