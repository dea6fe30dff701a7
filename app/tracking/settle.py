"""Settling a parcel after its status moved: the side effects its status implies
(statuses.planned_effects, each exactly once), then the visible label on the sales order, written only
when it changed. A parcel stays `tracking_settled = false` until all of that is done, so a run cut short
by an upstream failure is finished by the job's retry or by the sweeper (service.resume_tracking)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from app.alerts import raise_alert
from app.integrations.http import PermanentUpstreamError
from app.integrations.zoho.budget import write_status_fields, writes_label
from app.models import Shipment
from app.services import Services
from app.tracking import repository
from app.tracking.effects import Context, alert_lost, alert_ndr, alert_rto, record_delivered, record_shipment
from app.tracking.parcels import ParcelRef
from app.tracking.restock import restock
from app.tracking.statuses import TrackingStatus, label_for, parse_status, planned_effects

EFFECTS: dict[str, Callable[[Context], Awaitable[None]]] = {
    "zoho_shipment": record_shipment,
    "zoho_delivered": record_delivered,
    "alert_ndr": alert_ndr,
    "alert_rto": alert_rto,
    "alert_lost": alert_lost,
    "restock": restock,
}


async def settle(svc: Services, ref: ParcelRef) -> None:
    async with svc.sessionmaker() as session:
        parcel = await repository.load_parcel(session, ref)
        if parcel is None or parcel.tracking_settled:
            return
        shipment = parcel if isinstance(parcel, Shipment) else await repository.shipment(session, parcel.shipment_id)
    status = parse_status(parcel.tracking_status)
    if status is None or shipment is None:
        return
    ctx = Context(svc, ref, parcel, shipment)
    for name in planned_effects(status, is_return=ref.is_return, record_delivery=svc.settings.ZOHO_RECORD_DELIVERY):
        await EFFECTS[name](ctx)
    await write_label(ctx, status)
    async with svc.sessionmaker.begin() as session:
        await repository.mark_settled(session, ref, status.value)


async def write_label(ctx: Context, status: TrackingStatus) -> None:
    """cf_shipment_status, only when the visible label changes (Zoho's quota is small)."""
    settings = ctx.svc.settings
    label = label_for(status, is_return=ctx.ref.is_return, overrides=settings.TRACKING_STATUS_LABELS)
    if not label or label == ctx.parcel.zoho_synced_label:
        return
    key = f"return:{status.value}" if ctx.ref.is_return else status.value
    synced: str | None = label
    try:
        if not writes_label(settings, label, key):  # cosmetic (TRACKING_WRITE_LABELS): not worth a call
            synced = ctx.parcel.zoho_synced_label
        else:  # a deferred write counts as synced: the flush after the quota's reset writes it
            await write_status_fields(ctx.svc.zoho, ctx.svc.sessionmaker, ctx.ref.salesorder_id,
                                      {settings.CF_SHIPMENT_STATUS: label}, ctx.salesorder_read)
    except PermanentUpstreamError as exc:
        synced = ctx.parcel.zoho_synced_label
        async with ctx.svc.sessionmaker.begin() as session:
            await raise_alert(session, kind="tracking_writeback_failed", key=f"{ctx.ref.subject}:{label}",
                              salesorder_id=ctx.ref.salesorder_id,
                              message=f"{ctx.number}: Zoho refused {settings.CF_SHIPMENT_STATUS}={label!r} "
                                      f"({exc.upstream_message})")
    async with ctx.svc.sessionmaker.begin() as session:
        await repository.set_label(session, ctx.ref, label, synced)
    ctx.parcel.zoho_synced_label = synced
