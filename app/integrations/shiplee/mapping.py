"""Pure translation between our ShipOrder and Shiplee's JSON (seed: /work/shared/reference/seeds/
shiplee-api.txt, "§n" below). No I/O, so every payload rule and status word is testable offline."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from app.integrations.aggregator import CourierOption, CreatedOrder, Serviceability, ShipOrder
from app.integrations.shiplee.models import (
    ShipleeAgreement,
    ShipleeBooking,
    ShipleeCancellation,
    ShipleeOrderRow,
    ShipleeQuote,
    ShipleeRemittance,
    ShipleeRemittances,
    ShipleeShipmentStatus,
    ShipleeWarehouse,
    ShipleeWeightDispute,
)
from app.integrations.shipping import (
    RemittanceBatch,
    RemittanceItem,
    TrackingStatus,
    TrackingUpdate,
    WeightDispute,
)
from app.money import ZERO, lenient_amount, strict_amount
from app.money import to_json_number as money
from app.parsing import Malformed
from app.timeutil import IST  # Shiplee's timestamps carry no zone; it is an Indian service

S = TrackingStatus
DEFAULT_TOKEN_SECONDS = 10800  # §1: expires_in 10800 (3 hours), used if a login reply omits it
ADDRESS1_MAX, ADDRESS2_MAX = 100, 110  # §29
VOLUMETRIC_DIVISOR = 5000  # §28: volumetric kg = L × B × H (cm) / 5000

# Shiplee's order status (customer_info.status) -> ours. The seed names only new, pending (bulk queue),
# booked, manifested and cancelled; the words after manifested are not documented (UNCERTAIN, see
# docs/shiplee.md) and are matched by their common spellings. Anything else maps to `unknown`: stored
# with its raw word, never acted on.
STATUSES: dict[str, TrackingStatus] = {
    "new": S.unknown, "pending": S.unknown, "processing": S.unknown,  # no AWB yet
    "booked": S.awb_assigned,
    "manifested": S.pickup_scheduled,
    "cancelled": S.cancelled, "canceled": S.cancelled,
    "picked_up": S.picked_up, "pickedup": S.picked_up,
    "shipped": S.in_transit, "in_transit": S.in_transit, "intransit": S.in_transit, "dispatched": S.in_transit,
    "out_for_delivery": S.out_for_delivery, "ofd": S.out_for_delivery,
    "undelivered": S.undelivered, "ndr": S.undelivered,
    "delivered": S.delivered,
    "rto": S.rto_initiated, "rto_initiated": S.rto_initiated,
    "rto_in_transit": S.rto_in_transit, "rto_intransit": S.rto_in_transit,
    "rto_delivered": S.rto_delivered, "returned": S.rto_delivered,
    "lost": S.lost, "damaged": S.lost,
}


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _rows(value: Any) -> list[dict[str, Any]]:
    """A listing's rows: the objects of a list, whatever else the field holds."""
    return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []


def status_key(raw: str) -> str:
    return "_".join(raw.strip().lower().replace("-", " ").replace("_", " ").split())


def to_status(raw: Any) -> TrackingStatus:
    return STATUSES.get(status_key(str(raw or "")), S.unknown)


