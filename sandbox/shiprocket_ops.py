"""What each simulated Shiprocket endpoint does: request in, (HTTP status, JSON body) out.

Kept apart from the FastAPI wiring so the behaviour reads as a list of Shiprocket's rules, each
traceable to the facts file, and apart from ShiprocketSim so that class stays the test-facing surface.
"""

from __future__ import annotations

from decimal import Decimal
from math import ceil
from typing import TYPE_CHECKING, Any

from sandbox.shiprocket_couriers import (
    place,
    quote,
    serviceability_body,
    unserviceable_body,
    valid_pincode,
)
from sandbox.shiprocket_format import as_ist, int_param, to_decimal
from sandbox.shiprocket_orders import (
    customer_of,
    invalid,
    order_row,
    order_show,
    order_total,
    truthy,
    validate_adhoc,
    validate_return,
)
from sandbox.shiprocket_remittance import listing
from sandbox.shiprocket_statuses import ORDER_STATUS, POST_PICKUP, SHIPMENT_STATUS
from sandbox.shiprocket_tracking import no_activity, tracking_data

if TYPE_CHECKING:
    from sandbox.shiprocket import ShiprocketSim

Reply = tuple[int, Any]  # (HTTP status, JSON body; None means no content)


def missing_fields(errors: dict[str, list[str]]) -> Reply:
    return 422, {"message": "Required field missing", "errors": errors, "status_code": 422}


def int_or_none(value: Any) -> int | None:
    return int_param(value, None)


def error_reply(status: int, message: str) -> Reply:
    return status, {"message": message, "status_code": status}


# --- auth --------------------------------------------------------------------------------------------

def login(sim: ShiprocketSim, body: dict[str, Any]) -> Reply:
    errors = {k: [f"The {k} field is required."] for k in ("email", "password") if not body.get(k)}
    if errors:
        return 422, invalid(errors)
    if body["email"] != sim.email or body["password"] != sim.password:
        return error_reply(403, "Invalid email and password combination")
    with sim.lock:
        sim.login_count += 1
        token = sim.tokens.mint()
    return 200, {"id": sim.user_id, "first_name": "API", "last_name": "User", "email": sim.email,
                 "company_id": sim.company_id, "created_at": "2024-05-10 12:33:12", "token": token}


# --- serviceability ----------------------------------------------------------------------------------

def _dims(source: dict[str, Any]) -> tuple[Decimal, Decimal, Decimal] | None:
    length, breadth, height = (to_decimal(source.get(k)) for k in ("length", "breadth", "height"))
    if length is None or breadth is None or height is None or min(length, breadth, height) <= 0:
        return None
    return length, breadth, height


def quote_shipment(sim: ShiprocketSim, shipment: dict[str, Any]) -> list[dict[str, Any]]:
    if not _serviceable(sim, shipment["pickup_pincode"], shipment["delivery_pincode"]):
        return []
    return quote(sim.couriers, pickup=shipment["pickup_pincode"], delivery=shipment["delivery_pincode"],
                 weight=shipment["weight"], cod=shipment["cod"], declared_value=shipment["declared_value"],
                 dims=shipment["dims"], now=sim.clock())


def _serviceable(sim: ShiprocketSim, *pincodes: str) -> bool:
    return all(valid_pincode(p) and p not in sim.unserviceable_pincodes for p in pincodes)


def serviceability(sim: ShiprocketSim, params: dict[str, str]) -> Reply:
    errors = {f"{k}_postcode": [f"The {k} postcode field is required."]
              for k in ("pickup", "delivery") if not params.get(f"{k}_postcode")}
    if params.get("order_id"):
        order = sim.orders.get(int_or_none(params["order_id"]) or -1)
        if order is None:
            return 200, {"status": 404, "message": "Order does not exist!"}
        shipment = sim.shipments[order["shipment_id"]]
        weight, cod, dims = shipment["weight"], shipment["cod"], shipment["dims"]
        declared = shipment["declared_value"]
    else:
        for key in ("weight", "cod"):
            if params.get(key) in (None, ""):
                errors[key] = [f"The {key} field is required when order id is not present."]
                errors["order_id"] = ["The order id field is required when weight / cod is not present."]
        weight = to_decimal(params.get("weight")) or Decimal(0)
        cod = truthy(params.get("cod"))
        declared = to_decimal(params.get("declared_value")) or Decimal(0)
        dims = _dims(params)
    if errors:
        return missing_fields(errors)
    pickup, delivery = params["pickup_postcode"].strip(), params["delivery_postcode"].strip()
    if not _serviceable(sim, pickup, delivery):
        return 200, unserviceable_body()
    entries = quote(sim.couriers, pickup=pickup, delivery=delivery, weight=weight, cod=cod,
                    declared_value=declared, dims=dims, now=sim.clock())
    return 200, serviceability_body(entries)


# --- orders ------------------------------------------------------------------------------------------

