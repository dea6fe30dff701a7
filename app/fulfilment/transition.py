"""The one way a fulfilment step moves a shipment: a conditional update on the state it was read in,
plus a log line saying why, in the caller's transaction (shared by service.py, dispatch.py, cancel.py)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.fulfilment import repository
from app.models import Shipment, ShipmentLog

log = logging.getLogger("shipbridge.fulfilment")


async def transition(session: AsyncSession, shipment: Shipment, step: str, detail: str, **values: Any) -> None:
    """Move the shipment (still in the state it was read in) and log why, in the caller's transaction."""
    values["updated_at"] = datetime.now(UTC)
    if not await repository.move_shipment(session, shipment, **values):
        raise RuntimeError(f"shipment {shipment.salesorder_id} changed under us (expected {shipment.state})")
    session.add(ShipmentLog(shipment_id=shipment.id, step=step, detail=detail))
    log.info("%s %s: %s", shipment.salesorder_number, step, detail)
