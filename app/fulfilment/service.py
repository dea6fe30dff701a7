"""Fulfilment of one sales order as a persisted state machine: serviceability -> courier -> Shiprocket
order -> AWB -> write-back to Zoho -> pickup, label, manifest (dispatch.py). Each step reads the shipment
row, does its one upstream call, and commits the outcome before the next step starts, so a job killed
anywhere resumes where it stopped and a job that runs twice does no harm. A Postgres advisory lock keeps
two jobs off the same order."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import raise_alert, raise_credentials_alert
from app.fulfilment import dispatch, fallback, repository, routing
from app.fulfilment.order_mapping import invoice_entries, ship_order_from_json
from app.fulfilment.risk_check import held_for_rto_risk
from app.fulfilment.state import STATUS_LABELS, Step, next_step, state_label
from app.fulfilment.transition import transition as _transition
from app.integrations.aggregator import (
    AwbAlreadyAssigned,
    AwbAssignment,
    CreatedOrder,
    DuplicateOrder,
)
from app.integrations.http import PermanentUpstreamError, RetryableUpstreamError, UpstreamAuthError, UpstreamError
from app.integrations.shipping import AccountActionRequired, display_name
from app.integrations.zoho.budget import write_status_fields, writes_label
from app.locks import advisory_lock, order_lock_name
from app.models import Shipment, ShipmentLog, ShipmentState
from app.queue import commit_then_enqueue
from app.services import Services

log = logging.getLogger("shipbridge.fulfilment")

FULFIL_JOB = "fulfil_order"
MAX_STEPS = 16  # more than one full pass; a guard against a state that never advances
MAX_ORDER_ID_SUFFIX = 3
# Shiprocket order creations started alongside the serviceability check (it needs no courier), handed to
# the create_order step of the same run. Lost with the process: the next run's create meets Shiprocket's
# duplicate answer and adopts the order, as after any crash between reply and commit.
_ORDER_CREATIONS: dict[str, asyncio.Task[CreatedOrder]] = {}
ATTEMPT_FAILED = "attempt_failed"  # shipment_log step of a failed run; counted against FULFIL_MAX_ATTEMPTS


async def fulfil(svc: Services, salesorder_id: str) -> str:
    """Drive one sales order as far as it can go now. Returns the state it was left in."""
    async with advisory_lock(svc.engine, order_lock_name(salesorder_id)) as held:
        if not held:
            return "busy"  # another job holds the order and will take it forward
        try:
            return await _drive(svc, salesorder_id)
        finally:
            _drop_order_creation(salesorder_id)


async def _drive(svc: Services, salesorder_id: str) -> str:
    state = "unknown"
    for _ in range(MAX_STEPS):
        async with svc.sessionmaker() as session:
            shipment = await repository.shipment_by_salesorder(session, salesorder_id)
        if shipment is None:
            return state
        state = shipment.state
        step = next_step(shipment, datetime.now(UTC))
        if step == Step.done:
            return state
        if step == Step.wait:
            await _schedule_awb_retry(svc, shipment)
            return state
        try:
            await STEPS[step](svc, shipment)
        except UpstreamAuthError as exc:
            await _note_error(svc, shipment, exc)  # our credentials, not this order: no attempt spent
            raise
        except Exception as exc:
            if await _attempt_failed(svc, shipment, step, exc):
                return ShipmentState.stalled
            raise
    return state


def _drop_order_creation(salesorder_id: str) -> None:
    task = _ORDER_CREATIONS.pop(salesorder_id, None)
    if task is None:
        return
    if not task.done():
        task.cancel()
    elif not task.cancelled():
        task.exception()  # retrieved, so an unused creation's error is not reported as unhandled


async def _note_error(svc: Services, shipment: Shipment, exc: Exception) -> None:
    async with svc.sessionmaker.begin() as session:
        await repository.update_shipment(session, shipment.id, last_error=str(exc)[:1000])
        if isinstance(exc, UpstreamAuthError):
            await raise_credentials_alert(session, exc)


async def _attempt_failed(svc: Services, shipment: Shipment, step: Step, exc: Exception) -> bool:
    """Record a failed run of `step`; once the failures since the shipment last moved reach
    FULFIL_MAX_ATTEMPTS, park it as `stalled` with an alert (True). Without this cap a step that fails
    deterministically (a bug, a constraint) would be re-enqueued by the sweeper every minute, forever."""
    error = f"{step} failed: {type(exc).__name__}: {exc}"[:1000]
    try:
        async with svc.sessionmaker.begin() as session:
            session.add(ShipmentLog(shipment_id=shipment.id, step=ATTEMPT_FAILED, detail=error))
            await repository.update_shipment(session, shipment.id, last_error=error)
            await session.flush()
            failures = await repository.failures_since_last_move(session, shipment.id, ATTEMPT_FAILED)
            if failures < svc.settings.FULFIL_MAX_ATTEMPTS:
                return False
            reason = f"gave up in {shipment.state} after {failures} failed attempts; last: {error}"
            await _transition(session, shipment, "stalled", reason, state=ShipmentState.stalled, last_error=reason)
            await raise_alert(session, kind="fulfilment_stalled", key=f"{shipment.salesorder_id}:{shipment.state}",
                              salesorder_id=shipment.salesorder_id,
                              message=f"{shipment.salesorder_number}: {reason}. Fix the cause, then move the "
                                      f"shipment back to {shipment.state} to resume.")
        return True
    except Exception:  # noqa: BLE001 - the database itself may be what failed; the job's error matters more
        log.exception("could not record the failed attempt of %s", shipment.salesorder_number)
        return False


async def _channel_id_holder(svc: Services, shipment: Shipment, *, sr_order_id: str | None = None,
                             awb: str | None = None) -> Shipment | None:
    """Another shipment that owns this order id at Shiprocket (or the order / AWB Shiprocket handed
    back): a Zoho number reused after a delete, or two orders numbered alike. The earlier shipment, or
    the one already booked, keeps the id."""
    async with svc.sessionmaker() as session:
        return await repository.channel_id_holder(session, shipment, sr_order_id=sr_order_id, awb=awb)


async def _book_under_next_id(svc: Services, shipment: Shipment, why: str) -> None:
    next_id = _next_channel_order_id(shipment)
    async with svc.sessionmaker.begin() as session:
        if next_id is None:
            await _order_failed(svc, shipment, f"{why}; no order id left to book it under", session=session)
        else:
            await _transition(session, shipment, "order_id_suffixed", f"{why}; booking as {next_id}",
                              channel_order_id=next_id)


async def _choose_courier(svc: Services, shipment: Shipment) -> None:
    order = ship_order_from_json(shipment.order)
    # Before anything is booked (the overlap below creates the order): a held order never is.
    if await held_for_rto_risk(svc, shipment, order):
        return
    creation = None
    preferred = svc.aggregator
    health = await routing.health_now(svc)
    if (svc.settings.FULFIL_OVERLAP_ORDER_CREATION and preferred.duplicate_guard
            and preferred.name not in health.down and preferred.name not in health.blocked
            and await _channel_id_holder(svc, shipment) is None):
        # Creating the order needs no courier: overlapping it with the check saves one upstream round trip
        # per order. The price, for an order booked elsewhere or nowhere: one cancel call (below). Only on
        # an aggregator that answers a repeated order id with the order it has (no blind duplicate), and
        # never under an id another shipment holds (a reused number): that create would be handed the
        # other order, or make ours under its id for it to be handed; _create_order books under the next.
        creation = asyncio.create_task(preferred.create_order(order, shipment.channel_order_id))
        _ORDER_CREATIONS[shipment.salesorder_id] = creation
    try:
        found = await routing.route(svc, order, shipment.booking_hops or [], health)
    except BaseException:
        _drop_order_creation(shipment.salesorder_id)
        raise
    decision = found.decision
    passed = "; ".join(found.notes)
    if decision is None:
        if found.auth and not found.blocked:
            _drop_order_creation(shipment.salesorder_id)
            raise found.auth[0]  # our credentials, not the order: it waits (alerted by the caller)
        reason = (f"no courier serves pincode {order.address.pincode} "
                  f"({order.payment_method}, {order.parcel.weight_kg} kg)" + (f": {passed}" if passed else ""))
    else:
        reason = decision.reason + (f" ({passed})" if passed else "")
    orphan: str | None = None
    if creation is not None and (decision is None or found.aggregator != preferred.name):
        note, orphan = await _cancel_order_creation(svc, shipment)
        reason += note
    async with svc.sessionmaker.begin() as session:
        for refused in found.auth:  # routed around, but our credentials there still need fixing
            await raise_credentials_alert(session, refused)
        if orphan is not None:  # in the transaction that records the choice: raised once it is made
            where = f"booked on {display_name(found.aggregator)}" if decision is not None else "not booked"
            await raise_alert(session, kind="orphan_order", key=shipment.salesorder_id,
                              salesorder_id=shipment.salesorder_id,
                              message=f"{shipment.salesorder_number} is {where}, but {orphan}")
        if decision is None and found.blocked:
            await fallback.park(session, shipment, f"{reason}. Waiting for the seller: "
                                           f"{'; '.join(e.upstream_message for e in found.blocked)}")
        elif decision is None:
            await _transition(session, shipment, "serviceability_failed", reason,
                              state=ShipmentState.serviceability_failed, last_error=reason,
                              status_label=STATUS_LABELS[ShipmentState.serviceability_failed])
            await raise_alert(session, kind="serviceability_failed", key=shipment.salesorder_id,
                              salesorder_id=shipment.salesorder_id,
                              message=f"{shipment.salesorder_number}: {reason}. "
                                      "Choose another address or ship manually.")
        else:
            await _transition(session, shipment, "courier_chosen", f"{reason} [{found.aggregator}]",
                              state=ShipmentState.courier_chosen, courier_id=decision.courier.courier_id,
                              courier_name=decision.courier.name, courier_reason=reason,
                              aggregator=found.aggregator)


async def _cancel_order_creation(svc: Services, shipment: Shipment) -> tuple[str, str | None]:
    """The order created alongside the serviceability check, when the order is booked elsewhere or nowhere,
    must not linger in Shiprocket's panel. Returns the note for the courier reason and, when the cancel
    failed and the order is still live there, what a person must do (the caller alerts it)."""
    creation = _ORDER_CREATIONS.pop(shipment.salesorder_id, None)
    if creation is None:
        return "", None
    try:
        created = await creation
    except UpstreamError:
        return "", None  # refused, or its fate unknown (a lost reply): the alert cannot name an order
    if created.awb:
        return "", None  # an order already carrying an AWB is moving: a person decides, not a cancel
    name = display_name(svc.aggregator.name)
    try:
        await svc.aggregator.cancel([created.order_id])
    except UpstreamError as exc:
        return (f"; {name} order {created.order_id}, created alongside the check, could not be cancelled "
                f"({exc.upstream_message}): cancel it in {name}",
                f"{name} order {created.order_id} (order id {shipment.channel_order_id}), created alongside the "
                f"courier check, could not be cancelled ({exc.upstream_message}) and is still live: cancel it "
                f"in {name}'s panel so it is never shipped.")
    return f"; {name} order {created.order_id}, created alongside the check, cancelled", None


def _next_channel_order_id(shipment: Shipment) -> str | None:
    base = shipment.salesorder_number
    current = shipment.channel_order_id
    n = int(current.rsplit("-R", 1)[1]) if current != base and "-R" in current else 0
    return f"{base}-R{n + 1}" if n < MAX_ORDER_ID_SUFFIX else None


async def _create_order(svc: Services, shipment: Shipment) -> None:
    order = ship_order_from_json(shipment.order)
    channel_id = shipment.channel_order_id
    holder = await _channel_id_holder(svc, shipment)
    if holder is not None:
        # A creation started alongside the quote was under this id (the holder's row became visible only
        # since): it must not be taken for the order under the next id.
        _drop_order_creation(shipment.salesorder_id)
        await _book_under_next_id(svc, shipment, f"order id {channel_id} belongs to sales order "
                                                 f"{holder.salesorder_id} (a reused number)")
        return
    created: CreatedOrder | None = None
    client = svc.aggregator_for(shipment.aggregator)
    name = display_name(client.name)
    # The creation started alongside the quote was on the preferred aggregator; _choose_courier cancelled
    # it when the order went elsewhere.
    started = _ORDER_CREATIONS.pop(shipment.salesorder_id, None) if client is svc.aggregator else None
    if started is None and not client.duplicate_guard:
        # This aggregator has no guard against a repeated create (Shiplee): an earlier create whose reply
        # was lost may have made the order, so look for it before creating, never create blind.
        created = await client.find_order(channel_id)
    try:
        if created is None:
            created = await (started if started is not None else client.create_order(order, channel_id))
    except DuplicateOrder:
        # We sent this order id before (a crash between the aggregator's reply and our commit): find it.
        created = await client.find_order(channel_id)
        if created is None:
            await _order_failed(svc, shipment, f"{name} says order id {channel_id} exists but cannot find it")
            return
    except AccountActionRequired as exc:
        await routing.alert_blocked(svc, client.name, exc)  # new orders go elsewhere meanwhile
        async with svc.sessionmaker.begin() as session:
            await fallback.park(session, shipment,
                                f"{name} refused the order until the seller acts: {exc.upstream_message}")
        return
    except PermanentUpstreamError as exc:
        await _order_failed(svc, shipment, f"{name} refused the order: {exc.upstream_message}")
        return
    if created.cancelled:
        # The aggregator answered with an existing but cancelled order under this id; it will not reuse
        # the id, so book under a suffixed one.
        await _book_under_next_id(svc, shipment, f"{name} holds cancelled order {created.order_id} "
                                                 f"under {channel_id}")
        return
    if created.reused_existing:
        holder = await _channel_id_holder(svc, shipment, sr_order_id=created.order_id, awb=created.awb)
        if holder is not None:
            # Another of our orders booked this one (its number was reused): adopting it would ship one
            # parcel for two orders and break the unique AWB.
            await _book_under_next_id(svc, shipment, f"{name} handed back order {created.order_id} "
                                                     f"of sales order {holder.salesorder_id} under {channel_id}")
            return
    detail = (f"{'reused existing' if created.reused_existing else 'created'} {name} order "
              f"{created.order_id} / shipment {created.shipment_id} as {channel_id}")
    try:
        await _record_order(svc, shipment, created, detail)
    except IntegrityError:
        # The unique Shiprocket order (and AWB) of shipments says another shipment recorded this order
        # first: two orders with one number booked at the same moment (Shiprocket answers the second
        # create with the first's order). It is theirs: book ours under the next id instead of looping.
        await _book_under_next_id(svc, shipment, f"{name} handed back order {created.order_id} under "
                                                 f"{channel_id}, just recorded for another sales order")


async def _record_order(svc: Services, shipment: Shipment, created: CreatedOrder, detail: str) -> None:
    async with svc.sessionmaker.begin() as session:
        if created.awb:
            # The order Shiprocket handed back already has an AWB: adopt it, never assign a second one.
            await _transition(session, shipment, "awb_adopted", f"{detail}, already carrying AWB {created.awb}",
                              state=ShipmentState.awb_assigned, sr_order_id=created.order_id,
                              sr_shipment_id=created.shipment_id, awb=created.awb,
                              courier_name=created.courier_name or shipment.courier_name,
                              status_label=STATUS_LABELS[ShipmentState.awb_assigned])
        else:
            await _transition(session, shipment, "order_created", detail, state=ShipmentState.order_created,
                              sr_order_id=created.order_id, sr_shipment_id=created.shipment_id)


async def _order_failed(svc: Services, shipment: Shipment, reason: str, session: AsyncSession | None = None) -> None:
    async def write(s: AsyncSession) -> None:
        await _transition(s, shipment, "order_failed", reason, state=ShipmentState.order_failed,
                          last_error=reason, status_label=STATUS_LABELS[ShipmentState.order_failed])
        await raise_alert(s, kind="order_failed", key=shipment.salesorder_id, salesorder_id=shipment.salesorder_id,
                          message=f"{shipment.salesorder_number}: {reason}")

    if session is not None:
        await write(session)
    else:
        async with svc.sessionmaker.begin() as s:
            await write(s)


async def _assign_awb(svc: Services, shipment: Shipment) -> None:
    assert shipment.sr_shipment_id
    client = svc.aggregator_for(shipment.aggregator)
    assignment: AwbAssignment | None = None
    failure = ""
    give_up_aggregator = False  # the aggregator itself cannot book now (down, or waiting for the seller)
    blocked: AccountActionRequired | None = None
    already_assigned = False  # the aggregator says this courier gave an AWB: never hop away from it
    try:
        assignment = await client.assign_awb(shipment.sr_shipment_id, shipment.courier_id)
    except AwbAlreadyAssigned as exc:
        # An earlier attempt got through after all (its reply was lost): read the AWB it produced.
        assignment = await client.shipment_awb(shipment.sr_order_id or "", shipment.sr_shipment_id)
        failure, already_assigned = exc.upstream_message, True
    except UpstreamAuthError:
        raise  # our credentials, not this shipment: retry the job later, spend no AWB attempt
    except AccountActionRequired as exc:
        await routing.alert_blocked(svc, client.name, exc)
        blocked, give_up_aggregator = exc, True
        failure = f"{display_name(client.name)} waits for the seller: {exc.upstream_message}"
    except RetryableUpstreamError as exc:
        failure = exc.upstream_message
        await routing.record_failure(svc, client.name)
        give_up_aggregator = await routing.down_for(svc, client.name) is not None
    except UpstreamError as exc:
        failure = exc.upstream_message
    else:
        await routing.record_booking(svc, client.name)  # its failure clock and any block: one round trip
    settings = svc.settings
    attempts = shipment.awb_attempts + 1
    if assignment is None and not already_assigned and (give_up_aggregator or attempts >= settings.AWB_MAX_ATTEMPTS):
        if await fallback.next_courier(svc, shipment, failure, give_up_aggregator, attempts):
            return
        if blocked is not None:  # nowhere else to book: wait for the seller, no retry loop
            async with svc.sessionmaker.begin() as session:
                await fallback.park(session, shipment, failure)
            return
    # The retry job is queued only once the retry state is committed, so the job sees it.
    async with commit_then_enqueue(svc.sessionmaker, svc.queue) as (session, jobs):
        if assignment is not None:
            await _transition(session, shipment, "awb_assigned",
                              f"AWB {assignment.awb} with {assignment.courier_name or shipment.courier_name}",
                              state=ShipmentState.awb_assigned, awb=assignment.awb,
                              courier_name=assignment.courier_name or shipment.courier_name,
                              courier_id=assignment.courier_id or shipment.courier_id, last_error=None,
                              next_attempt_at=None, status_label=STATUS_LABELS[ShipmentState.awb_assigned])
        elif attempts < settings.AWB_MAX_ATTEMPTS and not give_up_aggregator:
            delay = settings.AWB_RETRY_DELAY_SECONDS
            await _transition(session, shipment, "awb_retry",
                              f"attempt {attempts} failed: {failure}; retrying in {delay:g}s",
                              state=ShipmentState.awb_retry, awb_attempts=attempts, last_error=failure,
                              next_attempt_at=datetime.now(UTC) + timedelta(seconds=delay))
            jobs.add(FULFIL_JOB, shipment.salesorder_id, defer_by=delay,
                     job_id=_awb_retry_job(shipment, attempts))
        else:
            tried = len(shipment.booking_hops or []) + 1
            await _transition(session, shipment, "awb_failed", f"attempt {attempts} failed: {failure}",
                              state=ShipmentState.awb_failed, awb_attempts=attempts, last_error=failure,
                              next_attempt_at=None, status_label=STATUS_LABELS[ShipmentState.awb_failed])
            await raise_alert(session, kind="awb_failed", key=shipment.salesorder_id,
                              salesorder_id=shipment.salesorder_id,
                              message=f"{shipment.salesorder_number}: no AWB after {attempts} attempts "
                                      f"({failure}) with {tried} courier(s); no other courier or aggregator "
                                      f"can take it. Assign one in {display_name(client.name)}'s panel.")


async def _schedule_awb_retry(svc: Services, shipment: Shipment) -> None:
    if shipment.next_attempt_at is None:
        return
    delay = max(0.0, (shipment.next_attempt_at - datetime.now(UTC)).total_seconds())
    await svc.queue.enqueue(FULFIL_JOB, shipment.salesorder_id, defer_by=delay,
                            job_id=_awb_retry_job(shipment, shipment.awb_attempts))


def _awb_retry_job(shipment: Shipment, attempt: int) -> str:
    """One job id per courier and attempt: arq refuses a job id it has seen, and each courier the
    booking moves to counts its attempts from 1 again."""
    return f"fulfil:{shipment.salesorder_id}:awb-retry:{len(shipment.booking_hops or [])}:{attempt}"


async def _write_back(svc: Services, shipment: Shipment) -> None:
    s = svc.settings
    if shipment.state == ShipmentState.awb_assigned:
        label = STATUS_LABELS[ShipmentState.awb_assigned]
        values = {s.CF_AWB_NUMBER: shipment.awb or "", s.CF_SHIPROCKET_ORDER_ID: shipment.sr_order_id or "",
                  s.CF_COURIER_PARTNER: shipment.courier_name or "", s.CF_SHIPMENT_STATUS: label}
        if shipment.tracking_status not in (None, "", "awb_assigned"):
            # Tracking got here first (an earlier write-back failed and was retried): its label is newer.
            del values[s.CF_SHIPMENT_STATUS]
            label = shipment.status_label or label
        new_state = ShipmentState.synced
    else:
        label = state_label(shipment) or STATUS_LABELS[ShipmentState(shipment.state)]
        values = {s.CF_SHIPMENT_STATUS: label}
        new_state = _AFTER_WRITE.get(ShipmentState(shipment.state), ShipmentState(shipment.state))
        if shipment.zoho_synced_label == label:
            # Tracking already wrote it (Shiprocket's own Pickup Scheduled event): no second Zoho call.
            async with svc.sessionmaker.begin() as session:
                await _transition(session, shipment, "written_back", f"Zoho already shows {label}", state=new_state)
            return
    try:
        if shipment.state in _COSMETIC_LABEL_STATES:
            # An intermediate label: left out by TRACKING_WRITE_LABELS, or deferred near the end of the day's
            # Zoho budget (a deferred write counts as written: the flush after the reset makes it).
            written = writes_label(s, label, "pickup_scheduled")
            so = (await write_status_fields(svc.zoho, svc.sessionmaker, shipment.salesorder_id, values)
                  if written else None) or {}
        else:
            so = await svc.zoho.update_salesorder_custom_fields(shipment.salesorder_id, values)
    except PermanentUpstreamError as exc:
        # Only the AWB write-back parks the order; a refused status label must not stop the parcel
        # (dispatch goes on) nor undo a cancellation, so those move on with the alert.
        parked = shipment.state == ShipmentState.awb_assigned
        async with svc.sessionmaker.begin() as session:
            await _transition(session, shipment, "writeback_failed", f"Zoho refused: {exc.upstream_message}",
                              state=ShipmentState.writeback_failed if parked else new_state,
                              last_error=str(exc)[:1000], **({} if parked else {"status_label": label}))
            await raise_alert(session, kind="writeback_failed", key=shipment.salesorder_id,
                              salesorder_id=shipment.salesorder_id,
                              message=f"{shipment.salesorder_number}: Zoho refused the update ({exc.upstream_message})")
        return
    async with svc.sessionmaker.begin() as session:
        await _transition(session, shipment, "written_back", ", ".join(f"{k}={v}" for k, v in values.items()),
                          state=new_state, zoho_synced_label=label, status_label=label,
                          # Zoho's reply is the whole order: its invoices are fresher than intake's.
                          **({"zoho_invoices": invoices} if (invoices := invoice_entries(so)) is not None else {}))


# A status write that also moves the shipment on (the others only record what Zoho shows).
_AFTER_WRITE = {ShipmentState.pickup_requested: ShipmentState.pickup_scheduled}
# Labels that say where the parcel is, not what someone must do: they give way to the day's Zoho budget.
_COSMETIC_LABEL_STATES = (ShipmentState.pickup_requested,)

STEPS = {
    Step.choose_courier: _choose_courier,
    Step.create_order: _create_order,
    Step.assign_awb: _assign_awb,
    Step.write_back: _write_back,
    Step.request_pickup: dispatch.request_pickup,
    Step.generate_label: dispatch.generate_label,
    Step.generate_manifest: dispatch.generate_manifest,
}
