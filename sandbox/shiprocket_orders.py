"""Order payload validation and the order views (`/orders/show/{id}`, `/orders` rows).

Validation answers with Laravel's wording ("The billing city field is required.") inside Shiprocket's
422 envelope, so a client's error extraction is exercised against realistic bodies. The views render
a subset of the real fields, including the per-order remittance fields the COD poller reads.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandbox.shiprocket_couriers import valid_pincode
from sandbox.shiprocket_format import money_num, money_str, panel_time, to_decimal, ymd_hms

Errors = dict[str, list[str]]

ADHOC_REQUIRED = (
    "order_id", "order_date", "pickup_location", "billing_customer_name", "billing_address", "billing_city",
    "billing_pincode", "billing_state", "billing_country", "billing_email", "billing_phone",
    "shipping_is_billing",
    "order_items", "payment_method", "sub_total", "length", "breadth", "height", "weight",
)
SHIPPING_WHEN_NOT_BILLING = (
    "shipping_customer_name", "shipping_address", "shipping_city", "shipping_pincode", "shipping_state",
    "shipping_country", "shipping_phone",
)
RETURN_REQUIRED = (
    "order_id", "order_date", "pickup_customer_name", "pickup_address", "pickup_city", "pickup_state",
    "pickup_country", "pickup_pincode", "pickup_email", "pickup_phone", "shipping_customer_name",
    "shipping_address", "shipping_city", "shipping_country", "shipping_pincode", "shipping_state",
    "shipping_phone", "order_items", "payment_method", "sub_total", "length", "breadth", "height", "weight",
    # Not in the Postman list, but refused in practice without them (issue 7; docs/fidelity.md): the
    # warehouse's email and the pickup location's id, which must name one of the account's locations.
    "shipping_email", "pickup_location_id",
)
ITEM_REQUIRED = ("name", "sku", "units", "selling_price")


def invalid(errors: Errors) -> dict[str, Any]:
    return {"message": "Oops! Invalid Data.", "errors": errors, "status_code": 422}


def _human(field: str) -> str:
    return field.replace("_", " ") if "." not in field else field


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True", "yes")


def _check_common(p: dict[str, Any], required: tuple[str, ...], errors: Errors) -> None:
    for name in required:
        if _missing(p.get(name)):
            errors.setdefault(name, []).append(f"The {_human(name)} field is required.")
    if len(str(p.get("order_id") or "")) > 50:
        errors.setdefault("order_id", []).append("The order id may not be greater than 50 characters.")
    if not _missing(p.get("sub_total")) and to_decimal(p.get("sub_total")) is None:
        errors.setdefault("sub_total", []).append("The sub total must be a number.")
    for dim in ("length", "breadth", "height"):
        value = to_decimal(p.get(dim))
        if not _missing(p.get(dim)) and (value is None or value <= Decimal("0.5")):
            errors.setdefault(dim, []).append(f"The {dim} must be greater than 0.5.")
    weight = to_decimal(p.get("weight"))
    if not _missing(p.get("weight")) and (weight is None or weight <= 0):
        errors.setdefault("weight", []).append("The weight must be greater than 0.")
    items = p.get("order_items")
    if isinstance(items, list):
        for i, item in enumerate(items):
            for key in ITEM_REQUIRED:
                if not isinstance(item, dict) or _missing(item.get(key)):
                    name = f"order_items.{i}.{key}"
                    errors.setdefault(name, []).append(f"The {name} field is required.")
    elif not _missing(items):
        errors.setdefault("order_items", []).append("The order items must be an array.")
    if not errors:
        _check_sub_total(p, errors)


def _check_sub_total(p: dict[str, Any], errors: Errors) -> None:
    """sub_total is what the customer pays (and a COD courier collects), and the items and charges must
    add up to it to the paisa. UNCERTAIN: Shiprocket documents only that it does not compute sub_total;
    refusing a mismatch is this simulator's choice, so a payload that would show the courier one amount
    and the invoice another is caught in tests (item `discount` is taken as for the whole line)."""
    items = Decimal(0)
    for item in p["order_items"]:
        price, units = to_decimal(item.get("selling_price")), to_decimal(item.get("units"))
        if price is None or units is None:
            errors.setdefault("order_items", []).append("The order items must have numeric prices and units.")
            return
        items += price * units - (to_decimal(item.get("discount")) or Decimal(0))
    expected = items + _charges(p)
    sub_total = to_decimal(p.get("sub_total"))
    if sub_total is not None and sub_total.quantize(Decimal("0.01")) != expected.quantize(Decimal("0.01")):
        errors.setdefault("sub_total", []).append(
            f"The sub total must equal the order items plus charges less the discount ({expected:.2f}).")


def _charges(p: dict[str, Any]) -> Decimal:
    def dec(name: str) -> Decimal:
        return to_decimal(p.get(name)) or Decimal(0)
    return dec("shipping_charges") + dec("giftwrap_charges") + dec("transaction_charges") - dec("total_discount")


def _check_pincode(p: dict[str, Any], name: str, errors: Errors) -> None:
    if not _missing(p.get(name)) and not valid_pincode(str(p.get(name))):
        errors.setdefault(name, []).append(f"The {_human(name)} must be 6 digits.")


def validate_adhoc(p: dict[str, Any]) -> Errors:
    errors: Errors = {}
    _check_common(p, ADHOC_REQUIRED, errors)
    if not _missing(p.get("shipping_is_billing")) and not truthy(p.get("shipping_is_billing")):
        for name in SHIPPING_WHEN_NOT_BILLING:
            if _missing(p.get(name)):
                errors.setdefault(name, []).append(
                    f"The {_human(name)} field is required when shipping is billing is 0.")
        _check_pincode(p, "shipping_pincode", errors)
    if len(str(p.get("billing_city") or "")) > 30:
        errors.setdefault("billing_city", []).append(
            "The billing city may not be greater than 30 characters.")
    if not _missing(p.get("billing_email")) and "@" not in str(p.get("billing_email")):
        errors.setdefault("billing_email", []).append("The billing email must be a valid email address.")
    _check_pincode(p, "billing_pincode", errors)
    if not _missing(p.get("payment_method")) and str(p["payment_method"]).lower() not in ("cod", "prepaid"):
        errors.setdefault("payment_method", []).append("The selected payment method is invalid.")
    return errors


def validate_return(p: dict[str, Any]) -> Errors:
    errors: Errors = {}
    _check_common(p, RETURN_REQUIRED, errors)
    _check_pincode(p, "pickup_pincode", errors)
    _check_pincode(p, "shipping_pincode", errors)
    if not _missing(p.get("payment_method")) and str(p["payment_method"]).lower() != "prepaid":
        errors.setdefault("payment_method", []).append("The selected payment method is invalid.")
    return errors


def order_total(p: dict[str, Any]) -> Decimal:
    """What the customer pays and a COD courier collects: sub_total (checked against items and charges)."""
    return to_decimal(p.get("sub_total")) or Decimal(0)


def customer_of(p: dict[str, Any], *, is_return: bool) -> dict[str, str]:
    """The end customer's address: pickup_* on a return, shipping_* or billing_* on a forward order."""
    prefix = "pickup" if is_return else ("billing" if truthy(p.get("shipping_is_billing")) else "shipping")
    name_key = f"{prefix}_customer_name"
    return {
        "name": " ".join(filter(None, [str(p.get(name_key) or ""), str(p.get(f"{prefix}_last_name") or "")])),
        "address": str(p.get(f"{prefix}_address") or ""),
        "address_2": str(p.get(f"{prefix}_address_2") or ""),
        "city": str(p.get(f"{prefix}_city") or ""), "state": str(p.get(f"{prefix}_state") or ""),
        "pincode": str(p.get(f"{prefix}_pincode") or ""), "country": str(p.get(f"{prefix}_country") or ""),
        "email": str(p.get(f"{prefix}_email") or p.get("billing_email") or ""),
        "phone": str(p.get(f"{prefix}_phone") or p.get("billing_phone") or ""),
    }


