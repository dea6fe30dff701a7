"""What needs a person today: each rule is one small query returning `Attention` items, each naming the
order, the reason in the seller's words, what to do, and which repair actions apply. New rules (pickup
overdue, once pickups exist) are one more function in RULES."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.fulfilment.risk import RTO_HOLD_ACTIONS, RTO_RISK
from app.fulfilment.state import PAST_PICKUP
from app.integrations.shipping import display_name, panel
from app.models import ACTIVE_STATES, InboxEvent, InboxState, Shipment, ShipmentState
from app.remittance import repository as remittance_repo
from app.remittance.endpoints import overdue_since
from app.settings import Settings
from app.timeutil import ist_midnight, ist_today
from app.tracking.statuses import TrackingStatus

LIMIT = 200  # per rule: a page a person can read; the counts say when there are more


@dataclass
class Attention:
    rule: str
    reason: str  # in the seller's words: "Serviceability Failed", "NDR awaiting action"...
    todo: str  # what to do about it
    salesorder_id: str | None = None
    salesorder_number: str | None = None
    awb: str | None = None
    detail: str = ""
    since: datetime | None = None
    actions: list[str] = field(default_factory=list)  # repair actions that apply (app.ops.actions)
    ref: str | None = None  # the thing an action targets when it is not the order: "event:12"
    aggregator: str | None = None  # who booked the parcel (None: not booked, or not known to this rule)

    def view(self) -> dict[str, Any]:
        out = asdict(self)
        out["since"] = self.since.isoformat() if self.since else None
        return out


Rule = Callable[[AsyncSession, Settings, datetime], Awaitable[list[Attention]]]

# The page of the aggregator's panel where a person does a refused step by hand ({panel} in the advice).
PANEL_PAGE: dict[str, str] = {ShipmentState.pickup_failed: "pickup", ShipmentState.label_failed: "label",
              ShipmentState.manifest_failed: "manifest"}
FAILED_STATES: dict[str, tuple[str, str, list[str]]] = {
    ShipmentState.serviceability_failed: (
        "Serviceability Failed", "No courier serves this pincode for this parcel: confirm the pincode with the "
        "customer; Retry asks the aggregators again (courier coverage changes), or ship it another way.", ["retry"]),
    ShipmentState.awb_failed: (
        "AWB Failed", "{name} booked the order but gave no AWB: check the wallet balance and the courier "
        "in {name}, then Retry.", ["retry", "resync"]),
    ShipmentState.order_failed: (
        "Order Failed", "{name} refused the order (address, phone, weight...): fix it in Zoho, then Retry.",
        ["retry"]),
    ShipmentState.pickup_failed: (
        "Pickup not requested", "{name} refused the pickup request: no courier will come. Read the reason, "
        "fix it (pickup address, wallet), then Retry; or request it in {panel}.", ["retry", "cancel"]),
    ShipmentState.label_failed: (
        "Label failed", "{name} refused the label: generate it in {panel}, or Retry.", ["retry"]),
    ShipmentState.manifest_failed: (
        "Manifest failed", "{name} refused the manifest: generate it in {panel} before the pickup, "
        "or Retry.", ["retry"]),
    ShipmentState.stalled: (
        "Stalled", "One step kept failing (the last error says why): fix the cause, then Retry resumes it.",
        ["retry"]),
    ShipmentState.on_hold: (
        "On hold", "Not shipped on purpose (the reason says why): complete the order in Zoho and save it, "
        "or cancel it.", ["cancel"]),
    ShipmentState.writeback_failed: (
        "Zoho write-back failed", "The AWB is booked but Zoho refused the update: check the custom fields, "
        "then Re-sync.", ["resync"]),
}


def _order(s: Shipment, rule: str, reason: str, todo: str, actions: list[str], since: datetime | None,
           detail: str = "") -> Attention:
    return Attention(rule=rule, reason=reason, todo=todo, salesorder_id=s.salesorder_id,
                     salesorder_number=s.salesorder_number, awb=s.awb, detail=detail or (s.last_error or ""),
                     since=since, actions=actions, aggregator=booked_with(s))


def booked_with(s: Shipment) -> str | None:
    """The aggregator holding this order's booking; None before any exists (`Shipment.aggregator` then
    only says where routing would start or last looked)."""
    return s.aggregator if s.sr_order_id or s.awb else None


async def failed_orders(session: AsyncSession, settings: Settings, now: datetime) -> list[Attention]:
    rows = await session.execute(select(Shipment).where(Shipment.state.in_(list(FAILED_STATES)))
                                 .order_by(Shipment.updated_at).limit(LIMIT))
    out = []
    for s in rows.scalars():
        reason, advice, actions = FAILED_STATES[s.state]
        page = PANEL_PAGE.get(s.state, "")
        todo = advice.format(name=display_name(s.aggregator), panel=panel(s.aggregator, page))
        out.append(_order(s, s.state, reason, todo, actions, s.updated_at))
    return out


async def stuck_orders(session: AsyncSession, settings: Settings, now: datetime) -> list[Attention]:
    cutoff = now - timedelta(minutes=settings.OPS_STUCK_MINUTES)
    rows = await session.execute(select(Shipment).where(
        Shipment.state.in_([s.value for s in ACTIVE_STATES]), Shipment.updated_at < cutoff)
        .order_by(Shipment.updated_at).limit(LIMIT))
    return [_order(s, "stuck", f"Stuck in {s.state}",
                   f"No progress for over {settings.OPS_STUCK_MINUTES} minutes: is the worker running? Retry "
                   "resumes it from where it stopped.", ["retry", "resync"], s.updated_at)
            for s in rows.scalars()]


async def pickup_overdue(session: AsyncSession, settings: Settings, now: datetime) -> list[Attention]:
    """Pickups the aggregator scheduled for a day now past, with no scan saying the courier took the parcel."""
    waiting = [ShipmentState.pickup_scheduled, ShipmentState.labelled, ShipmentState.manifested]
    rows = await session.execute(select(Shipment).where(
        Shipment.state.in_([s.value for s in waiting]), Shipment.pickup_scheduled_date < now - timedelta(hours=12),
        Shipment.tracking_status.is_(None) | Shipment.tracking_status.not_in(list(PAST_PICKUP)))
        .order_by(Shipment.pickup_scheduled_date).limit(LIMIT))
    return [_order(s, "pickup_overdue", "Pickup overdue",
                   f"The courier was due on {s.pickup_scheduled_date:%d %b} and no pickup scan came: call the "
                   f"courier or {display_name(s.aggregator)} support; Re-sync reads the latest tracking; cancel "
                   "if it will not ship.",
                   ["resync", "cancel"], s.pickup_scheduled_date, detail=f"label {s.label_url or '-'}")
            for s in rows.scalars()]


TRACKING_RULES: dict[str, tuple[str, str, list[str]]] = {
    TrackingStatus.undelivered: (
        "NDR awaiting action", "Delivery failed: call the customer, then ask for a Re-attempt or Return to "
        "origin before the courier decides (usually within 24-48 hours).", ["ndr_reattempt", "ndr_return"]),
    TrackingStatus.rto_initiated: (
        "RTO initiated, awaiting return", "The parcel is coming back: call the customer if it can still be "
        "saved; stock returns to Zoho on arrival.", ["resync"]),
    TrackingStatus.rto_in_transit: (
        "RTO in transit, awaiting return", "The parcel is on its way back; stock returns to Zoho on arrival.",
        ["resync"]),
    TrackingStatus.lost: (
        "Lost in transit", "Raise an insurance/lost-shipment claim with {name} for this AWB.", ["resync"]),
}


async def tracking_problems(session: AsyncSession, settings: Settings, now: datetime) -> list[Attention]:
    rows = await session.execute(select(Shipment).where(Shipment.tracking_status.in_(list(TRACKING_RULES)))
                                 .order_by(Shipment.last_event_at).limit(LIMIT))
    out = []
    for s in rows.scalars():
        reason, todo, actions = TRACKING_RULES[s.tracking_status or ""]
        out.append(_order(s, str(s.tracking_status), reason, todo.format(name=display_name(s.aggregator)), actions,
                          s.last_event_at or s.updated_at, ""))
    return out


async def inbox_problems(session: AsyncSession, settings: Settings, now: datetime) -> list[Attention]:
    rows = await session.execute(select(InboxEvent.id, InboxEvent.source, InboxEvent.state, InboxEvent.reason,
                                        InboxEvent.subject, InboxEvent.received_at)
                                 .where(InboxEvent.state.in_([InboxState.failed, InboxState.invalid]))
                                 .order_by(InboxEvent.received_at.desc()).limit(LIMIT))
    out = []
    for row in rows:
        subject = row.subject if row.subject and row.subject.isdigit() else None
        out.append(Attention(
            rule=f"inbox_{row.state}", reason=f"{row.source} webhook {row.state}",
            todo="Read the reason; fix the cause (payload, Zoho data, credentials), then Replay the event.",
            salesorder_id=subject, detail=row.reason or "", since=row.received_at, actions=["replay"],
            ref=f"event:{row.id}"))
    return out


async def remittance_problems(session: AsyncSession, settings: Settings, now: datetime) -> list[Attention]:
    out = []
    for rem in await remittance_repo.mismatched_remittances(session, limit=LIMIT):
        out.append(Attention(
            rule="remittance_mismatch", reason="Remittance total mismatch",
            todo="The bank transfer differs from its lines: compare with Shiprocket's remittance statement.",
            detail=f"remittance {rem.remittance_id} (UTR {rem.utr or '-'})", since=rem.created_at,
            ref=f"remittance:{rem.remittance_id}"))
    for line in await remittance_repo.exception_lines(session, limit=LIMIT):
        if line.state == "paid" and not line.so_error:
            continue  # paid with a note (short amount): listed in the reconciliation, not an action
        out.append(Attention(
            rule="remittance_line", reason=f"Remittance line {line.problem or 'not written back'}",
            todo="Fix the cause in Zoho Books (invoice, amount), then retry the remittance.",
            salesorder_id=line.salesorder_id, salesorder_number=line.salesorder_number, awb=line.awb,
            detail=line.detail or line.so_error or "", since=line.updated_at, ref=f"remittance:{line.remittance_id}"))
    state = await remittance_repo.poll_state(session)
    since = overdue_since(settings.REMITTANCE_START_DATE, state.polled_from if state else None,
                          ist_today(now))
    overdue = await remittance_repo.overdue_cod(session, ist_midnight(since),
                                                now - timedelta(days=settings.REMITTANCE_OVERDUE_DAYS), limit=LIMIT)
    for order in overdue:
        out.append(Attention(
            rule="remittance_overdue", reason="COD remittance overdue",
            todo=f"Delivered over {settings.REMITTANCE_OVERDUE_DAYS} days ago and not remitted: raise it with "
                 "the aggregator's support.", salesorder_id=order.salesorder_id,
            salesorder_number=order.salesorder_number, awb=order.awb, since=order.delivered_at))
    return out


async def rto_risk_holds(session: AsyncSession, settings: Settings, now: datetime) -> list[Attention]:
    rows = await session.execute(select(Shipment).where(
        Shipment.state == ShipmentState.on_hold, Shipment.hold_reason.startswith(RTO_RISK))
        .order_by(Shipment.updated_at).limit(LIMIT))
    return [_order(s, "rto_risk_hold", "COD order held for RTO risk",
                   f"Call the customer ({((s.order or {}).get('address') or {}).get('phone', '-')}): Release ships "
                   "it COD, Paid online ships it prepaid, Cancel drops it.", list(RTO_HOLD_ACTIONS),
                   s.updated_at, detail=s.hold_reason or "") for s in rows.scalars()]


RULES: list[Rule] = [failed_orders, stuck_orders, pickup_overdue, tracking_problems, inbox_problems,
                     remittance_problems, rto_risk_holds]


async def attention_list(session: AsyncSession, settings: Settings, now: datetime | None = None) -> list[Attention]:
    now = now or datetime.now(UTC)
    out: list[Attention] = []
    for rule in RULES:
        out.extend(await rule(session, settings, now))
    return out
