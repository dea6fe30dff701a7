"""The Shiprocket return-order payload: the customer is the pickup, our warehouse the destination."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from app.integrations.aggregator import Address, OrderLine, Parcel, ReturnOrder
from app.integrations.shiprocket.mapping import parse_pickup_address, return_order_payload

CUSTOMER = Address("Priya Sharma", "12 MG Road", "Indiranagar", "Bengaluru", "Karnataka", "560001", "India",
                   "9876543210", "priya@example.com")
WAREHOUSE = Address("Primary Warehouse", "Unit 4, Sim Industrial Estate", "", "Mumbai", "Maharashtra", "400001",
                    "India", "9999999999", "")


def test_return_payload_puts_the_customer_at_pickup_and_is_prepaid():
    order = ReturnOrder(channel_order_id="SO-00001-RET1", order_date=date(2026, 5, 2), customer=CUSTOMER,
                        warehouse=WAREHOUSE, lines=(OrderLine("L1", "I1", "SSB-1L", "Bottle", Decimal(2),
                                                              Decimal("499.50")),),
                        parcel=Parcel(Decimal("0.84"), Decimal(28), Decimal(8), Decimal(8)))
    p = return_order_payload(order)
    assert (p["pickup_customer_name"], p["pickup_last_name"], p["pickup_pincode"]) == ("Priya", "Sharma", "560001")
    assert (p["shipping_customer_name"], p["shipping_pincode"], p["shipping_phone"]) == (
        "Primary Warehouse", "400001", "9999999999")
    assert p["payment_method"] == "Prepaid" and p["sub_total"] == 999.0 and p["order_date"] == "2026-05-02"
    assert p["order_items"] == [{"name": "Bottle", "sku": "SSB-1L", "units": 2, "selling_price": 499.5, "tax": 0.0}]
    assert (p["weight"], p["length"]) == (0.84, 28.0)


def test_pickup_address_is_matched_by_exact_nickname():
    body = {"data": {"shipping_address": [
        {"pickup_location": "primary warehouse", "address": "x", "pin_code": "110001"},
        {"pickup_location": "Primary Warehouse", "address": "Unit 4", "city": "Mumbai", "state": "Maharashtra",
         "pin_code": 400001, "phone": "9999999999"}]}}
    found = parse_pickup_address(body, "Primary Warehouse")
    assert found is not None and (found.line1, found.pincode, found.city) == ("Unit 4", "400001", "Mumbai")
    assert parse_pickup_address(body, "Nowhere") is None and parse_pickup_address(None, "x") is None