def _store_order(sim: ShiprocketSim, p: dict[str, Any], *, is_return: bool) -> dict[str, Any]:
    now = as_ist(sim.clock())
    customer = customer_of(p, is_return=is_return)
    if is_return:  # pickup_* is the customer, shipping_* the seller's warehouse
        route = (customer["pincode"], str(p["shipping_pincode"]), customer["city"], str(p["shipping_city"]),
                 str(p["shipping_customer_name"]))
    else:
        origin = place(sim.pickup_pincode)[0] or sim.pickup_locations[0]
        route = (sim.pickup_pincode, customer["pincode"], origin, customer["city"], customer["name"])
    order_id, shipment_id = sim.next_order_id(), sim.next_shipment_id()
    status_code = 21 if is_return else 1
    payment = "COD" if str(p["payment_method"]).lower() == "cod" else "Prepaid"
    order = {"order_id": order_id, "shipment_id": shipment_id, "channel_order_id": str(p["order_id"]),
             "channel_id": sim.channel_id, "is_return": int(is_return), "status_code": status_code,
             "status": ORDER_STATUS[status_code], "payment_method": payment, "total": order_total(p),
             "awb_code": None, "courier_company_id": None, "courier_name": None, "created_at": now,
             "updated_at": now, "remittance_id": None, "payload": p}
    dims = _dims(p) or (Decimal(10), Decimal(10), Decimal(10))
    sim.orders[order_id] = order
    sim.shipments[shipment_id] = {
        "shipment_id": shipment_id, "order_id": order_id, "is_return": int(is_return),
        "cod": payment == "COD", "declared_value": order["total"], "weight": to_decimal(p["weight"]),
        "dims": dims, "pickup_pincode": route[0], "delivery_pincode": route[1], "origin": route[2],
        "destination": route[3],
        "consignee_name": route[4], "status_label": "PENDING" if is_return else "NEW", "scans": [],
        "is_rto": False, "freight_charges": Decimal(0), "cod_charges": Decimal(0),
        # filled in by AWB assignment, pickup and the courier's scans
        **dict.fromkeys(("awb", "courier_company_id", "courier_name", "status_id", "awb_assigned_at",
                         "reassigned_at", "pickup_scheduled_at", "pickup_generated_at", "pickup_token_number",
                         "pickup_date", "delivered_date", "rto_initiated_date", "rto_delivered_date", "etd",
                         "applied_weight", "zone", "label_url", "manifest_url")),
    }
    return order


def create_adhoc(sim: ShiprocketSim, p: dict[str, Any]) -> Reply:
    errors = validate_adhoc(p)
    if errors:
        return 422, invalid(errors)
    if p["pickup_location"] not in sim.pickup_locations:  # exact match: case and whitespace count
        # UNCERTAIN: status and `data` layout; public clients read the locations from `data` (a list).
        message = "Wrong Pickup location entered. Please choose one location from the data given"
        return 422, {"message": message, "data": _pickup_addresses(sim), "status_code": 422}
    with sim.lock:
        existing = sim.order_by_channel_id(str(p["order_id"]))
        if existing is not None:
            if sim.duplicate_order_mode == "error_422":
                return 422, invalid({"order_id": ["The order id has already been taken."]})
            # Observed 2026: HTTP 200 with the EXISTING order, whatever its state (even CANCELED).
            return 200, {"order_id": existing["order_id"], "shipment_id": existing["shipment_id"],
                         "status": existing["status"], "status_code": existing["status_code"],
                         "onboarding_completed_now": 0, "awb_code": existing["awb_code"] or "",
                         "courier_company_id": existing["courier_company_id"] or "",
                         "courier_name": existing["courier_name"] or ""}
        order = _store_order(sim, p, is_return=False)
    return 200, {"order_id": order["order_id"], "shipment_id": order["shipment_id"], "status": "NEW",
                 "status_code": 1, "onboarding_completed_now": 0, "awb_code": None,
                 "courier_company_id": None, "courier_name": None}


def _pickup_addresses(sim: ShiprocketSim) -> list[dict[str, Any]]:
    city, state = place(sim.pickup_pincode)
    return [{"id": 1000 + i, "pickup_location": name, "address": "Unit 4, Sim Industrial Estate",
             "city": city, "state": state, "country": "India", "pin_code": sim.pickup_pincode,
             "phone": "9999999999", "email": sim.email, "phone_verified": 1, "status": 2}
            for i, name in enumerate(sim.pickup_locations)]


def pickup_locations(sim: ShiprocketSim) -> Reply:
    """`GET /settings/company/pickup` (facts §2.8): the account's pickup addresses under data.shipping_address."""
    return 200, {"data": {"shipping_address": _pickup_addresses(sim), "allow_more": "1", "is_blackbox_seller": False,
                          "company_name": sim.company_name}}


def create_return(sim: ShiprocketSim, p: dict[str, Any]) -> Reply:
    errors = validate_return(p)
    if not errors and str(p["pickup_location_id"]) not in {str(a["id"]) for a in _pickup_addresses(sim)}:
        errors = {"pickup_location_id": ["The selected pickup location id is invalid."]}
    if errors:
        return 422, invalid(errors)
    with sim.lock:
        if sim.order_by_channel_id(str(p["order_id"])) is not None:
            return 422, invalid({"order_id": ["The order id has already been taken."]})
        order = _store_order(sim, p, is_return=True)
    return 200, {"order_id": order["order_id"], "shipment_id": order["shipment_id"],
                 "status": "RETURN PENDING", "status_code": 21, "company_name": sim.company_name}


