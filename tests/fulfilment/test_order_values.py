"""Shiprocket payload values from a Zoho sales order: GST-inclusive unit prices, discounts and shipping in
their own fields, and items + charges - discount == sub_total == what the customer pays, to the paisa."""

from decimal import Decimal

import pytest

from app.fulfilment.order_mapping import ship_order_from_json, ship_order_to_json, to_ship_order
from app.integrations.shiprocket import mapping
from app.rules import ParcelDefaults
from sandbox.shiprocket_orders import validate_adhoc
from tests.fulfilment.test_order_mapping import salesorder

DEFAULTS = ParcelDefaults(Decimal("0.5"), Decimal("20"), Decimal("15"), Decimal("10"))


def payload_for(so):
    order = to_ship_order(so, cf_payment_method="cf_payment_method", defaults=DEFAULTS)
    return order, mapping.adhoc_order_payload(order, so["salesorder_number"], "Primary Warehouse")


def adds_up(payload) -> Decimal:
    items = sum(Decimal(str(i["selling_price"])) * i["units"] for i in payload["order_items"])
    return (items + Decimal(str(payload["shipping_charges"])) + Decimal(str(payload["transaction_charges"]))
            - Decimal(str(payload["total_discount"])))


def gst_order(**overrides):
    # Zoho: sub_total 2000 + 1500 + 999 = 4499, entity discount 10% (449.90) before tax, shipping 80.
    lines = [
        {"line_item_id": "1", "item_id": "1", "sku": "KURTA", "name": "Kurta", "quantity": 2, "rate": 1000,
         "tax_percentage": 5, "hsn_or_sac": "6211"},
        {"line_item_id": "2", "item_id": "2", "sku": "SHOE", "name": "Shoe", "quantity": 1, "rate": 1500,
         "tax_percentage": 12, "hsn_or_sac": "6403"},
        {"line_item_id": "3", "item_id": "3", "sku": "SERUM", "name": "Serum", "quantity": 3, "rate": 333,
         "tax_percentage": 18, "hsn_or_sac": "3304"},
    ]
    # tax on the discounted lines: 2000*.9*.05=90, 1500*.9*.12=162, 999*.9*.18=161.84 -> 413.84
    total = Decimal("4499") - Decimal("449.90") + Decimal("413.84") + Decimal("80")
    return salesorder(line_items=lines, discount="10%", discount_amount=449.9, shipping_charge=80,
                      total=float(total), **overrides)


def test_gst_lines_discount_and_shipping_add_up_to_the_total():
    order, payload = payload_for(gst_order())
    assert [i["selling_price"] for i in payload["order_items"]] == [1050.0, 1680.0, 392.94]
    assert [i["tax"] for i in payload["order_items"]] == [5.0, 12.0, 18.0]
    assert [i["hsn"] for i in payload["order_items"]] == ["6211", "6403", "3304"]
    assert payload["shipping_charges"] == 80.0
    assert payload["sub_total"] == 4542.94 == float(order.total)
    # the 10% discount with the GST it saves (449.90 + 45.98): 4958.82 items + 80 - 4542.94
    assert payload["total_discount"] == 495.88 and payload["transaction_charges"] == 0
    assert adds_up(payload) == Decimal("4542.94")
    assert validate_adhoc(payload) == {}


@pytest.mark.parametrize("rate,qty,pct", [("99.99", 3, "18"), ("333.33", 7, "12"), ("0.05", 9, "5"),
                                          ("1299", 1, "0"), ("10", 3, "18")])
def test_paise_rounding_never_breaks_the_sum(rate, qty, pct):
    line_total = Decimal(rate) * qty * (1 + Decimal(pct) / 100)
    total = line_total.quantize(Decimal("0.01"))
    so = salesorder(line_items=[{"line_item_id": "1", "item_id": "1", "sku": "X", "name": "X", "quantity": qty,
                                 "rate": rate, "tax_percentage": pct}], total=str(total))
    _, payload = payload_for(so)
    unit = Decimal(str(payload["order_items"][0]["selling_price"]))
    assert unit * qty >= line_total  # rounded up: never shows the courier less than the order
    assert unit * qty - line_total < Decimal("0.01") * qty
    assert adds_up(payload) == total == Decimal(str(payload["sub_total"]))
    assert validate_adhoc(payload) == {}


def test_line_discount_and_inclusive_tax():
    lines = [{"line_item_id": "1", "item_id": "1", "sku": "A", "name": "A", "quantity": 4, "rate": 250,
              "discount": "10%", "tax_percentage": 18},
             {"line_item_id": "2", "item_id": "2", "sku": "B", "name": "B", "quantity": 2, "rate": 100,
              "discount": 20, "tax_percentage": 5}]
    _, payload = payload_for(salesorder(line_items=lines, total=1251))  # 900*1.18 + 180*1.05
    assert [i["selling_price"] for i in payload["order_items"]] == [265.5, 94.5]
    assert payload["total_discount"] == 0 and adds_up(payload) == Decimal("1251")
    inclusive = salesorder(is_inclusive_tax=True, line_items=[{**lines[0], "discount": 0}], total=1000)
    _, payload = payload_for(inclusive)
    assert payload["order_items"][0]["selling_price"] == 250.0 and adds_up(payload) == Decimal("1000")


def test_a_positive_adjustment_is_charged_not_discounted():
    _, payload = payload_for(salesorder(total=1000))  # 2 x 499 = 998, Zoho adjustment +2
    assert payload["transaction_charges"] == 2.0 and payload["total_discount"] == 0
    assert adds_up(payload) == Decimal("1000")


def test_snapshot_keeps_tax_and_shipping():
    order, _ = payload_for(gst_order())
    again = ship_order_from_json(ship_order_to_json(order))
    assert again == order and again.shipping_charges == Decimal("80.00")
    assert again.lines[2].tax_percent == Decimal("18")


def test_simulator_refuses_a_sub_total_the_items_do_not_add_up_to():
    _, payload = payload_for(gst_order())
    errors = validate_adhoc({**payload, "total_discount": 0})
    assert "sub_total" in errors


def test_return_orders_carry_the_same_gst_inclusive_values():
    from datetime import date

    from app.integrations.aggregator import ReturnOrder
    from sandbox.shiprocket_orders import validate_return

    order, _ = payload_for(gst_order())
    serum = order.lines[2]
    warehouse = order.address.__class__(name="Primary Warehouse", line1="Unit 4", line2="", city="Mumbai",
                                         state="Maharashtra", pincode="400001", country="India",
                                         phone="9999999999", email="wh@example.com")
    ret = ReturnOrder(channel_order_id="SO-00045-RET1", order_date=date(2026, 11, 30), customer=order.address,
                      warehouse=warehouse, lines=(serum,), parcel=order.parcel, pickup_location_id="1000")
    p = mapping.return_order_payload(ret)
    assert p["order_items"] == [{"name": "Serum", "sku": "SERUM", "units": 3, "selling_price": 392.94, "tax": 18.0,
                                 "hsn": "3304"}]
    assert p["sub_total"] == 1178.82 and (p["shipping_email"], p["pickup_location_id"]) == ("wh@example.com", "1000")
    assert validate_return(p) == {}
