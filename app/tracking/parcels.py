"""A parcel is what an AWB tracks: the forward shipment of a sales order (a `shipments` row) or a
customer-return parcel (a `customer_returns` row). Both carry the same tracking columns, so the
pipeline handles them alike and only a few decisions look at the kind."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.locks import advisory_lock, order_lock_name
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


def order_lock(engine: AsyncEngine, salesorder_id: str) -> AbstractAsyncContextManager[bool]:
    """Try-lock over everything done to one sales order: its forward parcel and any return parcels
    write the same Zoho records, and fulfilment takes the same lock."""
    return advisory_lock(engine, order_lock_name(salesorder_id))
