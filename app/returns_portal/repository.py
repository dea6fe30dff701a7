"""Every query returns_portal makes: the returnprime_lines of a request (one row per request line,
written once and updated in place), the customer returns they link to, the shipment a request names, and
the portal's returns nobody has tracked. Each takes the caller's session: the caller owns the transaction
(and the request's advisory lock), the repository reads and writes rows."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Shipment
from app.returns_portal.models import ReturnPrimeLine
from app.tracking.models import CustomerReturn


async def request_lines(session: AsyncSession, request_id: str) -> list[ReturnPrimeLine]:
    return list((await session.execute(select(ReturnPrimeLine).where(
        ReturnPrimeLine.request_id == request_id))).scalars().all())


async def save_request_line(session: AsyncSession, request_id: str, line_id: str, values: dict[str, Any]) -> None:
    """Insert the request line's row, or update the one stored for it with `values`."""
    await session.execute(insert(ReturnPrimeLine)
                          .values(request_id=request_id, line_id=line_id, **values)
                          .on_conflict_do_update(constraint="uq_returnprime_lines_request_line", set_=values))


async def return_by_channel_order_id(session: AsyncSession, channel_order_id: str) -> CustomerReturn | None:
    return await session.scalar(select(CustomerReturn).where(CustomerReturn.channel_order_id == channel_order_id))


async def returns_by_id(session: AsyncSession, ids: Collection[int]) -> dict[int, CustomerReturn]:
    return {r.id: r for r in (await session.execute(
        select(CustomerReturn).where(CustomerReturn.id.in_(list(ids))))).scalars()}


async def shipments_numbered(session: AsyncSession, salesorder_number: str) -> list[Shipment]:
    return list((await session.execute(
        select(Shipment).where(Shipment.salesorder_number == salesorder_number))).scalars().all())


async def untracked_returns(session: AsyncSession, created_before: datetime) -> list[tuple[CustomerReturn, str]]:
    """The portal's returns (linked from returnprime_lines) with an AWB that no aggregator order of ours
    carries and no tracking event ever reached, created before `created_before`; each with the
    aggregator of its forward shipment (the one its tracking is asked of)."""
    rows = await session.execute(
        select(CustomerReturn, Shipment.aggregator)
        .join(ReturnPrimeLine, ReturnPrimeLine.customer_return_id == CustomerReturn.id)
        .join(Shipment, Shipment.id == CustomerReturn.shipment_id)
        .where(CustomerReturn.sr_order_id.is_(None), CustomerReturn.last_event_at.is_(None),
               CustomerReturn.awb.is_not(None), CustomerReturn.created_at < created_before)
        .distinct())
    return [(ret, aggregator) for ret, aggregator in rows.all()]