def _cancelled(order: dict[str, Any]) -> bool:
    return order["status_code"] in (5, 27)


def cancel(sim: ShiprocketSim, body: dict[str, Any]) -> Reply:
    ids = body.get("ids")
    if not ids:
        return missing_fields({"ids": ["The ids field is required."]})
    ids = ids if isinstance(ids, list) else [ids]
    with sim.lock:
        orders = [sim.orders.get(int_or_none(i) or -1) for i in ids]
        if any(o is None for o in orders):
            return error_reply(500, "Trying to get property of non-object")
        moving = [o for o in orders if o is not None and not _cancelled(o)
                  and sim.shipments[o["shipment_id"]]["status_id"] in POST_PICKUP | {19}]
        if moving:
            # UNCERTAIN: [PM] documents no refusal text; cancel-by-AWB is allowed only "before the 'Out for
            # Pickup' state", and a parcel with the courier can only come back as an RTO.
            return error_reply(400, f"Order(s) {', '.join(str(o['order_id']) for o in moving)} cannot be "
                                    "cancelled: shipment already picked up")
        for order in orders:
            assert order is not None
            shipment = sim.shipments[order["shipment_id"]]
            if _cancelled(order):
                continue  # already cancelled: nothing changes, still 204
            if shipment["status_id"] is not None:
                shipment["status_id"] = 8
            status_code = 27 if order["is_return"] else 5
            if shipment["status_id"] is not None:
                shipment["status_label"] = SHIPMENT_STATUS[shipment["status_id"]]
            order["status_code"], order["status"] = status_code, ORDER_STATUS[status_code]
    return 204, None


# --- tracking ----------------------------------------------------------------------------------------

def track_awb(sim: ShiprocketSim, awb: str) -> Reply:
    shipment = sim.shipment_by_awb(awb)
    if shipment is None:
        return 200, no_activity()
    return 200, tracking_data(sim.orders[shipment["order_id"]], shipment)


def track_awbs(sim: ShiprocketSim, body: dict[str, Any]) -> Reply:
    awbs = body.get("awbs")
    if not isinstance(awbs, list) or not awbs:
        return 200, {}  # the documented answer to invalid or missing data
    if len(awbs) > 50:
        return 422, invalid({"awbs": ["The awbs may not have more than 50 items."]})
    return 200, {str(awb): track_awb(sim, str(awb))[1] for awb in awbs}


def track_shipment(sim: ShiprocketSim, shipment_id: str) -> Reply:
    shipment = sim.shipments.get(int_or_none(shipment_id) or -1)
    if shipment is None:
        return 200, no_activity()
    return 200, tracking_data(sim.orders[shipment["order_id"]], shipment)


def track_order(sim: ShiprocketSim, params: dict[str, str]) -> Reply:
    if not params.get("order_id"):
        return missing_fields({"order_id": ["The order id field is required."]})
    found = [o for o in sim.orders.values() if o["channel_order_id"] == params["order_id"]]
    return 200, [tracking_data(o, sim.shipments[o["shipment_id"]]) for o in found]


# --- order views and remittance ----------------------------------------------------------------------

def show_order(sim: ShiprocketSim, order_id: str) -> Reply:
    order = sim.orders.get(int_or_none(order_id) or -1)
    if order is None:
        return error_reply(400, "Order ID not found")
    return 200, {"data": order_show(order, sim.shipments[order["shipment_id"]])}


def list_orders(sim: ShiprocketSim, params: dict[str, str]) -> Reply:
    """`GET /orders` with page/per_page, filter_by (status | payment_method | channel_order_id) + filter,
    and search (an AWB or a channel order id); newest first."""
    rows = sorted(sim.orders.values(), key=lambda o: o["order_id"], reverse=True)
    by, value = params.get("filter_by"), params.get("filter")
    if by and value is not None:
        if by == "status":
            rows = [o for o in rows if str(o["status_code"]) == value]
        elif by == "payment_method":
            rows = [o for o in rows if o["payment_method"].lower() == value.lower()]
        elif by == "channel_order_id":
            rows = [o for o in rows if o["channel_order_id"] == value]
    if params.get("search"):
        term = params["search"]
        rows = [o for o in rows if term in (o["channel_order_id"], o["awb_code"])]
    page, per_page = max(int_param(params.get("page"), 1), 1), max(int_param(params.get("per_page"), 15), 1)
    chosen = rows[(page - 1) * per_page: page * per_page]
    pagination = {"total": len(rows), "count": len(chosen), "per_page": per_page, "current_page": page,
                  "total_pages": max(ceil(len(rows) / per_page), 1), "links": {}}
    return 200, {"data": [order_row(o, sim.shipments[o["shipment_id"]]) for o in chosen],
                 "meta": {"pagination": pagination}}


def remittances(sim: ShiprocketSim, params: dict[str, str]) -> Reply:
    return listing(sim.remittances, params)

