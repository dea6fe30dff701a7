"""Shiplee-booked shipments for the tracking and remittance tests. Booking across aggregators belongs to
fulfilment (being written on another branch), so an order is taken through the spine as usual (its Zoho
side, our row) and then booked with ShipleeClient against the Shiplee simulator, and the row is pointed
at that booking (`aggregator='shiplee'`, Shiplee's order id and AWB), as fulfilment will store it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update

from app.fulfilment.order_mapping import ship_order_from_json
from app.integrations.shiplee.client import ShipleeClient
from app.models import Shipment
from app.services import Services, build_services
from app.settings import Settings
from sandbox.zoho import ZohoSim
from tests.spine_helpers import shipment
from tests.tracking.helpers import shipped


@pytest.fixture
async def svc(shiplee_settings: Settings, clean: None) -> AsyncIterator[Services]:
    """Services with both aggregators configured (Shiprocket preferred, Shiplee second)."""
    services = build_services(shiplee_settings)
    assert list(services.aggregators) == ["shiprocket", "shiplee"]
    yield services
    await services.close()


def shiplee_of(svc: Services) -> ShipleeClient:
    client = svc.aggregators["shiplee"]
    assert isinstance(client, ShipleeClient)
    return client


async def shiplee_shipped(svc: Services, client: httpx.AsyncClient, zoho: ZohoSim, **kw: object) -> tuple[
        str, Shipment]:
    """A confirmed order whose parcel Shiplee carries: booked with ShipleeClient, stored as Shiplee's."""
    so_id, sh = await shipped(svc, client, zoho, **kw)  # type: ignore[arg-type]
    shiplee = shiplee_of(svc)
    order = ship_order_from_json(sh.order)
    created = await shiplee.create_order(order, sh.channel_order_id)
    [quote, *_] = await shiplee.quotes(order, "110001")
    booking = await shiplee.book(created.order_id, quote)
    async with svc.sessionmaker.begin() as session:
        await session.execute(update(Shipment).where(Shipment.id == sh.id).values(
            aggregator="shiplee", awb=booking.awb, sr_order_id=created.order_id, sr_shipment_id=created.order_id,
            courier_id=quote.carrier_id, courier_name=quote.carrier_name))
    found = await shipment(svc, so_id)
    assert found is not None and found.awb == booking.awb
    return so_id, found


def due(svc: Services) -> datetime:
    """A moment when every open Shiplee parcel is due its poll."""
    return datetime.now(UTC) + timedelta(seconds=svc.settings.TRACKING_POLL_INTERVAL_SECONDS + 1)
