"""Shiplee's order endpoints as the seed describes them: create (§29), rates (§4), book (§12), cancel
(§14, §15), get/search (§26, §27), manifest (§25). Each handler takes the parsed body and returns
(HTTP status, JSON body); the caller holds the simulator's lock.

Error bodies: the seed shows only the agreement gate's envelope ({"status":"error","error_code",
"message"}); other refusals use the same envelope with the error codes the seed names (ALREADY_BOOKED,
INSUFFICIENT_BALANCE, NOT_SERVICEABLE), and endpoints whose success says `"success": true` refuse with
`"success": false`. The exact wording of those messages is not in the seed."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sandbox.shiplee import MIN_WALLET, Ratecard, quote, zone_for

if TYPE_CHECKING:
    from sandbox.shiplee import ShipleeSim

Reply = tuple[int, Any]
PINCODE = re.compile(r"^[1-9][0-9]{5}$")
MOBILE = re.compile(r"^[6-9][0-9]{9}$")


def error(status: int, message: str, code: str | None = None, **extra: Any) -> Reply:
    body: dict[str, Any] = {"status": "error", "message": message, **extra}
    if code:
        body["error_code"] = code
    return status, body


def _num(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _money(value: Decimal) -> float:
    return float(value)


def _int_list(value: Any) -> list[int] | None:
    if not isinstance(value, list) or not value:
        return None
    try:
        return [int(v) for v in value]
    except (TypeError, ValueError):
        return None


def rates(sim: ShipleeSim, body: dict[str, Any]) -> Reply:
    info = body.get("order_info")
    if not isinstance(info, dict):
        return error(422, "order_info is required.")
    source, dest = str(info.get("source_pincode") or ""), str(info.get("destination_pincode") or "")
    weight, value = _num(info.get("order_weight")), _num(info.get("order_value"))
    ptype = str(info.get("payment_type") or "").lower()
    if not PINCODE.match(source) or not PINCODE.match(dest) or weight is None or weight <= 0 or value is None \
            or ptype not in ("cod", "prepaid"):
        return error(422, "Validation failed: source_pincode, destination_pincode, order_weight, order_value "
                          "and payment_type (cod|prepaid) are required.")
    sim.rate_origins.append(source)
    if dest in sim.unserviceable_pincodes or not sim.ratecards:
        return error(404, "No ratecards/couriers available for this lane.")
    zone = zone_for(source, dest)
    carriers: list[dict[str, Any]] = []
    for card in sim.ratecards:
        charges = quote(card, int(weight), value, ptype == "cod")
        carriers.append({
            "carrier_id": card.carrier_id, "carrier_name": card.carrier_name, "ratecard_id": card.ratecard_id,
            "courier_id": card.courier_id, "zone": zone, "rate_type": "slab",
            "cost": _money(charges["cost"]), "freight_charges": _money(charges["freight_charges"]),
            "cod_charges": _money(charges["cod_charges"]),
            "slab": {"slab_id": card.slab_id, "weight_slab_grams": card.slab_grams, "pricing_type": "slab",
                     "freight_amount": _money(card.freight_per_slab), "cod_charge": _money(card.cod_charge),
                     "cod_percent": _money(card.cod_percent), "cod_threshold": _money(card.cod_threshold),
                     "cod_apply_after_threshold": False, "includes_cod": False, "includes_rto": False}})
    carriers.sort(key=lambda c: float(c["cost"]))
    return 200, {"status": 1, "code": 200, "message": "success", "data": {
        "carrier_info": carriers,
        "order_summary": {"source_pincode": source, "destination_pincode": dest, "order_weight": info["order_weight"],
                          "order_value": info["order_value"], "payment_type": ptype}}}


def _create_refusal(body: dict[str, Any]) -> str | None:
    for name in ("pincode", "city", "state", "name", "mobile", "address1", "order_id"):
        if not str(body.get(name) or "").strip():
            return f"{name} is required."
    if not PINCODE.match(str(body["pincode"])):
        return "Invalid pincode: must be 6 digits."
    if not MOBILE.match(str(body["mobile"])):
        return "Invalid mobile: must be 10 digits starting with 6-9."
    if len(str(body["address1"])) > 100 or len(str(body.get("address2") or "")) > 110:
        return "address1 must be at most 100 characters, address2 at most 110."
    if body.get("pickup_type", "fwd") not in ("fwd", "rvrs"):
        return "Invalid pickup_type."
    if body.get("payment_type", "cod") not in ("cod", "prd"):
        return "Invalid payment_type."
    products, parcels = body.get("products"), body.get("parcels")
    if not isinstance(products, list) or not products:
        return "At least one product is required."
    if not isinstance(parcels, list) or not parcels:
        return "At least one parcel is required."
    for p in products:
        if not isinstance(p, dict) or not p.get("product_name") or not isinstance(p.get("quantity"), int) \
                or isinstance(p.get("quantity"), bool) or p["quantity"] < 1 or _num(p.get("product_price")) is None:
            return "Each product needs product_name, an integer quantity and product_price."
    for p in parcels:
        if not isinstance(p, dict) or any((_num(p.get(k)) or 0) <= 0
                                          for k in ("length", "breadth", "height", "physical_weight")):
            return "Each parcel needs length, breadth, height (cm) and physical_weight (kg)."
    return None


def create_order(sim: ShipleeSim, body: dict[str, Any]) -> Reply:
    """Seed §29. The seed documents no duplicate guard on the seller's `order_id` here (the guard is at
    booking, §12 step 2), so a repeated order_id makes a second order, as the seed implies."""
    refusal = _create_refusal(body)
    if refusal:
        return 422, {"success": False, "message": refusal}
    total = sum((Decimal(str(p["product_price"])) * p["quantity"] for p in body["products"]), Decimal(0))
    charge_grams = 0
    for p in body["parcels"]:
        volumetric = Decimal(str(p["length"])) * Decimal(str(p["breadth"])) * Decimal(str(p["height"])) / 5000
        charge_grams += int(max(Decimal(str(p["physical_weight"])), volumetric) * 1000)
    oid = sim.next_order_id()
    sim.orders[oid] = {**body, "id": oid, "status": "new", "type": "quick", "total_price": total,
                       "payment_type": body.get("payment_type", "cod"), "charge_weight_grams": charge_grams,
                       "order_date": sim.clock(), "awb_number": None}
    return 200, {"success": True, "message": "Order created successfully.", "order_id": oid,
                 "data": {"id": oid, "order_id": body["order_id"], "total_price": _money(total), "status": "new",
                          "type": "quick"}}


def _card(sim: ShipleeSim, carrier_id: str, carrier_name: str) -> Ratecard | None:
    for card in sim.ratecards:
        if card.carrier_id == carrier_id:
            return card
    return next((c for c in sim.ratecards if carrier_name and c.carrier_name == carrier_name), None)


def book_shipment(sim: ShipleeSim, body: dict[str, Any]) -> Reply:
    """Seed §12, refusals in the pipeline's order."""
    carrier_id = str(body.get("carrier_id") or "")
    try:
        oid, wid = int(body["order_id"]), int(body["warehouse_id"])
    except (KeyError, TypeError, ValueError):
        return error(422, "carrier_id, order_id and warehouse_id are required.")
    if not carrier_id:
        return error(422, "carrier_id, order_id and warehouse_id are required.")
    order = sim.orders.get(oid)
    if order is not None and order.get("awb_number"):
        return error(409, "Order already has an AWB.", "ALREADY_BOOKED", awb_number=order["awb_number"])
    if order is None or order["status"] not in ("new", "pending"):
        return error(404, "Order not found or does not belong to this seller.")
    warehouse = next((w for w in sim.warehouses if w["id"] == wid), None)
    if warehouse is None:
        return error(404, "Warehouse not found or does not belong to this seller.")
    if sim.wallet < MIN_WALLET:
        return error(402, "Insufficient wallet balance. Minimum ₹500 required to book.", "INSUFFICIENT_BALANCE")
    card = _card(sim, carrier_id, str(body.get("carrier_name") or ""))
    if card is None:
        return error(422, "Ratecard not found in your plan for this carrier.")
    cod = order["payment_type"] == "cod"
    if order["pincode"] in sim.unserviceable_pincodes:
        return error(422, f"Destination pincode not serviceable for {'COD' if cod else 'prepaid'}.",
                     "NOT_SERVICEABLE")
    if sim.courier_failures > 0:
        sim.courier_failures -= 1
        return error(500, "Courier API failed to generate AWB.")
    zone = zone_for(warehouse["pincode"], order["pincode"])
    charges = quote(card, order["charge_weight_grams"], order["total_price"], cod)
    awb = sim.next_awb()
    sim.wallet -= charges["cost"]
    order.update(status="booked", awb_number=awb, carrier=card.carrier_name, zone=zone, charges=charges,
                 warehouse_id=wid, booked_at=sim.clock())
    return 200, {"status": "success", "message": "Shipment booked successfully.", "awb_number": awb,
                 "carrier": card.carrier_name, "zone": zone,
                 "charges": {k: _money(v) for k, v in charges.items()}}


