"""Assign-AWB and pickup generation: where Shiprocket's failures hide inside HTTP 200s.

A failed assignment can answer 200 with `awb_assign_status: 0` and no `awb_code`; an already-queued pickup
answers 400 "Already in Pickup Queue." (idempotent success in practice); a cancelled order answers with a
misleading 400. Injected failures (ShiprocketSim.fail_awb_assignments) leave the shipment untouched, so a
retry behaves like the first attempt.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sandbox.shiprocket_couriers import charge_weight, place, recommended
from sandbox.shiprocket_format import as_ist, php_datetime, ymd_hms
from sandbox.shiprocket_ops import Reply, error_reply, int_or_none, missing_fields, quote_shipment
from sandbox.shiprocket_statuses import ORDER_STATUS, POST_PICKUP, SHIPMENT_STATUS, order_status_for

if TYPE_CHECKING:
    from sandbox.shiprocket import ShiprocketSim


def _next_pickup_slot(now: datetime) -> datetime:
    """Pickups run at 14:00 IST; after that, or on a Sunday, the next working day."""
    slot = as_ist(now).replace(hour=14, minute=0, second=0, microsecond=0)
    if as_ist(now) >= slot:
        slot += timedelta(days=1)
    while slot.weekday() == 6:
        slot += timedelta(days=1)
    return slot


def assign_awb(sim: ShiprocketSim, body: dict[str, Any]) -> Reply:
    if body.get("shipment_id") in (None, ""):
        return missing_fields({"shipment_id": ["The shipment id field is required."]})
    with sim.lock:
        shipment = sim.shipments.get(int_or_none(body["shipment_id"]) or -1)
        if shipment is None:
            return error_reply(400, "Given shipment id does not exist")
        order = sim.orders[shipment["order_id"]]
        if order["status_code"] in (5, 27):
            # What Jaal-Yantra-Textiles/v2#1225 saw against a cancelled order: a misleading 400.
            return error_reply(400, "Delivery pincode is empty, Customer phone is empty")
        now = as_ist(sim.clock())
        reassign = body.get("status") == "reassign" and shipment["awb"] is not None
        if shipment["awb"] is not None and not reassign:
            return error_reply(400, "AWB is already assigned")
        last = shipment["reassigned_at"]
        recently = last is not None and now - last < timedelta(hours=24)
        if reassign and (recently or shipment["status_id"] in POST_PICKUP or shipment["pickup_generated_at"]):
            return error_reply(400, "Oops! Cannot reassign courier for this shipment.")
        if sim.awb_failures:
            mode, message = sim.awb_failures.popleft()
            if mode == "error_in_200":
                return 200, {"awb_assign_status": 0, "response": {"data": {"awb_assign_error": message}}}
            return error_reply(400 if mode == "http_400" else 500, message)
        entries = quote_shipment(sim, shipment)
        if reassign:
            entries = [e for e in entries if e["courier_company_id"] != shipment["courier_company_id"]]
        courier_id = int_or_none(body.get("courier_id") or "")
        if courier_id:
            chosen = next((e for e in entries if e["courier_company_id"] == courier_id), None)
            reason = "Selected courier is not serviceable for this shipment."
        else:
            chosen, reason = recommended(entries), "No courier serviceable for this shipment."
        if chosen is None:
            return 200, {"awb_assign_status": 0, "response": {"data": {"awb_assign_error": reason}}}
        return 200, _assign(sim, order, shipment, chosen, now, reassign)


def _assign(sim: ShiprocketSim, order: dict[str, Any], shipment: dict[str, Any], chosen: dict[str, Any],
            now: datetime, reassign: bool) -> dict[str, Any]:
    if shipment["awb"]:
        sim.awb_index.pop(shipment["awb"], None)
    awb = sim.next_awb()
    sim.awb_index[awb] = shipment["shipment_id"]
    applied = charge_weight(shipment["weight"], shipment["dims"], Decimal(str(chosen["min_weight"])))
    shipment.update(
        awb=awb, courier_company_id=chosen["courier_company_id"], courier_name=chosen["courier_name"],
        awb_assigned_at=now, reassigned_at=now if reassign else None,
        pickup_scheduled_at=_next_pickup_slot(now),
        etd=now + timedelta(days=int(chosen["estimated_delivery_days"])), applied_weight=applied,
        zone=chosen["zone"], freight_charges=Decimal(str(chosen["freight_charge"])),
        cod_charges=Decimal(str(chosen["cod_charges"])), status_id=1, status_label=SHIPMENT_STATUS[1])
    status_code = order_status_for(1, is_return=bool(order["is_return"]))
    order.update(awb_code=awb, courier_company_id=chosen["courier_company_id"],
                 courier_name=chosen["courier_name"], status_code=status_code,
                 status=ORDER_STATUS[status_code], updated_at=now)
    return {"awb_assign_status": 1, "response": {"data": {
        "courier_company_id": chosen["courier_company_id"], "awb_code": awb, "cod": int(shipment["cod"]),
        "order_id": order["order_id"], "shipment_id": shipment["shipment_id"], "awb_code_status": 1,
        "assigned_date_time": php_datetime(now), "applied_weight": float(applied),
        "company_id": sim.company_id, "courier_name": chosen["courier_name"], "child_courier_name": None,
        "pickup_scheduled_date": ymd_hms(shipment["pickup_scheduled_at"]), "routing_code": "",
        "rto_routing_code": "", "invoice_no": f"retail{order['order_id']}", "transporter_id": "",
        "transporter_name": "", "shipped_by": _shipped_by(sim),
    }}}


def _shipped_by(sim: ShiprocketSim) -> dict[str, Any]:
    """The pickup address doubles as the RTO address, as on a single-warehouse account."""
    city, state = place(sim.pickup_pincode)
    address = {"company_name": sim.company_name, "address_1": "Unit 4, Sim Industrial Estate",
               "address_2": "", "city": city, "state": state, "country": "India",
               "postcode": sim.pickup_pincode, "phone": "9999999999", "email": sim.email}
    return {**{f"shipper_{k}": v for k, v in address.items()}, "shipper_first_mile_activated": 0, "lat": "",
            "long": "", **{f"rto_{k}": v for k, v in address.items()}}


def generate_pickup(sim: ShiprocketSim, body: dict[str, Any]) -> Reply:
    ids = body.get("shipment_id")
    if ids in (None, "", []):
        return missing_fields({"shipment_id": ["The shipment id field is required."]})
    first = ids[0] if isinstance(ids, list) else ids  # "Only one shipment_id can be passed at a time"
    with sim.lock:
        shipment = sim.shipments.get(int_or_none(first) or -1)
        if shipment is None or sim.orders[shipment["order_id"]]["status_code"] in (5, 27):
            return error_reply(400, "Invalid shipment id")
        if shipment["awb"] is None:
            # UNCERTAIN: no published text for a pickup requested before the AWB.
            return error_reply(400, "Please assign AWB before generating pickup for this shipment.")
        if shipment["pickup_generated_at"] is not None:
            return 400, {"message": "Already in Pickup Queue."}
        now = as_ist(sim.clock())
        order = sim.orders[shipment["order_id"]]
        token = f"Reference No: 194_BIGFOOT {shipment['shipment_id']}_{now:%d%m%Y}"
        shipment.update(pickup_generated_at=now, pickup_token_number=token)
        if shipment["status_id"] in (1, 2):
            shipment.update(status_id=3, status_label=SHIPMENT_STATUS[3])
            status_code = order_status_for(3, is_return=bool(order["is_return"]))
            order.update(status_code=status_code, status=ORDER_STATUS[status_code], updated_at=now)
    return 200, {"pickup_status": 1, "response": {
        "pickup_scheduled_date": ymd_hms(shipment["pickup_scheduled_at"]), "pickup_token_number": token,
        "status": 3, "others": '{"tier_id":0,"is_pickup_rescheduled":false}',
        "pickup_generated_date": php_datetime(now),
        "data": f"Pickup is confirmed by {shipment['courier_name']} For AWB :- {shipment['awb']}"}}


def request_pickup_in_panel(sim: ShiprocketSim, awb: str) -> dict[str, Any]:
    """Play the seller requesting the pickup in Shiprocket's panel (the same rules as the API's)."""
    with sim.lock:
        _, shipment = sim._tracked(awb)
        status, body = generate_pickup(sim, {"shipment_id": [shipment["shipment_id"]]})
    if status != 200:
        raise ValueError(f"AWB {awb}: pickup refused ({body})")
    return dict(body or {})
