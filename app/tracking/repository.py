"""Every query tracking makes: finding and locking a parcel, storing each tracking event once and
reading those still to apply, the poller's and the resumer's candidates, the exactly-once effect rows,
and customer returns. Each takes the caller's session: the caller owns the transaction (and the order
lock), the repository reads and writes rows. (Audit lines, ShipmentLog, are added through the session
by the steps that write them.)"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Shipment
from app.tracking.models import CustomerReturn, TrackingEffect, TrackingEvent
from app.tracking.parcels import PARCEL_MODELS, Parcel, ParcelRef, ref_of

# --- parcels --------------------------------------------------------------------------------------------


async def load_parcel(session: AsyncSession, ref: ParcelRef, *, for_update: bool = False) -> Parcel | None:
    """The parcel's row; `for_update` locks it (SELECT ... FOR UPDATE) until the caller's commit."""
    return await session.get(ref.model, ref.id, with_for_update=for_update)


async def parcel_by_awb(session: AsyncSession, awb: str) -> Parcel | None:
    """The forward shipment carrying `awb`, else the customer-return parcel carrying it."""
    for model in PARCEL_MODELS.values():
        row = await session.scalar(select(model).where(model.awb == awb))
        if isinstance(row, Shipment | CustomerReturn):
            return row
    return None


async def find_parcel(session: AsyncSession, awb: str) -> ParcelRef | None:
    row = await parcel_by_awb(session, awb)
    return ref_of(row) if row is not None else None


async def shipment(session: AsyncSession, shipment_id: int) -> Shipment | None:
    return await session.get(Shipment, shipment_id)


async def parcels_due_poll(session: AsyncSession, aggregator: str, *, booked_since: datetime,
                           heard_before: datetime, limit: int) -> list[ParcelRef]:
    """`aggregator`'s open parcels (forward shipments it booked, return parcels of those shipments) booked
    since `booked_since` and not heard of since `heard_before`, least recently heard first, up to `limit`
    of each kind."""
    refs: list[ParcelRef] = []
    for model in PARCEL_MODELS.values():
        heard = func.coalesce(model.last_tracking_at, model.created_at)
        query = select(model).where(model.awb.is_not(None), model.tracking_final.is_(False),
                                    model.created_at >= booked_since, heard < heard_before)
        if model is CustomerReturn:
            query = query.join(Shipment, Shipment.id == CustomerReturn.shipment_id)
        query = query.where(Shipment.aggregator == aggregator)
        rows = (await session.execute(query.order_by(heard).limit(limit))).scalars().all()
        refs += [ref_of(row) for row in rows]
    return refs


async def touch_parcels(session: AsyncSession, refs: Collection[ParcelRef], now: datetime) -> None:
    """Stamp `last_tracking_at` on the parcels just asked about."""
    by_kind: dict[str, list[int]] = defaultdict(list)
    for ref in refs:
        by_kind[ref.kind].append(ref.id)
    for kind, ids in by_kind.items():
        model = PARCEL_MODELS[kind]
        await session.execute(update(model).where(model.id.in_(ids)).values(last_tracking_at=now))


async def unfinished_parcels(session: AsyncSession, stale: datetime, limit: int) -> list[ParcelRef]:
    """Parcels with an event stored before `stale` and never applied, or unsettled and untouched since
    `stale`; up to `limit` of each kind."""
    refs: list[ParcelRef] = []
    for kind, model in PARCEL_MODELS.items():
        unapplied = select(TrackingEvent.parcel_id).where(
            TrackingEvent.parcel == kind, TrackingEvent.applied.is_(False), TrackingEvent.received_at < stale)
        rows = (await session.execute(select(model).where(
            model.awb.is_not(None),
            or_(model.id.in_(unapplied), model.tracking_settled.is_(False) & (model.updated_at < stale)))
            .order_by(model.id).limit(limit))).scalars().all()
        refs += [ref_of(row) for row in rows]
    return refs


async def mark_settled(session: AsyncSession, ref: ParcelRef, status: str) -> None:
    """Settled, unless the parcel's status moved on meanwhile (then the next settle does it)."""
    await session.execute(update(ref.model).where(ref.model.id == ref.id, ref.model.tracking_status == status)
                          .values(tracking_settled=True))


