"""Status normalisation and the forward-only rules, without a network or a database."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from app.integrations.shiprocket.statuses import (
    ORDER_SCHEME,
    SHIPMENT_SCHEME,
    from_label,
    from_order_id,
    from_shipment_id,
)
from app.tracking.statuses import TrackingStatus, can_advance, fold, label_for, planned_effects

S = TrackingStatus
# Every shipment-status id in facts §5B, plus the pre-pickup codes of the Shipments table.
FACTS_5B = [6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 38, 39, 40, 41, 42, 43,
            44, 45, 46, 47, 48, 49, 50, 51, 52, 54, 55, 56, 57, 59, 60, 61, 62, 63, 67, 68, 71, 72, 75, 76, 77, 78]
PRE_PICKUP = [1, 2, 3, 4, 5, 11]
T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


def test_every_documented_shipment_status_has_a_mapping():
    unmapped = [code for code in FACTS_5B + PRE_PICKUP if code not in SHIPMENT_SCHEME]
    assert unmapped == []
    assert all(from_shipment_id(code) != S.unknown for code in FACTS_5B + PRE_PICKUP)


@pytest.mark.parametrize(("code", "expected"), [
    (1, S.awb_assigned), (3, S.pickup_scheduled), (6, S.in_transit), (7, S.delivered), (8, S.cancelled),
    (9, S.rto_initiated), (10, S.rto_delivered), (12, S.lost), (17, S.out_for_delivery), (18, S.in_transit),
    (19, S.pickup_scheduled), (21, S.undelivered), (42, S.picked_up), (46, S.rto_in_transit),
    (24, S.lost), (45, S.cancelled), (13, S.exception),
])
def test_shipment_scheme(code, expected):
    assert from_shipment_id(code) == expected


def test_the_two_schemes_are_never_mixed():
    # The same integers mean different things in the two schemes (facts §5C).
    assert from_shipment_id(17) == S.out_for_delivery and from_order_id(17) == S.rto_delivered
    assert from_shipment_id(18) == S.in_transit and from_order_id(18) == S.exception  # cancellation requested
    assert from_shipment_id(20) == S.exception and from_order_id(20) == S.in_transit
    assert from_order_id(26) == S.delivered  # RETURN DELIVERED: back at our warehouse
    assert 33 in ORDER_SCHEME and 33 not in SHIPMENT_SCHEME


def test_unknown_codes_and_labels_default_to_unknown():
    assert from_shipment_id(999) == S.unknown and from_order_id(999) == S.unknown
    assert from_label("SOMETHING NEW") == S.unknown
    assert from_label("out for delivery") == S.out_for_delivery and from_label("RTO_OFD") == S.rto_in_transit


def test_never_backwards():
    assert not can_advance(S.delivered, S.in_transit, newer=True)
    assert not can_advance(S.out_for_delivery, S.picked_up, newer=True)
    assert can_advance(S.picked_up, S.delivered, newer=False)  # a late scan of a later stage still counts
    assert not can_advance(S.in_transit, S.unknown, newer=True)
    assert not can_advance(S.in_transit, S.exception, newer=True)


def test_rto_branch_moves_forward_only_within_itself():
    assert can_advance(S.in_transit, S.rto_initiated, newer=True)
    assert can_advance(S.rto_initiated, S.rto_in_transit, newer=True)
    assert not can_advance(S.rto_in_transit, S.rto_initiated, newer=True)
    assert not can_advance(S.rto_initiated, S.out_for_delivery, newer=True)
    assert not can_advance(S.rto_initiated, S.delivered, newer=True)
    assert not can_advance(S.delivered, S.rto_initiated, newer=True)
    assert not can_advance(S.rto_delivered, S.lost, newer=True)
    assert can_advance(S.rto_in_transit, S.lost, newer=True)


def test_delivery_attempts_alternate_by_time_and_other_edges():
    assert can_advance(S.out_for_delivery, S.undelivered, newer=True)
    assert can_advance(S.undelivered, S.out_for_delivery, newer=True)
    assert not can_advance(S.undelivered, S.out_for_delivery, newer=False)
    assert can_advance(S.pickup_scheduled, S.cancelled, newer=True)
    assert not can_advance(S.in_transit, S.cancelled, newer=True)
    assert can_advance(S.lost, S.delivered, newer=True) and not can_advance(S.lost, S.in_transit, newer=True)


FORWARD = [S.awb_assigned, S.pickup_scheduled, S.picked_up, S.in_transit, S.in_transit, S.out_for_delivery,
           S.undelivered, S.out_for_delivery, S.delivered]
RTO = [S.pickup_scheduled, S.picked_up, S.in_transit, S.out_for_delivery, S.undelivered, S.rto_initiated,
       S.rto_in_transit, S.rto_in_transit, S.rto_delivered]


@pytest.mark.parametrize(("stream", "final"), [(FORWARD, S.delivered), (RTO, S.rto_delivered)])
def test_any_arrival_order_ends_in_the_same_final_state(stream, final):
    events = [(status, T0 + timedelta(minutes=i), str(i)) for i, status in enumerate(stream)]
    rng = random.Random(3)
    for _ in range(200):
        arrival = events + rng.sample(events, 3)  # with duplicates
        rng.shuffle(arrival)
        status, at = None, None
        for event in arrival:  # one delivery at a time, as webhooks arrive
            status, at, _ = fold(status, at, [event])
        assert status == final


def test_fold_reports_what_each_event_did():
    status, at, outcomes = fold(S.delivered, T0, [(S.in_transit, T0 + timedelta(hours=1), "shipment:18"),
                                                  (S.unknown, T0, "shipment:99")])
    assert status == S.delivered and at == T0
    assert outcomes == [(False, "recorded only: would move delivered to in_transit (never backwards)"),
                        (False, "recorded only: unknown status code shipment:99")]


def test_labels_follow_the_guide_and_can_be_overridden():
    assert [label_for(s) for s in (S.pickup_scheduled, S.picked_up, S.in_transit, S.out_for_delivery, S.delivered,
                                    S.rto_initiated, S.rto_delivered, S.lost, S.undelivered, S.cancelled)] == [
        "Pickup Scheduled", "Picked Up", "In Transit", "Out for Delivery", "Delivered", "RTO Initiated",
        "Returned", "Lost in Transit", "Undelivered", "Cancelled"]
    assert label_for(S.rto_in_transit) == "RTO Initiated"  # no separate label: no extra Zoho call
    assert label_for(S.unknown) is None and label_for(S.exception) is None
    overrides = {"delivered": "Delivered to customer", "return:delivered": "Back in stock", "lost": ""}
    assert label_for(S.delivered, overrides=overrides) == "Delivered to customer"
    assert label_for(S.delivered, is_return=True, overrides=overrides) == "Back in stock"
    assert label_for(S.lost, overrides=overrides) is None
    assert label_for(S.in_transit, is_return=True) == "Return In Transit"


def test_planned_effects():
    assert planned_effects(S.pickup_scheduled, is_return=False, record_delivery=True) == []
    assert planned_effects(S.picked_up, is_return=False, record_delivery=True) == ["zoho_shipment"]
    assert planned_effects(S.delivered, is_return=False, record_delivery=True) == ["zoho_shipment", "zoho_delivered"]
    assert planned_effects(S.delivered, is_return=False, record_delivery=False) == []
    assert planned_effects(S.rto_initiated, is_return=False, record_delivery=False) == ["alert_rto"]
    assert planned_effects(S.rto_delivered, is_return=False, record_delivery=True) == ["zoho_shipment", "restock"]
    assert planned_effects(S.lost, is_return=False, record_delivery=False) == ["alert_lost"]
    assert planned_effects(S.undelivered, is_return=False, record_delivery=True) == ["zoho_shipment", "alert_ndr"]
    assert planned_effects(S.delivered, is_return=True, record_delivery=True) == ["restock"]
    assert planned_effects(S.in_transit, is_return=True, record_delivery=True) == []
