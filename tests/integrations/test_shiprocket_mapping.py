import base64
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from app.fulfilment.order_mapping import to_ship_order
from app.integrations.aggregator import AwbAlreadyAssigned, AwbAssignmentFailed
from app.integrations.shiprocket import mapping
from app.rules import ParcelDefaults
from tests.fulfilment.test_order_mapping import salesorder

DEFAULTS = ParcelDefaults(Decimal("0.5"), Decimal("20"), Decimal("15"), Decimal("10"))


def jwt(payload):
    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")  # noqa: E731
    return f"{enc({'alg': 'HS256'})}.{enc(payload)}.sig"


def test_token_expiry_from_jwt_exp_else_ten_days():
    exp = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
    assert mapping.token_expiry(jwt({"exp": exp})) == datetime(2026, 12, 1, tzinfo=UTC)
    now = datetime(2026, 11, 23, tzinfo=UTC)
    assert mapping.token_expiry("opaque-token", now) == now + timedelta(days=10)


def test_adhoc_payload_cod_in_rupees_and_ist_date():
    so = salesorder(payment_terms_label="Cash on Delivery", date="2026-11-23")
    order = to_ship_order(so, cf_payment_method="cf_payment_method", defaults=DEFAULTS)
    now = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)  # 01:30 IST on the 24th
    payload = mapping.adhoc_order_payload(order, "SO-00045", "Primary Warehouse", now=now)
    assert payload["payment_method"] == "COD"
    assert payload["sub_total"] == 1178.82
    assert payload["order_items"][0] == {"name": "Steel Bottle 1L", "sku": "SSB-1L", "units": 2, "selling_price": 499.0,
                                         "tax": 0.0}
    assert payload["order_date"] == "2026-11-23"  # the order's own date, not tomorrow IST
    same_day = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
    assert mapping.adhoc_order_payload(order, "SO-00045", "W", now=same_day)["order_date"] == "2026-11-23 10:30"
    assert payload["billing_phone"] == "9876543210" and payload["billing_pincode"] == "560001"


def test_serviceability_parses_strings_and_dict_rates():
    body = {"status": 200, "data": {"available_courier_companies": [
        {"courier_company_id": 43, "courier_name": "Delhivery Surface", "rate": 54, "estimated_delivery_days": "4"},
        {"courier_company_id": "51", "courier_name": "Xpressbees", "rate": {"rate": "61.5"},
         "estimated_delivery_days": ""},
    ], "recommended_courier_company_id": 43}}
    s = mapping.parse_serviceability(body)
    assert [o.courier_id for o in s.options] == ["43", "51"]
    assert s.options[1].rate == Decimal("61.5") and s.options[1].etd_days is None
    assert s.recommended_id == "43"
    assert mapping.parse_serviceability({"status": 404, "message": "No courier"}).options == ()


def test_created_order_fresh_vs_existing_cancelled():
    fresh = mapping.parse_created_order({"order_id": 1, "shipment_id": 2, "status": "NEW", "status_code": 1})
    assert not fresh.reused_existing and not fresh.cancelled
    old = mapping.parse_created_order({"order_id": 1499133560, "shipment_id": 1495356234, "status": "CANCELED",
                                       "status_code": 5, "awb_code": ""})
    assert old.reused_existing and old.cancelled and old.awb is None


def test_awb_success_needs_awb_code_whatever_the_status():
    ok = mapping.parse_awb_assignment({"awb_assign_status": 1, "response": {"data": {
        "awb_code": "321055706540", "courier_company_id": 142, "courier_name": "Amazon Surface"}}})
    assert ok.awb == "321055706540" and ok.courier_id == "142"
    with pytest.raises(AwbAssignmentFailed, match="recharge"):
        mapping.parse_awb_assignment({"awb_assign_status": 0, "response": {"data": {
            "awb_assign_error": "Insufficient balance, please recharge"}}})
    with pytest.raises(AwbAlreadyAssigned):
        mapping.parse_awb_assignment({"message": "AWB is already assigned", "status_code": 400})


def test_duplicate_order_error_detected():
    assert mapping.is_duplicate_order_error({"message": "Oops! Invalid Data.",
                                             "errors": {"order_id": ["The order id has already been taken."]}})
    assert not mapping.is_duplicate_order_error({"message": "Oops! Invalid Data.", "errors": {"billing_phone": ["x"]}})
