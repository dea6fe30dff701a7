"""Every query fulfilment makes: reading a shipment, the conditional move of its state, storing a new
one once, the failed-attempt count, the order-id owner check, holds, and the RTO predictions. Each takes
the caller's session: the caller owns the transaction (and any lock), the repository reads and writes
rows. (Audit lines, ShipmentLog, are added through the session by the steps that write them.)"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.fulfilment.rto_models import RtoPrediction
from app.models import Shipment, ShipmentLog, ShipmentState


async def shipment_by_salesorder(session: AsyncSession, salesorder_id: str) -> Shipment | None:
    return await session.scalar(select(Shipment).where(Shipment.salesorder_id == salesorder_id))


async def insert_shipment(session: AsyncSession, **values: Any) -> int | None:
    """Store a shipment for a sales order once: the new row's id, or None when one exists already."""
    return (await session.execute(
        insert(Shipment).values(**values)
        .on_conflict_do_nothing(index_elements=[Shipment.salesorder_id])
        .returning(Shipment.id))).scalar_one_or_none()


async def move_shipment(session: AsyncSession, shipment: Shipment, **values: Any) -> bool:
    """Update the shipment only if it is still in the state it was read in; False when it moved meanwhile."""
    result = await session.execute(
        update(Shipment).where(Shipment.id == shipment.id, Shipment.state == shipment.state).values(**values))
    return result.rowcount == 1  # type: ignore[attr-defined]


async def update_shipment(session: AsyncSession, shipment_id: int, **values: Any) -> None:
    """Unconditional: for columns no step decides on (the last error) and for the hold just stored."""
    values["updated_at"] = datetime.now(UTC)
    await session.execute(update(Shipment).where(Shipment.id == shipment_id).values(**values))


async def failures_since_last_move(session: AsyncSession, shipment_id: int, failed_step: str) -> int:
    """How many `failed_step` log lines the shipment has had since its last other log line."""
    last_move = (select(func.coalesce(func.max(ShipmentLog.id), 0))
                 .where(ShipmentLog.shipment_id == shipment_id, ShipmentLog.step != failed_step))
    return await session.scalar(
        select(func.count()).select_from(ShipmentLog).where(
            ShipmentLog.shipment_id == shipment_id, ShipmentLog.step == failed_step,
            ShipmentLog.id > last_move.scalar_subquery())) or 0


async def channel_id_holder(session: AsyncSession, shipment: Shipment, *, sr_order_id: str | None = None,
                            awb: str | None = None) -> Shipment | None:
    """Another shipment owning the shipment's channel order id (the earlier one, or one already booked),
    or the aggregator order `sr_order_id` on the same aggregator, or `awb`."""
    owner = (Shipment.channel_order_id == shipment.channel_order_id) & (
        (Shipment.id < shipment.id) | Shipment.sr_order_id.is_not(None))
    if sr_order_id:
        owner = owner | ((Shipment.sr_order_id == sr_order_id) & (Shipment.aggregator == shipment.aggregator))
    if awb:
        owner = owner | (Shipment.awb == awb)
    return await session.scalar(select(Shipment).where(Shipment.id != shipment.id, owner).limit(1))


async def release_hold(session: AsyncSession, shipment_id: int, **values: Any) -> bool:
    """Move an on-hold shipment back to received with `values`; False when it was not on hold any more."""
    result = await session.execute(
        update(Shipment).where(Shipment.id == shipment_id, Shipment.state == ShipmentState.on_hold)
        .values(state=ShipmentState.received, hold_reason=None, updated_at=datetime.now(UTC), **values))
    return result.rowcount == 1  # type: ignore[attr-defined]


# --- RTO risk predictions -------------------------------------------------------------------------------

async def has_rto_prediction(session: AsyncSession, salesorder_id: str) -> bool:
    return bool(await session.scalar(select(RtoPrediction.id).where(RtoPrediction.salesorder_id == salesorder_id)))


async def insert_rto_prediction(session: AsyncSession, **values: Any) -> int | None:
    """Record the order's one prediction: its id, or None when another run recorded one first."""
    return (await session.execute(insert(RtoPrediction).values(**values)
                                  .on_conflict_do_nothing(index_elements=[RtoPrediction.salesorder_id])
                                  .returning(RtoPrediction.id))).scalar_one_or_none()


async def last_rto_categories(session: AsyncSession, n: int) -> list[str]:
    """The categories of the last `n` predictions recorded, newest first."""
    return list((await session.scalars(
        select(RtoPrediction.category).order_by(RtoPrediction.id.desc()).limit(n))).all())


async def predictions_with_shipments(session: AsyncSession, requested_from: datetime | None,
                                     requested_before: datetime | None
                                     ) -> list[tuple[RtoPrediction, Shipment | None]]:
    """Every prediction requested in [`requested_from`, `requested_before`) (either bound optional), oldest
    first, with its order's shipment (None when no shipment row exists)."""
    stmt = (select(RtoPrediction, Shipment).join(Shipment, Shipment.salesorder_id == RtoPrediction.salesorder_id,
                                                  isouter=True).order_by(RtoPrediction.requested_at))
    if requested_from:
        stmt = stmt.where(RtoPrediction.requested_at >= requested_from)
    if requested_before:
        stmt = stmt.where(RtoPrediction.requested_at < requested_before)
    return [(prediction, shipment) for prediction, shipment in (await session.execute(stmt)).all()]