def cancel_orders(sim: ShipleeSim, body: dict[str, Any]) -> Reply:
    """Seed §14: only `new` orders; the rest are reported, and none cancellable is a 422."""
    ids = _int_list(body.get("order_ids"))
    if ids is None:
        return error(422, "order_ids is required.")
    cancelled, not_found, refused = [], [], {}
    for oid in ids:
        order = sim.orders.get(oid)
        if order is None:
            not_found.append(oid)
        elif order["status"] != "new":
            refused[str(oid)] = order["status"]
        else:
            cancelled.append(oid)
    if not cancelled:
        return error(422, "No cancellable orders found.",
                     skipped={"not_found": not_found, "non_cancellable": refused})
    for oid in cancelled:
        sim.orders[oid]["status"] = "cancelled"
    return 200, {"status": "success", "message": f"{len(cancelled)} order(s) cancelled successfully.",
                 "cancelled": cancelled, "skipped": {"not_found": not_found, "non_cancellable": refused}}


def cancel_shipments(sim: ShipleeSim, body: dict[str, Any]) -> Reply:
    """Seed §15: booked or manifested shipments only; refund to the wallet; `cancel` → new, `delete`
    (default) → cancelled. The seed lists no per-order report, so orders in other states are ignored
    unless none qualifies (422)."""
    ids = _int_list(body.get("order_ids"))
    action = body.get("action") or "delete"
    if ids is None or action not in ("cancel", "delete"):
        return error(422, "order_ids is required; action is cancel or delete.")
    targets = [sim.orders[i] for i in ids if i in sim.orders and sim.orders[i]["status"] in ("booked", "manifested")]
    if not targets:
        return error(422, "No orders found in booked or manifested status for this seller.")
    new_status = "new" if action == "cancel" else "cancelled"
    for order in targets:
        sim.wallet += order["charges"]["cost"]
        order.update(status=new_status, awb_number=None, carrier=None, charges=None)
    message = ("Shipment(s) cancelled and reset to new. You can rebook these orders." if action == "cancel"
               else "Shipment(s) cancelled.")
    return 200, {"status": "success", "message": message, "cancelled_count": len(targets),
                 "new_status": new_status, "wallet_balance": _money(sim.wallet)}


