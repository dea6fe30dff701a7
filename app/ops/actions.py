"""Repair actions, the same from the dashboard, the JSON API and the `shipbridge` commands. Each reads the
current state first and does nothing harmful when pressed twice (the second press is recorded as `noop`),
and each press is recorded in ops_actions with who, what and when."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.fulfilment import routing
from app.fulfilment.service import FULFIL_JOB
from app.fulfilment.state import state_label
from app.inbox import PROCESS_JOB, job_id
from app.integrations.http import UpstreamError
from app.integrations.shipping import UnsupportedByAggregator
from app.logging import log_context
from app.models import ACTIVE_STATES, Alert, InboxEvent, InboxState, OpsAction, Shipment, ShipmentLog, ShipmentState
from app.queue import commit_then_enqueue
from app.services import Services
from app.tracking.parcels import ref_of
from app.tracking.service import ingest, process
from app.tracking.statuses import TrackingStatus
from app.web.outcome import Outcome, record

log = logging.getLogger("shipbridge.ops.actions")

NDR_ACTIONS = {"ndr_reattempt": "re-attempt", "ndr_return": "return"}


async def _shipment(svc: Services, salesorder_id: str) -> Shipment | None:
    async with svc.sessionmaker() as session:
        return await session.scalar(select(Shipment).where(Shipment.salesorder_id == salesorder_id))


# Where a retry restarts each failed state from (the stored order is shipped again from that step).
RETRY_FROM = {
    ShipmentState.serviceability_failed: ShipmentState.received,
    ShipmentState.order_failed: ShipmentState.received,
    ShipmentState.awb_failed: ShipmentState.order_created,
    # Dispatch after the AWB (app/fulfilment/dispatch.py): each refusal resumes at the step refused.
    ShipmentState.pickup_failed: ShipmentState.synced,
    ShipmentState.label_failed: ShipmentState.pickup_scheduled,
    ShipmentState.manifest_failed: ShipmentState.labelled,
}


async def retry_order(svc: Services, salesorder_id: str) -> Outcome:
    shipment = await _shipment(svc, salesorder_id)
    if shipment is None:
        return Outcome("refused", f"no shipment for sales order {salesorder_id}", 404)
    state = shipment.state
    if state in ACTIVE_STATES:
        # Already moving (or stuck): another run is harmless, the per-order lock keeps them apart.
        await svc.queue.enqueue(FULFIL_JOB, salesorder_id)
        return Outcome("noop", f"already in progress ({state}); queued a fulfilment run")
    if state == ShipmentState.writeback_failed:
        restart = ShipmentState.awb_assigned if shipment.awb else ShipmentState.received
    elif state in RETRY_FROM:
        restart = RETRY_FROM[ShipmentState(state)]
    elif state == ShipmentState.stalled and (stalled_in := await _stalled_in(svc, shipment.id)) is not None:
        restart = stalled_in  # the fault is fixed (the alert said what failed): resume where it stopped
    else:
        return Outcome("noop", f"nothing to retry: the order is {state}")
    values: dict[str, Any] = {"state": restart, "last_error": None, "updated_at": datetime.now(UTC),
                              "next_attempt_at": None}
    if restart == ShipmentState.order_created:
        values["awb_attempts"] = 0
    if state == ShipmentState.stalled:
        # Retrying a parked order says the seller has acted (terms accepted, wallet recharged): offer the
        # aggregators it waited for again now, not after the re-check period. A refusal re-learns it.
        for name in svc.settings.aggregator_order:
            await routing.clear_blocked(svc, name)
    async with commit_then_enqueue(svc.sessionmaker, svc.queue) as (session, jobs):
        moved = await session.execute(update(Shipment).where(Shipment.id == shipment.id, Shipment.state == state)
                                      .values(**values))
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            return Outcome("noop", "the order changed meanwhile; nothing done")
        session.add(ShipmentLog(shipment_id=shipment.id, step="ops_retry", detail=f"{state} -> {restart}"))
        jobs.add(FULFIL_JOB, salesorder_id)
    return Outcome("done", f"{state} -> {restart}; fulfilment queued")


async def _stalled_in(svc: Services, shipment_id: int) -> ShipmentState | None:
    """The state a stalled shipment gave up in: the last state it moved to before the `stalled` step."""
    async with svc.sessionmaker() as session:
        detail = await session.scalar(select(ShipmentLog.detail).where(
            ShipmentLog.shipment_id == shipment_id, ShipmentLog.step == "stalled").order_by(ShipmentLog.id.desc()))
    match = re.match(r"gave up in (\w+) ", detail or "")
    return ShipmentState(match.group(1)) if match and match.group(1) in ShipmentState.__members__ else None


async def resync_order(svc: Services, salesorder_id: str) -> Outcome:
    """Read Shiprocket's tracking for the AWB (applied like a poll answer), then rewrite the Zoho fields
    from our record. Both halves are idempotent: a known tracking event is stored once, and writing the
    same field values again changes nothing."""
    shipment = await _shipment(svc, salesorder_id)
    if shipment is None:
        return Outcome("refused", f"no shipment for sales order {salesorder_id}", 404)
    notes = []
    try:
        if shipment.awb:
            answer = await svc.aggregator_for(shipment.aggregator).track([shipment.awb])
            found = answer.get(shipment.awb)
            if found is not None:
                ref = ref_of(shipment)
                event_id = await ingest(svc, ref, found, source="poll")
                await process(svc, ref, wait_for=event_id)
                notes.append(f"tracking: {found.status.value}")
            else:
                notes.append("tracking: no activity yet")
        shipment = await _shipment(svc, salesorder_id) or shipment
        s = svc.settings
        label = shipment.status_label or state_label(shipment)
        fields = {s.CF_AWB_NUMBER: shipment.awb, s.CF_SHIPROCKET_ORDER_ID: shipment.sr_order_id,
                  s.CF_COURIER_PARTNER: shipment.courier_name, s.CF_SHIPMENT_STATUS: label}
        values = {k: v for k, v in fields.items() if v}
        if values:
            await svc.zoho.update_salesorder_custom_fields(salesorder_id, values)
            notes.append("zoho: " + ", ".join(f"{k}={v}" for k, v in values.items()))
    except UpstreamError as exc:
        return Outcome("failed", f"{'; '.join(notes + [str(exc)])}", 502)
    async with svc.sessionmaker.begin() as session:
        values_db: dict[str, Any] = {"zoho_synced_label": label}
        if shipment.state == ShipmentState.writeback_failed and shipment.awb:
            values_db.update(state=ShipmentState.synced, last_error=None)
        await session.execute(update(Shipment).where(Shipment.id == shipment.id).values(**values_db))
        session.add(ShipmentLog(shipment_id=shipment.id, step="ops_resync", detail="; ".join(notes)))
    return Outcome("done", "; ".join(notes) or "nothing to write")


async def replay_event(svc: Services, event_id: int) -> Outcome:
    async with commit_then_enqueue(svc.sessionmaker, svc.queue) as (session, jobs):
        event = await session.get(InboxEvent, event_id, with_for_update=True)
        if event is None:
            return Outcome("refused", f"no inbox event {event_id}", 404)
        if event.state not in (InboxState.failed, InboxState.invalid):
            return Outcome("noop", f"event {event_id} is {event.state}; only failed or invalid events are replayed")
        event.state, event.attempts = InboxState.pending, 0
        event.reason = f"replayed (was: {event.reason or '-'})"[:1000]
        event.enqueued_at = datetime.now(UTC)
        # A fresh job id per replay: arq keeps a finished job's id for an hour and would refuse the same one.
        stamp = int(datetime.now(UTC).timestamp() * 1000)
        jobs.add(PROCESS_JOB, event_id, job_id=job_id(event_id, f"replay-{stamp}"))
    return Outcome("done", f"event {event_id} queued again")


async def ndr_request(svc: Services, salesorder_id: str, action: str, comments: str) -> Outcome:
    shipment = await _shipment(svc, salesorder_id)
    if shipment is None:
        return Outcome("refused", f"no shipment for sales order {salesorder_id}", 404)
    if shipment.tracking_status != TrackingStatus.undelivered or not shipment.awb:
        return Outcome("refused", f"not awaiting NDR action (tracking status {shipment.tracking_status})", 409)
    since = shipment.last_event_at or shipment.updated_at
    async with svc.sessionmaker() as session:
        earlier = await session.scalar(select(OpsAction).where(
            OpsAction.target == f"order:{salesorder_id}", OpsAction.action.in_(list(NDR_ACTIONS)),
            OpsAction.outcome == "done", OpsAction.at >= since).order_by(OpsAction.at.desc()).limit(1))
    if earlier is not None:
        # Shiprocket does not document repeated NDR actions as harmless: one request per NDR event.
        return Outcome("noop", f"{earlier.action} already requested at {earlier.at.isoformat()} by {earlier.actor}")
    try:
        await svc.aggregator_for(shipment.aggregator).ndr_action(shipment.awb, NDR_ACTIONS[action],
                                                                 comments or f"{action} requested by ops")
    except UnsupportedByAggregator as exc:  # Shiplee: no NDR API; the seller acts in its panel
        return Outcome("refused", exc.upstream_message, 409)
    except UpstreamError as exc:
        return Outcome("failed", str(exc), 502)
    return Outcome("done", f"asked the courier to {NDR_ACTIONS[action]} AWB {shipment.awb}")


async def resolve_alert(svc: Services, alert_id: int, actor: str) -> Outcome:
    async with svc.sessionmaker.begin() as session:
        alert = await session.get(Alert, alert_id, with_for_update=True)
        if alert is None:
            return Outcome("refused", f"no alert {alert_id}", 404)
        if alert.resolved:
            return Outcome("noop", f"already resolved by {alert.resolved_by or '-'}")
        alert.resolved, alert.resolved_at, alert.resolved_by = True, datetime.now(UTC), actor
    return Outcome("done", f"alert {alert_id} ({alert.kind}) resolved")


async def run_action(svc: Services, action: str, *, actor: str, salesorder_id: str | None = None,
                     event_id: int | None = None, alert_id: int | None = None, comments: str = "") -> Outcome:
    """Dispatch, run and record one action. The target string names what it touched."""
    params: dict[str, Any] = {"comments": comments} if comments else {}
    handler: Callable[[], Awaitable[Outcome]]
    if action == "retry" and salesorder_id:
        target, handler = f"order:{salesorder_id}", lambda: retry_order(svc, salesorder_id)
    elif action == "resync" and salesorder_id:
        target, handler = f"order:{salesorder_id}", lambda: resync_order(svc, salesorder_id)
    elif action in NDR_ACTIONS and salesorder_id:
        target, handler = f"order:{salesorder_id}", lambda: ndr_request(svc, salesorder_id, action, comments)
    elif action == "replay" and event_id is not None:
        target, handler = f"event:{event_id}", lambda: replay_event(svc, event_id)
    elif action == "resolve_alert" and alert_id is not None:
        target, handler = f"alert:{alert_id}", lambda: resolve_alert(svc, alert_id, actor)
    elif action in ("release_cod", "ship_prepaid", "cancel") and salesorder_id:
        from app.ops import rto_actions  # it builds on Outcome from here

        target = f"order:{salesorder_id}"
        if action == "cancel":
            handler = lambda: rto_actions.cancel_order(svc, salesorder_id, reason=comments, actor=actor)  # noqa: E731
        else:
            prepaid = action == "ship_prepaid"
            handler = lambda: rto_actions.release_rto_hold(svc, salesorder_id, prepaid=prepaid, actor=actor)  # noqa: E731
    else:
        return Outcome("refused", f"unknown action {action!r} or missing target", 400)
    with log_context(salesorder_id=salesorder_id, event_id=event_id):
        result = await handler()
    return await record(svc.sessionmaker, actor=actor, action=action, target=target, params=params, result=result)


ORDER_ACTIONS = ("retry", "resync", *NDR_ACTIONS, "release_cod", "ship_prepaid", "cancel")


async def recent_actions(session: AsyncSession, limit: int) -> list[OpsAction]:
    """The recorded actions, newest first (GET /ops/actions)."""
    return list((await session.execute(select(OpsAction).order_by(OpsAction.id.desc()).limit(limit))).scalars())
