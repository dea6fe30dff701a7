"""Reading Shiprocket's pickup, label and manifest answers: success and refusal share status codes, and
some successes come in shapes only integrators have seen (after-AWB facts §1–3)."""

from __future__ import annotations

from datetime import datetime

from app.integrations.aggregator import Manifest
from app.integrations.shiprocket.dispatch import parse_label, parse_manifest, parse_pickup, parse_printed_manifest
from app.timeutil import IST


def test_pickup_documented_success_and_the_repeats_integrators_see():
    ok = parse_pickup(200, {"pickup_status": 1, "response": {
        "pickup_scheduled_date": "2021-12-10 12:39:54", "pickup_token_number": "Reference No: 194_BIGFOOT 1"}})
    assert ok is not None and not ok.already_queued
    assert ok.scheduled_date == datetime(2021, 12, 10, 12, 39, 54, tzinfo=IST)
    assert ok.token_number == "Reference No: 194_BIGFOOT 1"
    assert parse_pickup(400, {"message": "Already in Pickup Queue."}).already_queued  # type: ignore[union-attr]
    duplicate = parse_pickup(500, {"message": "Duplicate request for pickup generation"})
    assert duplicate is not None and duplicate.already_queued
    alt = parse_pickup(500, {"pickup_token_number": "12345", "pickup_scheduled_date": "2022-05-17",
                             "pickup_generated": 1, "manifest_generated": 1})
    assert alt is not None and alt.token_number == "12345" and alt.scheduled_date.day == 17  # type: ignore[union-attr]
    assert parse_pickup(400, {"message": "Invalid shipment id", "status_code": 400}) is None
    assert parse_pickup(200, {"pickup_status": 0}) is None and parse_pickup(502, None) is None


def test_label_refusal_inside_a_200_is_no_label():
    assert parse_label(200, {"label_created": 1, "label_url": "https://x/l.pdf", "not_created": []}) == "https://x/l.pdf"
    assert parse_label(200, {"label_created": 0, "not_created": [], "response": "No valid shipment ids"}) is None
    assert parse_label(422, {"message": "Oops! Invalid Data."}) is None


def test_manifest_empty_url_is_a_refusal_and_a_repeat_is_recognised():
    assert parse_manifest(200, {"status": 1, "manifest_url": "https://x/m.pdf"}, "7") == Manifest("https://x/m.pdf")
    assert parse_manifest(200, {"status": 1, "manifest_url": ""}, "7") is None
    repeat = {"message": "Manifest already generated", "already_manifested_shipment_ids": [7, 8]}
    assert parse_manifest(400, repeat, "7") is True
    assert parse_manifest(400, repeat, "9") is None  # someone else's ids: not ours to adopt
    assert parse_printed_manifest(200, {"manifest_url": ""}) is None
    assert parse_printed_manifest(200, {"manifest_url": "https://x/p.pdf"}) == "https://x/p.pdf"
