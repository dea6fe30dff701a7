"""Dispatch: the steps after the AWB is on Zoho, without which no courier ever comes. Pickup request
(then Zoho shows "Pickup Scheduled"), label, manifest: each one upstream call and one commit, like the
booking steps in service.py, so a job killed anywhere resumes from the row and a repeat does no harm
(Shiprocket answers a repeated pickup with "Already in Pickup Queue.", a repeated manifest with "already
manifested", and a repeated label with the same label). A refusal parks the shipment and alerts ops
with the order's number; transient failures (5xx, 429, timeouts) raise and the job is retried.

Manifests are generated one shipment at a time, right after its label: see docs/shipping.md for why
per-shipment rather than a daily batch.

Each step goes to the aggregator that booked the shipment. One that has no such step (Shiplee: no pickup
request, no label API; a manifest only once Shiplee has manifested the parcel itself) answers
StepNotOffered: the step is recorded as skipped with that reason and the shipment moves on, so it still
reaches `manifested`, the end of dispatch (docs/shipping.md)."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import TypeVar

from app.alerts import raise_alert
from app.fulfilment.transition import transition
from app.integrations.aggregator import StepNotOffered
from app.integrations.http import PermanentUpstreamError, UpstreamAuthError
from app.integrations.shipping import display_name, panel
from app.models import Shipment, ShipmentState
from app.services import Services

T = TypeVar("T")

WHAT_TO_DO = {  # {panel}: app.integrations.shipping.panel(aggregator, page), the page named per kind
    "pickup_failed": ("pickup", "Request the pickup in {panel} or fix the cause; the parcel will not be "
                                "collected until then."),
    "label_failed": ("label", "Generate the label in {panel}; the courier will not take the parcel unlabelled."),
    "manifest_failed": ("manifest", "Generate the manifest in {panel} before the pickup."),
}


def todo(kind: str, aggregator: str) -> str:
    """What a person does after a refused dispatch step, in that aggregator's panel."""
    page, text = WHAT_TO_DO[kind]
    return text.format(panel=panel(aggregator, page))


# The state a step moves the shipment to when its aggregator does not offer it.
_SKIPPED_TO = {"pickup_failed": ShipmentState.pickup_scheduled, "label_failed": ShipmentState.labelled,
               "manifest_failed": ShipmentState.manifested}


async def _ask(svc: Services, shipment: Shipment, kind: str, what: str, call: Awaitable[T]) -> T | None:
    """The aggregator's answer, or None after parking the shipment in `kind` with an alert when it refuses
    (or after recording the step as skipped when the aggregator does not offer it). Transient failures and
    our own credentials raise: the job is retried and the step repeated."""
    name = display_name(shipment.aggregator)
    try:
        return await call
    except UpstreamAuthError:
        raise
    except StepNotOffered as skipped:
        async with svc.sessionmaker.begin() as session:
            await transition(session, shipment, f"{what.replace(' ', '_')}_skipped", f"{name}: {skipped}",
                             state=_SKIPPED_TO[kind], last_error=None)
        return None
    except PermanentUpstreamError as exc:
        reason = f"{name} refused the {what}: {exc.upstream_message}"
        async with svc.sessionmaker.begin() as session:
            await transition(session, shipment, kind, reason, state=ShipmentState(kind), last_error=reason[:1000])
            await raise_alert(session, kind=kind, key=shipment.salesorder_id, salesorder_id=shipment.salesorder_id,
                              message=f"{shipment.salesorder_number} (AWB {shipment.awb}): {reason}. "
                                      f"{todo(kind, shipment.aggregator)}")
        return None


async def request_pickup(svc: Services, shipment: Shipment) -> None:
    assert shipment.sr_shipment_id
    pickup = await _ask(svc, shipment, "pickup_failed", "pickup request",
                        svc.aggregator_for(shipment.aggregator).request_pickup(shipment.sr_shipment_id))
    if pickup is None:
        return
    name = display_name(shipment.aggregator)
    if pickup.already_queued:
        detail = f"pickup already in {name}'s queue (an earlier request got through)"
    else:
        when = pickup.scheduled_date.isoformat() if pickup.scheduled_date else f"a date {name} did not give"
        detail = f"pickup requested for {when}, token {pickup.token_number or '-'}"
    async with svc.sessionmaker.begin() as session:
        await transition(session, shipment, "pickup_requested", detail, state=ShipmentState.pickup_requested,
                         pickup_requested_at=datetime.now(UTC), last_error=None,
                         pickup_scheduled_date=pickup.scheduled_date or shipment.pickup_scheduled_date,
                         pickup_token_number=pickup.token_number or shipment.pickup_token_number)


async def generate_label(svc: Services, shipment: Shipment) -> None:
    assert shipment.sr_shipment_id
    client = svc.aggregator_for(shipment.aggregator)
    url = await _ask(svc, shipment, "label_failed", "label", client.generate_label(shipment.sr_shipment_id))
    if url is None:
        return
    async with svc.sessionmaker.begin() as session:
        await transition(session, shipment, "labelled", f"label {url}", state=ShipmentState.labelled,
                         label_url=url, last_error=None)


async def generate_manifest(svc: Services, shipment: Shipment) -> None:
    assert shipment.sr_shipment_id and shipment.sr_order_id
    manifest = await _ask(svc, shipment, "manifest_failed", "manifest",
                          svc.aggregator_for(shipment.aggregator).generate_manifest(shipment.sr_shipment_id,
                                                                                    shipment.sr_order_id))
    if manifest is None:
        return
    how = "read back (already generated)" if manifest.already_generated else "generated"
    async with svc.sessionmaker.begin() as session:
        await transition(session, shipment, "manifested", f"manifest {how}: {manifest.url}",
                         state=ShipmentState.manifested, manifest_url=manifest.url, last_error=None)
