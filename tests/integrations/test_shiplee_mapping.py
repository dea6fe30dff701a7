"""Shiplee's pure mapping: payload rules from the seed and the status table, without a network."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from app.integrations.shiplee import mapping
from app.integrations.shipping import TrackingStatus
from tests.integrations.test_shiplee_client import ship_order

S = TrackingStatus


@pytest.mark.parametrize(("raw", "ours"), [
    ("new", S.unknown), ("pending", S.unknown), ("booked", S.awb_assigned), ("manifested", S.pickup_scheduled),
    ("cancelled", S.cancelled), ("Canceled", S.cancelled), ("In Transit", S.in_transit), ("in-transit", S.in_transit),
    ("OUT_FOR_DELIVERY", S.out_for_delivery), ("delivered", S.delivered), ("RTO", S.rto_initiated),
    ("rto delivered", S.rto_delivered), ("lost", S.lost), ("undelivered", S.undelivered),
    ("something new", S.unknown), ("", S.unknown),
])
def test_status_words_map_with_explicit_default(raw: str, ours: TrackingStatus) -> None:
    assert mapping.to_status(raw) == ours


def test_search_rows_keep_the_raw_status() -> None:
    rows = mapping.shipment_statuses({"orders": [{"customer_info_id": 1042, "awb_number": "1439", "status": "Shipped",
                                                  "order_date": "2026-03-15 10:00:00"}]})
    assert rows[0].raw_status == "Shipped" and rows[0].status == S.in_transit and rows[0].order_id == "1042"
    assert rows[0].order_date is not None and rows[0].order_date.utcoffset() == timedelta(hours=5, minutes=30)


def test_rates_payload_in_grams_on_charge_weight() -> None:
    order = ship_order()
    payload = mapping.rates_payload(order, "110001")["order_info"]
    assert payload == {"source_pincode": "110001", "destination_pincode": "560001", "order_weight": 1800,
                       "order_value": 1299.0, "payment_type": "cod"}
    small = replace(order, parcel=replace(order.parcel, length_cm=Decimal(10), breadth_cm=Decimal(10),
                                          height_cm=Decimal(10), weight_kg=Decimal("0.4501")))
    assert mapping.rates_payload(small, "110001")["order_info"]["order_weight"] == 451  # rounded up
    prepaid = mapping.rates_payload(replace(order, payment_method="Prepaid"), "110001")
    assert prepaid["order_info"]["payment_type"] == "prepaid"


def test_create_payload_fits_shiplees_rules() -> None:
    long_line = "Flat 1204, Tower B, Prestige Lakeside Habitat, Varthur Main Road, Gunjur Village, Near Sai Baba Temple"
    order = ship_order()
    order = replace(order, address=replace(order.address, line1=long_line, phone="+91-98765 43210"),
                    shipping_charges=Decimal(50), total=Decimal("1349.00"))
    payload = mapping.create_order_payload(order, "SO-1")
    assert len(payload["address1"]) <= 100 and len(payload["address2"]) <= 110
    assert f"{payload['address1']} {payload['address2']}".startswith(long_line)
    assert payload["mobile"] == "9876543210" and payload["payment_type"] == "cod" and payload["order_id"] == "SO-1"
    assert payload["parcels"] == [{"length": 30.0, "breadth": 20.0, "height": 15.0, "physical_weight": 0.5}]
    assert sum(p["product_price"] * p["quantity"] for p in payload["products"]) == 1349.0
    assert payload["products"][0]["gst_percentage"] == 18.0 and payload["products"][0]["hsn_code"] == "6403"
    assert mapping.create_order_payload(replace(order, payment_method="Prepaid"), "SO-1")["payment_type"] == "prd"


def test_an_order_level_discount_still_collects_the_order_total() -> None:
    order = replace(ship_order(), total=Decimal("1199.00"))  # ₹100 off the order, not off a line
    products = mapping.create_order_payload(order, "SO-1")["products"]
    assert products == [{"product_name": "Shoes", "quantity": 1, "product_price": 1199.0, "sku": "ORDER-SO-1"}]


def test_booking_answers() -> None:
    ok = mapping.parse_booking("10", 200, {"status": "success", "awb_number": "123", "carrier": "Delhivery",
                                           "zone": "D", "charges": {"freight_charges": 124, "cod_charges": 38,
                                                                    "cost": 162}})
    assert ok is not None and ok.cost == Decimal(162) and not ok.already_booked
    again = mapping.parse_booking("10", 409, {"status": "error", "error_code": "ALREADY_BOOKED", "awb_number": "123"})
    assert again is not None and again.already_booked and again.awb == "123"
    assert mapping.parse_booking("10", 402, {"status": "error", "error_code": "INSUFFICIENT_BALANCE"}) is None
    assert mapping.parse_booking("10", 200, {"status": "success"}) is None  # no AWB is no booking


def test_token_expiry_from_expires_in() -> None:
    now = datetime(2026, 3, 1, tzinfo=UTC)
    assert mapping.token_expiry({"expires_in": 10800}, now) == now + timedelta(hours=3)
    assert mapping.token_expiry({}, now) == now + timedelta(hours=3)


def test_quotes_sorted_and_money_exact() -> None:
    body = {"data": {"carrier_info": [
        {"carrier_id": "b", "carrier_name": "B", "ratecard_id": 2, "cost": 90.1, "freight_charges": 90.1,
         "cod_charges": 0},
        {"carrier_id": "a", "carrier_name": "A", "ratecard_id": "1", "cost": 80.3, "freight_charges": 50.2,
         "cod_charges": 30.1},
        {"carrier_name": "no id: unbookable"}]}}
    quotes = mapping.parse_quotes(body)
    assert [(q.carrier_id, q.cost, q.ratecard_id) for q in quotes] == [("a", Decimal("80.3"), 1),
                                                                        ("b", Decimal("90.1"), 2)]
    assert mapping.parse_quotes({"status": "error"}) == ()
