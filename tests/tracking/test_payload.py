"""Parsing the real Shiprocket payloads (facts §4 Samples A, B, C) and the older/odd variants."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from app.integrations.shiprocket.tracking import parse_time, parse_webhook, tracking_update
from app.parsing import Malformed
from app.tracking.statuses import TrackingStatus
from tests.tracking.samples import SAMPLE_A, SAMPLE_B, SAMPLE_C


def test_sample_a_current_webhook():
    u = parse_webhook(SAMPLE_A.encode())
    assert u.awb == "19041424751540"
    assert u.status == TrackingStatus.in_transit and u.scheme == "shipment_status_id"
    assert (u.shipment_status_id, u.shipment_status) == (18, "IN TRANSIT")
    assert (u.current_status_id, u.current_status) == (20, "IN TRANSIT")  # the order scheme, kept raw
    assert u.event_at == datetime(2023, 5, 23, 6, 13, 52, tzinfo=UTC)  # "23 05 2023 11:43:52" IST
    assert u.channel_order_id == "1373900_150876814" and u.aggregator_order_id == "348456385"
    assert (u.scan_code, u.scan_location) == ("X-IBD3F", "Mumbai_MiraRdIndEstate_I (Maharashtra)")
    assert u.is_return is False and u.raw_code == "shipment:18"


def test_sample_b_older_webhook():
    u = parse_webhook(SAMPLE_B.encode())
    assert u.awb == "59629792084"  # a JSON number in this shape
    assert u.status == TrackingStatus.delivered and u.shipment_status_id == 7
    assert u.event_at == datetime(2021, 7, 2, 11, 11, 59, tzinfo=UTC)  # "2021-07-02 16:41:59" IST
    assert u.scan_activity == "SHIPMENT DELIVERED"  # newest-first scans: picked by date, not position
    assert u.channel_order_id == "enter your channel order id"


def test_sample_c_tracking_api():
    u = tracking_update("141123221084922", json.loads(SAMPLE_C))
    assert u is not None
    assert u.status == TrackingStatus.delivered and u.shipment_status_id == 7
    assert u.event_at == datetime(2022, 7, 19, 6, 7, tzinfo=UTC)
    assert (u.scan_code, u.courier_name) == ("DLVD", "Xpressbees Surface")
    no_data = {"tracking_data": {"track_status": 0, "error": "Aahh! There is no activities found in our DB."}}
    assert tracking_update("1", no_data) is None and tracking_update("1", None) is None


def test_status_comes_from_the_field_each_id_came_from():
    body = json.loads(SAMPLE_A)
    del body["shipment_status_id"]
    body["scans"][-1]["sr-status"] = "17"  # latest scan: OUT FOR DELIVERY in the shipment scheme
    u = parse_webhook(json.dumps(body).encode())
    assert (u.status, u.scheme, u.shipment_status_id) == (TrackingStatus.out_for_delivery, "sr-status", 17)
    only_order = parse_webhook(json.dumps({"awb": "1", "current_status_id": 17,
                                           "current_timestamp": "01 02 2026 10:00:00"}).encode())
    assert (only_order.status, only_order.raw_code) == (TrackingStatus.rto_delivered, "order:17")
    by_label = parse_webhook(b'{"awb": "1", "current_status": "Out For Delivery"}')
    assert by_label.status == TrackingStatus.out_for_delivery and by_label.scheme == "label"


def test_unknown_code_is_kept_raw():
    u = parse_webhook(b'{"awb": 123, "shipment_status_id": 99, "shipment_status": "TELEPORTED",'
                      b' "current_timestamp": "01 02 2026 10:00:00"}')
    assert (u.status, u.shipment_status_id, u.shipment_status) == (TrackingStatus.unknown, 99, "TELEPORTED")


def test_dedupe_key_repeats_for_a_redelivery_only():
    a = parse_webhook(SAMPLE_A.encode())
    assert parse_webhook(SAMPLE_A.encode()).dedupe_key == a.dedupe_key
    later = json.loads(SAMPLE_A)
    later["current_timestamp"] = "23 05 2023 12:00:00"
    assert parse_webhook(json.dumps(later).encode()).dedupe_key != a.dedupe_key


@pytest.mark.parametrize(("raw", "reason"), [
    (b"", "empty body"), (b"   ", "empty body"), (b"{not json", "not valid JSON"), (b"[1, 2]", "not a JSON object"),
    (b"{}", "no awb"), (b'{"awb": ""}', "no awb"),
])
def test_malformed(raw, reason):
    with pytest.raises(Malformed, match=reason):
        parse_webhook(raw)


def test_time_formats():
    expected = datetime(2023, 5, 23, 6, 13, 52, tzinfo=UTC)
    assert parse_time("23 05 2023 11:43:52") == expected
    assert parse_time("2023-05-23 11:43:52") == expected
    assert parse_time("2023-05-23T11:43:52+05:30") == expected
    assert parse_time("yesterday") is None and parse_time(None) is None
