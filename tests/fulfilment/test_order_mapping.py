from decimal import Decimal

import pytest

from app.fulfilment.order_mapping import (
    MissingOrderData,
    build_parcel,
    missing_fields,
    payment_method,
    ship_order_from_json,
    ship_order_to_json,
    to_ship_order,
)
from app.rules import ParcelDefaults

DEFAULTS = ParcelDefaults(Decimal("0.5"), Decimal("20"), Decimal("15"), Decimal("10"))


def salesorder(**overrides):
    so = {
        "salesorder_id": "4285925000000038115",
        "salesorder_number": "SO-00045",
        "date": "2026-11-20",
        "status": "confirmed",
        "customer_id": "4285925000000011001",
        "customer_name": "Priya Sharma",
        "email": "priya@example.com",
        "total": 1178.82,
        "payment_terms_label": "Due on Receipt",
        "shipping_address": {"attention": "Priya Sharma", "address": "12 MG Road", "street2": "Near Metro",
                             "city": "Bengaluru", "state": "Karnataka", "zip": "560001", "country": "India",
                             "phone": "+91 98765 43210"},
        "line_items": [{"line_item_id": "1", "item_id": "9001", "sku": "SSB-1L", "name": "Steel Bottle 1L",
                        "quantity": 2, "rate": 499}],
        "custom_fields": [],
    }
    so.update(overrides)
    return so


def test_cod_from_custom_field_wins_over_terms():
    so = salesorder(custom_fields=[{"api_name": "cf_payment_method", "value": "COD"}],
                    payment_terms_label="Net 15")
    assert payment_method(so, "cf_payment_method") == "COD"
    so = salesorder(custom_fields=[{"api_name": "cf_payment_method", "value": "Prepaid"}],
                    payment_terms_label="Cash on Delivery")
    assert payment_method(so, "cf_payment_method") == "Prepaid"


@pytest.mark.parametrize("label,expected", [("COD", "COD"), ("cash on delivery", "COD"), ("Pay COD", "COD"),
                                            ("Due on Receipt", "Prepaid"), ("Net 30", "Prepaid"), ("", "Prepaid")])
def test_cod_from_payment_terms_label(label, expected):
    assert payment_method(salesorder(payment_terms_label=label), "cf_payment_method") == expected


def test_custom_field_hash_is_read_too():
    so = salesorder(custom_field_hash={"cf_payment_method": "cod"})
    assert payment_method(so, "cf_payment_method") == "COD"


def test_maps_address_phone_and_money():
    order = to_ship_order(salesorder(), cf_payment_method="cf_payment_method", defaults=DEFAULTS)
    assert order.address.phone == "9876543210"
    assert order.address.pincode == "560001"
    assert order.total == Decimal("1178.82")
    assert order.lines[0].quantity == Decimal("2") and order.lines[0].rate == Decimal("499")
    assert order.salesorder_id == "4285925000000038115"


def test_missing_fields_are_named():
    so = salesorder(shipping_address={"address": "x"}, email=None)
    missing = missing_fields(so)
    assert "shipping_address.city" in missing and "shipping_address.zip" in missing and "email" in missing
    with pytest.raises(MissingOrderData) as exc:
        to_ship_order(so, cf_payment_method="cf_payment_method", defaults=DEFAULTS)
    assert "shipping_address.zip" in str(exc.value)


def test_parcel_from_package_details_with_units():
    lines = [{"item_id": "a", "quantity": 2}, {"item_id": "b", "quantity": 1}]
    packages = {"a": {"weight": 250, "weight_unit": "g", "length": 20, "width": 10, "height": 5,
                      "dimension_unit": "cm"},
                "b": {"weight": 1.2, "weight_unit": "kg", "length": 30, "width": 8, "height": 4}}
    parcel = build_parcel(lines, packages, DEFAULTS)
    assert parcel.weight_kg == Decimal("1.700")
    dims = (parcel.length_cm, parcel.breadth_cm, parcel.height_cm)
    assert dims == (Decimal("30.0"), Decimal("10.0"), Decimal("14.0"))


def test_parcel_defaults_when_no_details():
    parcel = build_parcel([{"item_id": "x", "quantity": 1}], {}, DEFAULTS)
    assert parcel.weight_kg == Decimal("0.500") and parcel.length_cm == Decimal("20.0")


def test_snapshot_round_trip():
    order = to_ship_order(salesorder(), cf_payment_method="cf_payment_method", defaults=DEFAULTS)
    assert ship_order_from_json(ship_order_to_json(order)) == order