def parse_day(value: Any, default: date) -> date | None:
    if value in (None, ""):
        return default
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def get_orders(sim: ShipleeSim, body: dict[str, Any]) -> Reply:
    """Seed §26: `new` orders only, order_date within start_date..end_date (defaults: 90 days ago..tomorrow)."""
    today = sim.clock().date()
    start = parse_day(body.get("start_date"), today - timedelta(days=90))
    end = parse_day(body.get("end_date"), today + timedelta(days=1))
    if start is None or end is None:
        return 422, {"success": False, "message": "Dates must be YYYY-MM-DD."}
    product = str(body.get("product_name") or "").lower()
    rows = []
    for o in sim.orders.values():
        names = ", ".join(p["product_name"] for p in o["products"])
        if o["status"] != "new" or not start <= o["order_date"].date() <= end or product not in names.lower():
            continue
        parcel = o["parcels"][0]
        rows.append({"id": o["id"], "customer_order_id": o["order_id"], "name": o["name"], "mobile1": o["mobile"],
                     "pincode": o["pincode"], "ptype": o["payment_type"], "total_price": _money(o["total_price"]),
                     "status": o["status"], "order_date": _stamp(o["order_date"]), "whatsapp_status": "pending",
                     "wa_confirm_status": "", "type": o["type"], "product_names": names,
                     "chargeweightgram": o["charge_weight_grams"], "length": parcel["length"],
                     "breadth": parcel["breadth"], "height": parcel["height"], "rto_score": 42,
                     "rto_score_reasons": "New address, first order"})
    return 200, {"success": True, "count": len(rows), "data": rows}


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def search_orders(sim: ShipleeSim, body: dict[str, Any]) -> Reply:
    """Seed §27: booked orders by AWB, name or mobile; under 3 characters is `{"orders": []}`, not an
    error; at most 20. The seed says "booked/manifested"; whether delivered or RTO parcels still match is
    UNCERTAIN, and the simulator keeps every order that ever had an AWB findable."""
    term = str(body.get("search") or "").strip().lower()
    if len(term) < 3:
        return 200, {"orders": []}
    rows = []
    for o in sim.orders.values():
        if not o.get("awb_number"):
            continue
        if term in o["awb_number"] or term in str(o["name"]).lower() or term in str(o["mobile"]):
            rows.append({"customer_info_id": o["id"], "awb_number": o["awb_number"], "customer_name": o["name"],
                         "customer_mobile": o["mobile"], "status": o["status"],
                         "order_date": _stamp(o["order_date"])})
    return 200, {"orders": rows[:20]}


def manifest(sim: ShipleeSim, order_ids: str, warehouse_id: str | None) -> tuple[int, Any, str]:
    """Seed §25: a PDF for manifested orders (max 500), JSON on error. Returns (status, body, media type)."""
    try:
        ids = [int(i) for i in order_ids.split(",") if i.strip()]
    except ValueError:
        ids = []
    if not ids or len(ids) > 500:
        return (*error(422, "order_ids missing, empty, or more than 500 IDs."), "application/json")
    found = [sim.orders[i] for i in ids if i in sim.orders and sim.orders[i]["status"] == "manifested"]
    if not found:
        return (*error(404, "No manifested orders found for the given IDs."), "application/json")
    sim.manifests_served += 1
    couriers = sorted({o["carrier"] for o in found})
    pdf = "%PDF-1.4\n% Shiplee manifest\n" + "\n".join(
        f"% {c}: " + ", ".join(o["awb_number"] for o in found if o["carrier"] == c) for c in couriers) + "\n%%EOF\n"
    return 200, pdf.encode(), "application/pdf"
