"""A parcel is what an AWB tracks: the forward shipment of a sales order (a `shipments` row) or a
customer-return parcel (a `customer_returns` row). Both carry the same tracking columns, so the
pipeline handles them alike and only a few decisions look at the kind."""

from __future__ import annotations

from dataclasses import dataclass

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
        return PARCEL_MODELS[self.kind]

    @property
    def is_return(self) -> bool:
        return self.kind == RETURN


Parcel = Shipment | CustomerReturn
# kind -> the table holding that kind of parcel
PARCEL_MODELS: dict[str, type[Shipment] | type[CustomerReturn]] = {FORWARD: Shipment, RETURN: CustomerReturn}


def ref_of(row: object) -> ParcelRef:
    if not isinstance(row, Shipment | CustomerReturn):
        raise TypeError(f"not a parcel: {type(row).__name__}")
    kind = FORWARD if isinstance(row, Shipment) else RETURN
    return ParcelRef(kind=kind, id=row.id, salesorder_id=row.salesorder_id, awb=row.awb or "")

