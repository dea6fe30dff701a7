"""The one way a fulfilment step moves a shipment: a conditional update on the state it was read in,
plus a log line saying why, in the caller's transaction (shared by service.py, dispatch.py, cancel.py)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Shipment, ShipmentLog

log = logging.getLogger("shipbridge.fulfilment")


async def transition(session: AsyncSession, shipment: Shipment, step: str, detail: str, **values: Any) -> None:
    """Move the shipment (still in the state it was read in) and log why, in the caller's transaction."""
    values["updated_at"] = datetime.now(UTC)
    result = await session.execute(
        update(Shipment).where(Shipment.id == shipment.id, Shipment.state == shipment.state).values(**values))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise RuntimeError(f"shipment {shipment.salesorder_id} changed under us (expected {shipment.state})")
    session.add(ShipmentLog(shipment_id=shipment.id, step=step, detail=detail))
    log.info("%s %s: %s", shipment.salesorder_number, step, detail)
