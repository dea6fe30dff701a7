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


def _group(ids: str, awbs: str, cod: str, *, status: str = "pending", utr: str | None = None,
           day: str | None = "2026-03-18") -> mapping.ShipleeRemittance:
    [row] = mapping.remittances({"data": {"remittances": [{
        "remittance_ids": ids, "awbs": awbs, "total_cod_amount": cod, "total_net_remittance": "3482.50",
        "total_base_charge": "15.00", "total_gst_component": "2.50", "remittance_status": status,
        "remittance_date": day, "utr_number": utr}]}}).rows
    return row


def test_search_row_becomes_a_neutral_tracking_update_keyed_by_the_word() -> None:
    [row] = mapping.shipment_statuses({"orders": [{"customer_info_id": 1042, "awb_number": "1439",
                                                   "status": "In Transit"}]})
    seen = datetime(2026, 3, 15, 10, 0, tzinfo=UTC)
    update = mapping.tracking_update(row, seen)
    assert (update.awb, update.status, update.shipment_status, update.aggregator_order_id) == (
        "1439", S.in_transit, "In Transit", "1042")
    assert update.raw_code == "shiplee:In Transit" and update.event_at == seen
    later = mapping.tracking_update(row, seen + timedelta(hours=3))
    assert later.dedupe_key == update.dedupe_key  # polled again: the same event
    odd = mapping.tracking_update(replace(row, raw_status="teleported", status=S.unknown), seen)
    assert odd.status == S.unknown and odd.shipment_status == "teleported"  # kept raw, never acted on


def test_remittance_rows_become_batches_paid_only_with_a_utr_or_a_paid_word() -> None:
    pending = mapping.remittance_batch(_group("201,202", "AWB001,AWB002", "3500.00"))
    assert pending is not None and not pending.paid and pending.batch_id == "SL-201"
    assert pending.deductions == Decimal("17.50") and pending.remitted == Decimal("3482.50")
    assert [(i.awb, i.cod_amount, i.deductions) for i in pending.items] == [("AWB001", None, None),
                                                                           ("AWB002", None, None)]
    assert mapping.remittance_batch(_group("203", "AWB003", "3500", utr="UTR9")).paid  # type: ignore[union-attr]
    single = mapping.remittance_batch(_group("204", "AWB004", "3500", status="Completed"))
    assert single is not None and single.paid and single.utr is None
    assert [(i.cod_amount, i.deductions) for i in single.items] == [(Decimal(3500), Decimal("17.50"))]
    assert mapping.remittance_batch(_group("", "AWB005", "1")) is None
    assert mapping.remittance_batch(_group("205", "AWB005", "1", day=None)) is None


def test_weight_disputes_become_neutral() -> None:
    [row] = mapping.weight_disputes({"disputes": [{
        "id": 42, "order_id": "ORD-001", "awb_number": "1439", "carrier": "Delhivery",
        "chargeable_booked_weight": 500, "chargeable_applied_weight": 1000, "upcoming_charges": "41.00",
        "status": "DISPUTE", "auto_accepted": False, "created_at": "2026-03-15 10:00:00"}]})
    dispute = mapping.weight_dispute(row)
    assert (dispute.dispute_id, dispute.awb, dispute.courier, dispute.charges) == ("42", "1439", "Delhivery",
                                                                                   Decimal(41))
    assert not dispute.closed and mapping.weight_dispute(replace(row, auto_accepted=True)).closed


def test_an_unreadable_remittance_amount_marks_the_row_never_zero_rupees() -> None:
    """A group's money becomes a Books payment: an amount that cannot be read must not become ₹0."""
    body = {"data": {"remittances": [
        {"remittance_ids": "301", "awbs": "AWB301", "total_cod_amount": "12O0.00",  # letter O, not zero
         "total_net_remittance": "1194.00", "remittance_date": "2026-03-15", "remittance_status": "pending"},
        {"remittance_ids": "302", "awbs": "AWB302", "total_cod_amount": "800", "total_net_remittance": "796",
         "total_base_charge": "4", "remittance_date": "2026-03-15", "remittance_status": "pending"}]}}
    bad, good = mapping.remittances(body).rows
    assert bad.unreadable is not None and "301 total_cod_amount" in bad.unreadable
    assert good.unreadable is None and good.cod_amount == Decimal(800) and good.gst == Decimal(0)
