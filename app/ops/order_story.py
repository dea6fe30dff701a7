"""One order's whole story for a person: its state, every step with its reason, tracking events, the
Zoho ids and those of the aggregator that booked it (with the couriers it gave up on), alerts, inbox
deliveries, remittance lines and the repair actions taken."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.fulfilment.risk import RTO_HOLD_ACTIONS, RTO_RISK
from app.models import Alert, InboxEvent, OpsAction, Shipment, ShipmentLog, ShipmentState
from app.money import rupees_or_none
from app.ops.attention import FAILED_STATES, TRACKING_RULES, booked_with
from app.ops.health import iso
from app.remittance.models import CodRemittanceLine
from app.tracking.models import TrackingEvent


async def order_story(session: AsyncSession, salesorder_id: str) -> dict[str, Any] | None:
    shipment = await session.scalar(select(Shipment).where(Shipment.salesorder_id == salesorder_id))
    inbox = (await session.execute(select(InboxEvent.id, InboxEvent.source, InboxEvent.state, InboxEvent.reason,
                                          InboxEvent.received_at, InboxEvent.attempts)
                                   .where(InboxEvent.subject == salesorder_id).order_by(InboxEvent.id))).all()
    if shipment is None and not inbox:
        return None
    alerts = (await session.execute(select(Alert).where(Alert.salesorder_id == salesorder_id)
                                    .order_by(Alert.created_at))).scalars().all()
    actions = (await session.execute(select(OpsAction).where(OpsAction.target == f"order:{salesorder_id}")
                                     .order_by(OpsAction.at))).scalars().all()
    story: dict[str, Any] = {
        "salesorder_id": salesorder_id, "shipment": None, "steps": [], "tracking": [], "remittance_lines": [],
        "inbox": [{"event_id": r.id, "source": r.source, "state": r.state, "reason": r.reason,
                   "received_at": iso(r.received_at), "attempts": r.attempts} for r in inbox],
        "alerts": [{"id": a.id, "kind": a.kind, "message": a.message, "created_at": iso(a.created_at),
                    "resolved": a.resolved, "resolved_by": a.resolved_by, "resolved_at": iso(a.resolved_at)}
                   for a in alerts],
        "actions_taken": [{"at": iso(a.at), "actor": a.actor, "action": a.action, "outcome": a.outcome,
                           "detail": a.detail} for a in actions],
        "available_actions": [],
    }
    if shipment is None:
        return story
    s = shipment
    story["shipment"] = {
        "salesorder_number": s.salesorder_number, "channel_order_id": s.channel_order_id, "state": s.state,
        "payment_method": s.payment_method, "declared_value": rupees_or_none(s.declared_value),
        "courier_name": s.courier_name, "courier_reason": s.courier_reason, "aggregator": booked_with(s),
        "booking_hops": [{"aggregator": str(h.get("aggregator") or ""), "courier_id": str(h.get("courier_id") or ""),
                          "reason": str(h.get("reason") or "")}
                         for h in (s.booking_hops or []) if isinstance(h, dict)],
        "sr_order_id": s.sr_order_id,
        "sr_shipment_id": s.sr_shipment_id, "awb": s.awb, "awb_attempts": s.awb_attempts,
        "status_label": s.status_label, "zoho_synced_label": s.zoho_synced_label, "last_error": s.last_error,
        "hold_reason": s.hold_reason,
        "tracking_status": s.tracking_status, "last_event_at": iso(s.last_event_at),
        "delivered_at": iso(s.delivered_at), "created_at": iso(s.created_at), "updated_at": iso(s.updated_at),
        "label_url": s.label_url, "manifest_url": s.manifest_url,
        "pickup_scheduled_date": iso(s.pickup_scheduled_date), "pickup_token_number": s.pickup_token_number,
        "cancelled_at": iso(s.cancelled_at),
        "customer": {k: v for k, v in ((s.order or {}).get("address") or {}).items()
                     if k in ("name", "phone", "city", "state", "pincode") and v},
    }
    steps = (await session.execute(select(ShipmentLog).where(ShipmentLog.shipment_id == s.id)
                                   .order_by(ShipmentLog.at, ShipmentLog.id))).scalars().all()
    story["steps"] = [{"at": iso(x.at), "step": x.step, "detail": x.detail} for x in steps]
    if s.awb:
        events = (await session.execute(select(TrackingEvent).where(TrackingEvent.awb == s.awb)
                                        .order_by(TrackingEvent.event_at, TrackingEvent.id))).scalars().all()
        story["tracking"] = [{"at": iso(e.event_at), "status": e.status, "shipment_status": e.shipment_status,
                              "scan": e.scan_activity, "location": e.scan_location, "source": e.source,
                              "outcome": e.outcome} for e in events]
    lines = (await session.execute(select(CodRemittanceLine).where(or_(
        CodRemittanceLine.salesorder_id == salesorder_id,
        CodRemittanceLine.awb == (s.awb or "-"))).order_by(CodRemittanceLine.id))).scalars().all()
    story["remittance_lines"] = [{"remittance_id": ln.remittance_id, "awb": ln.awb, "state": ln.state,
                                  "cod_amount": rupees_or_none(ln.cod_amount),
                                  "deducted_charges": rupees_or_none(ln.deducted_charges),
                                  "problem": ln.problem, "payment_id": ln.payment_id} for ln in lines]
    available = list(FAILED_STATES.get(s.state, (None, None, []))[2])
    available += [a for a in TRACKING_RULES.get(s.tracking_status or "", (None, None, []))[2] if a not in available]
    if s.state == ShipmentState.on_hold and (s.hold_reason or "").startswith(RTO_RISK):
        available += list(RTO_HOLD_ACTIONS)
    for a in ("retry", "resync"):
        if a not in available:
            available.append(a)
    story["available_actions"] = available
    return story
