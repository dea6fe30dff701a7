"""A parcel is what an AWB tracks: the forward shipment of a sales order (a `shipments` row) or a
customer-return parcel (a `customer_returns` row). Both carry the same tracking columns, so the
pipeline handles them alike and only a few decisions look at the kind."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.models import Shipment
from app.tracking.models import CustomerReturn

FORWARD, RETURN = "shipment", "return"


@dataclass(frozen=True)
class ParcelRef:
    kind: str  # FORWARD | RETURN
    id: int
    salesorder_id: str
    awb: str

    @property
    def subject(self) -> str:
        return f"{self.kind}:{self.id}"

    @property
    def model(self) -> type[Shipment] | type[CustomerReturn]:
        return Shipment if self.kind == FORWARD else CustomerReturn

    @property
    def is_return(self) -> bool:
        return self.kind == RETURN


Parcel = Shipment | CustomerReturn
PARCEL_MODELS: tuple[type[Shipment] | type[CustomerReturn], ...] = (Shipment, CustomerReturn)


def ref_of(row: object) -> ParcelRef:
    if not isinstance(row, Shipment | CustomerReturn):
        raise TypeError(f"not a parcel: {type(row).__name__}")
    kind = FORWARD if isinstance(row, Shipment) else RETURN
    return ParcelRef(kind=kind, id=row.id, salesorder_id=row.salesorder_id, awb=row.awb or "")


async def load(session: AsyncSession, ref: ParcelRef, *, for_update: bool = False) -> Parcel | None:
    if ref.kind == FORWARD:
        return await session.get(Shipment, ref.id, with_for_update=for_update)
    return await session.get(CustomerReturn, ref.id, with_for_update=for_update)


async def find_parcel(session: AsyncSession, awb: str) -> ParcelRef | None:
    shipment = await session.scalar(select(Shipment).where(Shipment.awb == awb))
    if shipment is not None:
        return ref_of(shipment)
    ret = await session.scalar(select(CustomerReturn).where(CustomerReturn.awb == awb))
    return ref_of(ret) if ret is not None else None


def _lock_key(salesorder_id: str) -> int:
    digest = hashlib.blake2b(f"tracking:{salesorder_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@asynccontextmanager
async def order_lock(engine: AsyncEngine, salesorder_id: str) -> AsyncIterator[bool]:
    """Try-lock (Postgres advisory, session level, on its own connection) over everything tracking does
    to one sales order: its forward parcel and any return parcels write the same Zoho records."""
    key = _lock_key(salesorder_id)
    async with engine.connect() as conn:
        held = bool(await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}))
        await conn.commit()
        try:
            yield held
        finally:
            if held:
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                await conn.commit()