def stamp(value: Any) -> datetime | None:
    """"2026-03-15 10:00:00" (IST, no zone in the seed) -> an aware datetime."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=IST)


def day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def token_expiry(body: dict[str, Any], now: datetime | None = None) -> datetime:
    seconds = body.get("expires_in")
    try:
        lifetime = int(seconds) if seconds not in (None, "") else DEFAULT_TOKEN_SECONDS
    except (TypeError, ValueError):
        lifetime = DEFAULT_TOKEN_SECONDS
    return (now or datetime.now(UTC)) + timedelta(seconds=lifetime)


def weight_grams(order: ShipOrder) -> int:
    """Rates want grams (§4). Shiplee books on the charge weight, max(physical, L×B×H/5000) (§28, §29),
    so quoting the physical weight alone would quote a lighter slab than the wallet is then debited for.
    Rounded up so a courier never weighs more than we quoted for."""
    p = order.parcel
    volumetric = p.length_cm * p.breadth_cm * p.height_cm / VOLUMETRIC_DIVISOR
    return max(1, math.ceil(max(p.weight_kg, volumetric) * 1000))


def rates_payload(order: ShipOrder, source_pincode: str) -> dict[str, Any]:
    return {"order_info": {"source_pincode": source_pincode, "destination_pincode": order.address.pincode,
                           "order_weight": weight_grams(order), "order_value": money(order.total),
                           "payment_type": "cod" if order.cod else "prepaid"}}


def parse_quotes(body: Any) -> tuple[ShipleeQuote, ...]:
    data = body.get("data") if isinstance(body, dict) else None
    rows = data.get("carrier_info") if isinstance(data, dict) else None
    quotes = []
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict) or not row.get("carrier_id"):
            continue
        freight, cod = lenient_amount(row.get("freight_charges")), lenient_amount(row.get("cod_charges"))
        ratecard = str(row.get("ratecard_id") or "")
        quotes.append(ShipleeQuote(
            carrier_id=str(row["carrier_id"]), carrier_name=str(row.get("carrier_name") or row["carrier_id"]),
            ratecard_id=int(ratecard) if ratecard.isdigit() else None,
            courier_id=str(row.get("courier_id") or ""), zone=str(row.get("zone") or ""), freight=freight,
            cod_charges=cod, cost=lenient_amount(row.get("cost"), freight + cod)))
    return tuple(sorted(quotes, key=lambda q: q.cost))


def serviceability(quotes: tuple[ShipleeQuote, ...]) -> Serviceability:
    """The Aggregator view of a quote: Shiplee's booking key, the string carrier_id, is the option's id.
    Shiplee quotes no delivery estimate (etd_days None)."""
    options = tuple(CourierOption(courier_id=q.carrier_id, name=q.carrier_name, rate=q.cost, etd_days=None,
                                  aggregator="shiplee")
                    for q in quotes)
    return Serviceability(options=options, recommended_id=options[0].courier_id if options else None)


def _split_address(line1: str, line2: str) -> tuple[str, str]:
    """address1 holds at most 100 characters (§29): the overflow moves to the front of address2."""
    line1, line2 = " ".join(line1.split()), " ".join(line2.split())
    if len(line1) <= ADDRESS1_MAX:
        return line1, line2[:ADDRESS2_MAX]
    cut = line1.rfind(" ", 0, ADDRESS1_MAX + 1)
    cut = cut if cut > 0 else ADDRESS1_MAX
    rest = line1[cut:].strip()
    return line1[:cut].strip(), f"{rest}, {line2}".strip(", ")[:ADDRESS2_MAX]


def mobile(phone: str) -> str:
    """§29 wants 10 digits starting 6-9: drop +91, 0 and punctuation."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return digits[-10:]


def products(order: ShipOrder) -> list[dict[str, Any]]:
    """Lines at the customer's unit price with their GST rate and HSN. §29 has no shipping or discount
    field and its total_price is the sum of products, which is what a COD courier collects; so shipping
    becomes its own line, and an order whose total is not items + shipping (an order-level discount or
    adjustment) goes as one line at the order total, so the collected amount is exactly right."""
    items = [{"product_name": line.name, "quantity": int(line.quantity), "product_price": money(line.rate),
              "sku": line.sku or line.item_id, "gst_percentage": money(line.tax_percent),
              **({"hsn_code": line.hsn} if line.hsn else {})} for line in order.lines]
    item_total = sum((line.rate * int(line.quantity) for line in order.lines), Decimal(0))
    if order.shipping_charges:
        items.append({"product_name": "Shipping charges", "quantity": 1,
                      "product_price": money(order.shipping_charges), "sku": "SHIPPING"})
    if item_total + order.shipping_charges != order.total:
        names = ", ".join(line.name for line in order.lines)[:200]
        return [{"product_name": names or f"Order {order.salesorder_number}", "quantity": 1,
                 "product_price": money(order.total), "sku": f"ORDER-{order.salesorder_number}"}]
    return items


def create_order_payload(order: ShipOrder, channel_order_id: str) -> dict[str, Any]:
    a = order.address
    line1, line2 = _split_address(a.line1, a.line2)
    p = order.parcel
    payload: dict[str, Any] = {
        "pincode": a.pincode, "city": a.city, "state": a.state, "name": a.name, "mobile": mobile(a.phone),
        "address1": line1, "order_id": channel_order_id, "pickup_type": "fwd",
        "payment_type": "cod" if order.cod else "prd", "same_billing_address": True,
        "products": products(order),
        "parcels": [{"length": money(p.length_cm), "breadth": money(p.breadth_cm), "height": money(p.height_cm),
                     "physical_weight": float(p.weight_kg)}],
    }
    if line2:
        payload["address2"] = line2
    if a.email:
        payload["email"] = a.email
    return payload