def _products(order: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for i, item in enumerate(order["payload"].get("order_items") or []):
        price = to_decimal(item.get("selling_price")) or Decimal(0)
        units = int(item.get("units") or 0)
        out.append({"id": order["order_id"] * 10 + i, "order_id": order["order_id"], "name": item.get("name"),
                    "sku": item.get("sku"), "channel_sku": item.get("sku"), "hsn": str(item.get("hsn") or ""),
                    "quantity": units, "price": money_num(price), "selling_price": money_num(price),
                    "net_total": money_num(price * units),
                    "discount": money_num(to_decimal(item.get("discount")) or Decimal(0))})
    return out


def order_show(order: dict[str, Any], shipment: dict[str, Any]) -> dict[str, Any]:
    """`GET /orders/show/{id}` data block (real field names; a subset of the ~150 real keys)."""
    p, cust = order["payload"], customer_of(order["payload"], is_return=bool(order["is_return"]))
    dims = shipment["dims"]
    remitted = order.get("remittance_date")
    return {
        "id": order["order_id"], "channel_id": order["channel_id"], "channel_name": "CUSTOM",
        "base_channel_code": "CS",
        "is_international": 0, "is_document": 0, "channel_order_id": order["channel_order_id"],
        "customer_name": cust["name"], "customer_email": cust["email"], "customer_phone": cust["phone"],
        "customer_address": cust["address"], "customer_address_2": cust["address_2"] or None,
        "customer_city": cust["city"], "customer_state": cust["state"], "customer_pincode": cust["pincode"],
        "customer_country": cust["country"], "pickup_location": p.get("pickup_location") or "",
        "currency": "INR", "payment_status": "", "total": money_num(order["total"]),
        "net_total": money_str(order["total"]), "cod": 1 if order["payment_method"] == "COD" else 0,
        "status": order["status"], "status_code": order["status_code"],
        "payment_method": order["payment_method"].lower(),
        "channel_created_at": panel_time(order["created_at"]), "created_at": panel_time(order["created_at"]),
        "order_date": order["created_at"].strftime("%d %b %Y"), "updated_at": panel_time(order["updated_at"]),
        "products": _products(order),
        "shipments": {
            "id": shipment["shipment_id"], "order_id": order["order_id"], "awb": shipment["awb"],
            "awb_assign_date": ymd_hms(shipment["awb_assigned_at"]),
            "courier": shipment["courier_name"] or "",
            "courier_id": shipment["courier_company_id"] or "", "etd": ymd_hms(shipment["etd"]) or "",
            "delivered_date": ymd_hms(shipment["delivered_date"]) or "",
            "weight": money_num(shipment["weight"]),
            "dimensions": "x".join(f"{d:.3f}" for d in dims), "length": money_num(dims[0]),
            "breadth": money_num(dims[1]), "height": money_num(dims[2]),
            "pickup_scheduled_date": ymd_hms(shipment["pickup_scheduled_at"]),
            "rto_initiated_date": ymd_hms(shipment["rto_initiated_date"]) or "",
            "rto_delivered_date": ymd_hms(shipment["rto_delivered_date"]) or "",
            "shipped_date": ymd_hms(shipment["pickup_date"]) or "", "is_rto": shipment["is_rto"],
            "status": shipment["status_label"],
        },
        "awb_data": {
            "awb": shipment["awb"] or "",
            "applied_weight": money_num(shipment["applied_weight"] or shipment["weight"]),
            "charges": {
                "zone": shipment["zone"] or "", "cod_charges": money_str(shipment["cod_charges"]),
                "freight_charges": money_str(shipment["freight_charges"]),
            },
        },
        "is_return": order["is_return"], "allow_return": 0, "is_incomplete": 0, "errors": None,
        "shipping_is_billing": 1 if truthy(p.get("shipping_is_billing")) else 0,
        "delivered_date": ymd_hms(shipment["delivered_date"]),
        "remittance_date": remitted.isoformat() if remitted else "",
        "remittance_utr": order.get("remittance_utr") or "",
        "remittance_status": order.get("remittance_status") or "",
    }


def order_row(order: dict[str, Any], shipment: dict[str, Any]) -> dict[str, Any]:
    """One row of `GET /orders` (shape of the Postman 'Get all Orders' example)."""
    cust = customer_of(order["payload"], is_return=bool(order["is_return"]))
    return {
        "id": order["order_id"], "channel_id": order["channel_id"], "channel_name": "CUSTOM",
        "base_channel_code": "CS",
        "channel_order_id": order["channel_order_id"], "customer_name": cust["name"],
        "customer_email": cust["email"],
        "customer_phone": cust["phone"], "pickup_location": order["payload"].get("pickup_location") or "",
        "payment_status": "", "total": money_str(order["total"]), "tax": "0.00", "sla": "2 days",
        "shipping_method": "SR", "expedited": 0, "status": order["status"],
        "status_code": order["status_code"],
        "payment_method": order["payment_method"].lower(), "is_international": 0, "purpose_of_shipment": 0,
        "channel_created_at": panel_time(order["created_at"]), "created_at": panel_time(order["created_at"]),
        "products": [{"id": p["id"], "name": p["name"], "channel_sku": p["sku"], "quantity": p["quantity"]}
                     for p in _products(order)],
        "shipments": [{"id": shipment["shipment_id"], "courier": shipment["courier_name"] or "",
                       "awb": shipment["awb"] or "", "return_awb": "",
                       "etd": ymd_hms(shipment["etd"]) or "NA",
                       "delivered_date": ymd_hms(shipment["delivered_date"]),
                       "rto_delivered_date": ymd_hms(shipment["rto_delivered_date"]) or "0000-00-00 00:00:00",
                       }],
        "allow_return": 0, "is_incomplete": 0, "errors": [],
    }