async def set_label(session: AsyncSession, ref: ParcelRef, label: str, synced: str | None) -> None:
    await session.execute(update(ref.model).where(ref.model.id == ref.id)
                          .values(status_label=label, zoho_synced_label=synced))


# --- tracking events ------------------------------------------------------------------------------------

async def store_event(session: AsyncSession, values: dict[str, Any]) -> int | None:
    """Insert the event once per awb + dedupe key; the id of the stored row (new or earlier)."""
    event_id = (await session.execute(
        insert(TrackingEvent).values(**values)
        .on_conflict_do_nothing(constraint="uq_tracking_events_awb_key").returning(TrackingEvent.id)
    )).scalar_one_or_none()
    if event_id is None:
        event_id = await session.scalar(select(TrackingEvent.id).where(
            TrackingEvent.awb == values["awb"], TrackingEvent.dedupe_key == values["dedupe_key"]))
    return event_id


async def event(session: AsyncSession, event_id: int) -> TrackingEvent | None:
    return await session.get(TrackingEvent, event_id)


async def event_applied(session: AsyncSession, event_id: int) -> bool:
    return bool(await session.scalar(select(TrackingEvent.applied).where(TrackingEvent.id == event_id)))


async def pending_events(session: AsyncSession, ref: ParcelRef) -> list[TrackingEvent]:
    """The parcel's events not applied yet, in event-time order."""
    return list((await session.execute(select(TrackingEvent).where(
        TrackingEvent.parcel == ref.kind, TrackingEvent.parcel_id == ref.id, TrackingEvent.applied.is_(False))
        .order_by(TrackingEvent.event_at, TrackingEvent.id))).scalars().all())


async def events_of_awb(session: AsyncSession, awb: str) -> list[TrackingEvent]:
    """Every event received for the AWB, oldest first."""
    return list((await session.execute(select(TrackingEvent).where(TrackingEvent.awb == awb)
                                       .order_by(TrackingEvent.event_at, TrackingEvent.id))).scalars().all())


async def first_event_at(session: AsyncSession, ref: ParcelRef, statuses: Collection[str]) -> datetime | None:
    """When the parcel first reached any of `statuses`, by event time."""
    return await session.scalar(select(TrackingEvent.event_at).where(
        TrackingEvent.parcel == ref.kind, TrackingEvent.parcel_id == ref.id,
        TrackingEvent.status.in_(list(statuses))).order_by(TrackingEvent.event_at).limit(1))


# --- effects (exactly once per parcel) ------------------------------------------------------------------

async def effect(session: AsyncSession, subject: str, name: str) -> TrackingEffect | None:
    return await session.scalar(select(TrackingEffect).where(
        TrackingEffect.subject == subject, TrackingEffect.effect == name))


async def effect_state(session: AsyncSession, subject: str, name: str) -> str | None:
    return await session.scalar(select(TrackingEffect.state).where(
        TrackingEffect.subject == subject, TrackingEffect.effect == name))


async def done_effect(session: AsyncSession, subject: str, name: str) -> TrackingEffect | None:
    return await session.scalar(select(TrackingEffect).where(
        TrackingEffect.subject == subject, TrackingEffect.effect == name, TrackingEffect.state == "done"))


async def update_effect(session: AsyncSession, subject: str, name: str, **values: Any) -> None:
    await session.execute(update(TrackingEffect).where(
        TrackingEffect.subject == subject, TrackingEffect.effect == name).values(**values))


# --- customer returns -----------------------------------------------------------------------------------

async def customer_return(session: AsyncSession, return_id: int) -> CustomerReturn | None:
    return await session.get(CustomerReturn, return_id)


async def returns_of(session: AsyncSession, salesorder_id: str) -> list[CustomerReturn]:
    return list((await session.execute(select(CustomerReturn).where(
        CustomerReturn.salesorder_id == salesorder_id))).scalars().all())