def parse_created_order(body: Any) -> CreatedOrder | None:
    """§29: `order_id` (an integer, customer_info.id) is Shiplee's id; there is no separate shipment,
    so the same id stands for both."""
    if not isinstance(body, dict) or body.get("success") is not True or not body.get("order_id"):
        return None
    data = _obj(body.get("data"))
    oid = str(body["order_id"])
    return CreatedOrder(order_id=oid, shipment_id=oid, status=str(data.get("status") or "new"))


def parse_booking(order_id: str, status: int, body: Any) -> ShipleeBooking | None:
    if not isinstance(body, dict):
        return None
    if status == 409 and body.get("error_code") == "ALREADY_BOOKED" and body.get("awb_number"):
        return ShipleeBooking(order_id=order_id, awb=str(body["awb_number"]), already_booked=True)
    if status != 200 or body.get("status") != "success" or not body.get("awb_number"):
        return None
    charges = _obj(body.get("charges"))
    return ShipleeBooking(order_id=order_id, awb=str(body["awb_number"]), carrier_name=str(body.get("carrier") or ""),
                          zone=str(body.get("zone") or ""), freight=lenient_amount(charges.get("freight_charges")),
                          cod_charges=lenient_amount(charges.get("cod_charges")),
                          cost=lenient_amount(charges.get("cost")))


def parse_cancel_orders(body: dict[str, Any]) -> ShipleeCancellation:
    skipped = _obj(body.get("skipped"))
    refused = _obj(skipped.get("non_cancellable"))
    return ShipleeCancellation(cancelled=tuple(str(i) for i in body.get("cancelled") or []),
                               not_found=tuple(str(i) for i in skipped.get("not_found") or []),
                               refused=tuple((str(k), str(v)) for k, v in refused.items()))


def warehouses(body: Any) -> tuple[ShipleeWarehouse, ...]:
    rows = body.get("data") if isinstance(body, dict) else None
    return tuple(ShipleeWarehouse(
        warehouse_id=str(w.get("id")), nickname=str(w.get("nickname") or ""), address1=str(w.get("address1") or ""),
        address2=str(w.get("address2") or ""), city=str(w.get("city") or ""), state=str(w.get("state") or ""),
        pincode=str(w.get("pincode") or ""), mobile=str(w.get("mobile_number") or ""),
        primary=w.get("address_type") == "primary") for w in _rows(rows) if w.get("id"))


def order_rows(body: Any) -> tuple[ShipleeOrderRow, ...]:
    rows = body.get("data") if isinstance(body, dict) else None
    return tuple(ShipleeOrderRow(
        order_id=str(r.get("id")), channel_order_id=str(r.get("customer_order_id") or ""),
        status=str(r.get("status") or ""), total=lenient_amount(r.get("total_price")),
        payment_type=str(r.get("ptype") or ""),
        order_date=stamp(r.get("order_date"))) for r in _rows(rows) if r.get("id"))


def shipment_statuses(body: Any) -> tuple[ShipleeShipmentStatus, ...]:
    rows = body.get("orders") if isinstance(body, dict) else None
    return tuple(ShipleeShipmentStatus(
        order_id=str(r.get("customer_info_id")), awb=str(r.get("awb_number") or ""),
        raw_status=str(r.get("status") or ""), status=to_status(r.get("status")),
        order_date=stamp(r.get("order_date"))) for r in _rows(rows))


def _ids(value: Any) -> tuple[str, ...]:
    return tuple(part.strip() for part in str(value or "").split(",") if part.strip())


def remittances(body: Any) -> ShipleeRemittances:
    data = _obj(_obj(body).get("data"))
    summary = _obj(data.get("summary"))
    return ShipleeRemittances(remitted_till_date=lenient_amount(summary.get("remitted_till_date")),
                              total_pending=lenient_amount(summary.get("total_pending")),
                              open_disputes=int(lenient_amount(data.get("open_disputes"))),
                              rows=tuple(_remittance_row(r) for r in _rows(data.get("remittances"))))


