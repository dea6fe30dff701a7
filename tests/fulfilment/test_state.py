"""Which step comes next after the AWB (pure): dispatch in order, skipped once the courier has the parcel;
a cancelled order writes its label once, and only if it was ever booked."""

from __future__ import annotations

from datetime import UTC, datetime

from app.fulfilment.state import Step, next_step
from app.models import Shipment

NOW = datetime(2026, 12, 2, tzinfo=UTC)


def sh(state: str, **values: object) -> Shipment:
    return Shipment(state=state, **values)


def test_dispatch_runs_in_order_after_the_awb_write_back():
    assert [next_step(sh(s), NOW) for s in ("awb_assigned", "synced", "pickup_requested", "pickup_scheduled",
                                            "labelled", "manifested")] == [
        Step.write_back, Step.request_pickup, Step.write_back, Step.generate_label, Step.generate_manifest, Step.done]


def test_dispatch_is_moot_once_the_courier_has_the_parcel():
    for state in ("synced", "pickup_requested", "pickup_scheduled", "labelled"):
        assert next_step(sh(state, tracking_status="picked_up"), NOW) == Step.done
    assert next_step(sh("synced", tracking_status="pickup_scheduled"), NOW) == Step.request_pickup


def test_parked_and_cancelled_states():
    for state in ("pickup_failed", "label_failed", "manifest_failed"):
        assert next_step(sh(state), NOW) == Step.done
    assert next_step(sh("cancelled", sr_order_id="1", status_label="Pickup Scheduled"), NOW) == Step.write_back
    assert next_step(sh("cancelled", sr_order_id="1", status_label="Cancelled"), NOW) == Step.done
    assert next_step(sh("cancelled", sr_order_id=None), NOW) == Step.done  # never booked: nothing to show