def _remittance_row(r: dict[str, Any]) -> ShipleeRemittance:
    """A row's money becomes a Books payment, so it is read strictly (app.money.strict_amount): an
    unreadable amount marks the row unreadable instead of paying ₹0."""
    ids = _ids(r.get("remittance_ids"))
    what = f"Shiplee remittance {','.join(ids) or '?'}"
    try:
        amounts = {"cod_amount": strict_amount(r.get("total_cod_amount"), f"{what} total_cod_amount"),
                   "net_remittance": strict_amount(r.get("total_net_remittance"), f"{what} total_net_remittance"),
                   "base_charge": strict_amount(r.get("total_base_charge"), f"{what} total_base_charge",
                                                default=ZERO),
                   "gst": strict_amount(r.get("total_gst_component"), f"{what} total_gst_component", default=ZERO)}
        unreadable = None
    except Malformed as exc:
        amounts = dict.fromkeys(("cod_amount", "net_remittance", "base_charge", "gst"), ZERO)
        unreadable = str(exc)
    return ShipleeRemittance(
        remittance_ids=ids, awbs=_ids(r.get("awbs")), **amounts, status=str(r.get("remittance_status") or ""),
        remittance_date=day(r.get("remittance_date")), utr=str(r["utr_number"]) if r.get("utr_number") else None,
        wallet_convertible=bool(r.get("wallet_convertible")), unreadable=unreadable)


def weight_disputes(body: Any) -> tuple[ShipleeWeightDispute, ...]:
    rows = body.get("disputes") if isinstance(body, dict) else None
    return tuple(ShipleeWeightDispute(
        dispute_id=str(r.get("id")), order_id=str(r.get("order_id") or ""), awb=str(r.get("awb_number") or ""),
        carrier=str(r.get("carrier") or ""), booked_grams=int(lenient_amount(r.get("chargeable_booked_weight"))),
        applied_grams=int(lenient_amount(r.get("chargeable_applied_weight"))),
        charges=lenient_amount(r.get("upcoming_charges")),
        status=str(r.get("status") or ""), auto_accepted=bool(r.get("auto_accepted")),
        created_at=stamp(r.get("created_at"))) for r in _rows(rows))


def agreement(body: Any) -> ShipleeAgreement:
    if not isinstance(body, dict) or not body.get("agreement_required"):
        return ShipleeAgreement(required=False)
    data = _obj(body.get("data"))
    return ShipleeAgreement(required=True, agreement_id=str(data["id"]) if data.get("id") is not None else None,
                            title=str(data.get("title") or ""))


# --- the neutral models (app.integrations.shipping) ------------------------------------------------------

# Remittance rows whose money has left Shiplee. The seed shows only `pending` (utr_number null); the
# words for a paid row are not documented (UNCERTAIN, docs/fidelity.md), so a UTR alone also counts.
PAID_WORDS = frozenset({"completed", "complete", "remitted", "paid", "success", "settled"})


def tracking_update(row: ShipleeShipmentStatus, polled_at: datetime) -> TrackingUpdate:
    """A search_orders row as a tracking report. Shiplee gives a status word and no event time, so the
    event is dated when we saw it, and the word alone keys it (stamp empty): polling the same status
    again is the same event, stored once. A word we have no mapping for is kept raw as `unknown`."""
    word = row.raw_status.strip()[:100]
    return TrackingUpdate(
        awb=row.awb, status=row.status, scheme="shiplee:status", shipment_status_id=None, shipment_status=word,
        current_status_id=None, current_status="", event_at=polled_at.astimezone(UTC), stamp="",
        aggregator_order_id=row.order_id, aggregator="shiplee")


def remittance_batch(row: ShipleeRemittance) -> RemittanceBatch | None:
    """One grouped §17a row as a batch, or None when it cannot be one (no ids, no date). Shiplee names the
    AWBs of a group but gives amounts only for the group: a one-AWB group is fully itemised; in a larger
    one each item's amount is left for the domain to take from what it expected (and reconcile)."""
    if not row.remittance_ids or not row.awbs or row.remittance_date is None:
        return None
    deductions = row.base_charge + row.gst
    single = len(row.awbs) == 1
    items = tuple(RemittanceItem(awb=awb, cod_amount=row.cod_amount if single else None,
                                 deductions=deductions if single else None) for awb in row.awbs)
    # Each id belongs to one AWB's remittance, so the group's first id names the group for good.
    return RemittanceBatch(
        batch_id=f"SL-{row.remittance_ids[0]}", utr=row.utr, remittance_date=row.remittance_date,
        gross=row.cod_amount, deductions=deductions, remitted=row.net_remittance,
        paid=bool(row.utr) or status_key(row.status) in PAID_WORDS, itemised=True, items=items)


def weight_dispute(row: ShipleeWeightDispute) -> WeightDispute:
    return WeightDispute(dispute_id=row.dispute_id, awb=row.awb, order_id=row.order_id, courier=row.carrier,
                         booked_grams=row.booked_grams, applied_grams=row.applied_grams, charges=row.charges,
                         status=row.status, closed=row.auto_accepted or row.status.upper() != "DISPUTE",
                         raised_at=row.created_at)
