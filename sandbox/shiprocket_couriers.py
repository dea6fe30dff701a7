"""The simulator's courier catalogue and rate card, behind `GET /courier/serviceability/`.

Rates are deterministic (weight slab x zone, plus a COD fee) so tests can assert the cheapest or
recommended courier; the response entries carry the real field names and types (etd "Jul 01, 2024",
estimated_delivery_days as a string, max weights as strings) because clients trip on exactly those.
Tests may edit `ShiprocketSim.couriers`; every key read here is listed in DEFAULT_COURIERS.
"""

from __future__ import annotations

import copy
import json
import math
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox.shiprocket_format import etd_label, money, money_num, money_str

D = Decimal


def _courier(cid: int, name: str, *, air: bool, base: str, extra: str, cod: int, days: int, rating: float,
             max_kg: str, min_kg: str = "0.5", cod_min: str = "35", cod_pct: str = "1.75") -> dict[str, Any]:
    return {
        "courier_company_id": cid, "courier_name": name, "is_surface": not air,
        "base_freight": D(base),          # first 0.5 kg slab, zone A
        "additional_freight": D(extra),   # each further 0.5 kg slab, zone A
        "cod": cod, "cod_min": D(cod_min), "cod_percent": D(cod_pct),
        "min_weight": D(min_kg), "max_weight": D(max_kg),
        "transit_days": days,             # zone A; farther zones add days
        "rating": rating, "cutoff_time": "11:00" if not air else "14:00",
    }


DEFAULT_COURIERS: list[dict[str, Any]] = [
    _courier(43, "Delhivery Surface", air=False, base="38", extra="30", cod=1, days=2, rating=4.9,
             max_kg="20"),
    _courier(10, "Delhivery Air", air=True, base="52", extra="44", cod=1, days=1, rating=4.6, max_kg="5"),
    _courier(54, "Ekart Logistics Surface", air=False, base="36", extra="31", cod=1, days=3, rating=4.3,
             max_kg="15", cod_min="30", cod_pct="1.5"),
    _courier(33, "Xpressbees Surface", air=False, base="35", extra="29", cod=1, days=3, rating=4.4,
             max_kg="20"),
    _courier(1, "Blue Dart Air", air=True, base="75", extra="60", cod=1, days=1, rating=4.7, max_kg="10",
             cod_min="45", cod_pct="2"),
    _courier(19, "Ecom Express Surface 2kg", air=False, base="40", extra="18", cod=1, days=3, rating=4.2,
             max_kg="30", min_kg="2"),
    _courier(225, "India Post-Business Parcel Surface Prepaid", air=False, base="30", extra="22", cod=0,
             days=5,
             rating=4.0, max_kg="35", min_kg="2"),
]

_METROS = {"11", "40", "56", "60", "70", "50"}
_SPECIAL = {"17", "18", "19", "78", "79", "68", "69"}  # HP, J&K, North-East, Kerala: Shiprocket's zone E
_ZONES = {"z_a": (D("1.00"), 0), "z_b": (D("1.20"), 1), "z_c": (D("1.40"), 1), "z_d": (D("1.60"), 2),
          "z_e": (D("1.90"), 3)}
_PLACES = {
    "11": ("New Delhi", "Delhi"), "40": ("Mumbai", "Maharashtra"), "41": ("Pune", "Maharashtra"),
    "56": ("Bengaluru", "Karnataka"), "60": ("Chennai", "Tamil Nadu"), "70": ("Kolkata", "West Bengal"),
    "50": ("Hyderabad", "Telangana"), "38": ("Ahmedabad", "Gujarat"), "30": ("Jaipur", "Rajasthan"),
    "17": ("Mandi", "Himachal Pradesh"), "22": ("Lucknow", "Uttar Pradesh"), "68": ("Kochi", "Kerala"),
    "78": ("Guwahati", "Assam"), "12": ("Gurugram", "Haryana"), "14": ("Ludhiana", "Punjab"),
}


def default_couriers() -> list[dict[str, Any]]:
    return copy.deepcopy(DEFAULT_COURIERS)


def valid_pincode(pincode: str) -> bool:
    return len(pincode) == 6 and pincode.isdigit() and pincode[0] != "0"


def place(pincode: str) -> tuple[str, str]:
    return _PLACES.get(pincode[:2], ("", ""))


def zone(pickup: str, delivery: str) -> str:
    if pickup[:3] == delivery[:3]:
        return "z_a"
    if pickup[:2] == delivery[:2]:
        return "z_b"
    if delivery[:2] in _SPECIAL:
        return "z_e"
    if pickup[:2] in _METROS and delivery[:2] in _METROS:
        return "z_c"
    return "z_d"


def charge_weight(weight: Decimal, dims: tuple[Decimal, Decimal, Decimal] | None,
                  minimum: Decimal) -> Decimal:
    """max(actual, volumetric L*B*H/5000, courier minimum), rounded up to the next 0.5 kg slab."""
    volumetric = dims[0] * dims[1] * dims[2] / 5000 if dims else D(0)
    heaviest = max(weight, volumetric, minimum)
    return D(math.ceil(heaviest * 2)) / 2


def quote(couriers: list[dict[str, Any]], *, pickup: str, delivery: str, weight: Decimal, cod: bool,
          declared_value: Decimal, dims: tuple[Decimal, Decimal, Decimal] | None,
          now: datetime) -> list[dict[str, Any]]:
    """Every courier that can carry this parcel, as `available_courier_companies[]` entries."""
    z = zone(pickup, delivery)
    factor, extra_days = _ZONES[z]
    city, state = place(delivery)
    out = []
    for c in couriers:
        if cod and not c["cod"]:
            continue
        charged = charge_weight(weight, dims, c["min_weight"])
        if charged > c["max_weight"]:
            continue
        slabs = int(charged * 2)
        freight = money((c["base_freight"] + c["additional_freight"] * (slabs - 1)) * factor)
        cod_fee = money(max(c["cod_min"], declared_value * c["cod_percent"] / 100)) if cod else D(0)
        days = c["transit_days"] + extra_days
        etd = now + timedelta(days=days)
        max_w = money_str(c["max_weight"])
        out.append({
            "air_max_weight": "0.00" if c["is_surface"] else max_w,
            "surface_max_weight": max_w if c["is_surface"] else "0.00",
            "assured_amount": 0, "base_courier_id": None, "blocked": 0, "call_before_delivery": "Available",
            "charge_weight": money_num(charged), "city": city, "state": state, "postcode": delivery,
            "cod": c["cod"], "cod_charges": money_num(cod_fee),
            "cod_multiplier": float(c["cod_percent"] / 100),
            "courier_company_id": c["courier_company_id"], "courier_name": c["courier_name"],
            "courier_type": "0", "coverage_charges": 0, "other_charges": 0, "entry_tax": 0,
            "cutoff_time": c["cutoff_time"], "delivery_boy_contact": "Not Available",
            "delivery_performance": c["rating"], "pickup_performance": c["rating"],
            "rto_performance": c["rating"], "tracking_performance": c["rating"],
            "estimated_delivery_days": str(days), "etd": etd_label(etd), "etd_hours": days * 24,
            "edd": "", "freight_charge": money_num(freight), "rate": money_num(freight + cod_fee),
            "rto_charges": money_num(freight), "id": 459245900 + c["courier_company_id"],
            "is_custom_rate": 0, "is_hyperlocal": False, "is_international": 0,
            "is_rto_address_available": True,
            "is_surface": c["is_surface"], "mode": 0 if c["is_surface"] else 1,
            "min_weight": float(c["min_weight"]),
            "odablock": False, "others": json.dumps({"cancel_real_time": True}, separators=(",", ":")),
            "pickup_availability": "0", "pod_available": "Instant", "qc_courier": 0, "rating": c["rating"],
            "realtime_tracking": "Real Time", "suppression_dates": None, "zone": z,
        })
    return out


def recommended(entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Best rating, then cheapest, then lowest id: deterministic stand-in for Shiprocket's recommendation."""
    if not entries:
        return None
    return min(entries, key=lambda e: (-e["rating"], D(str(e["rate"])), e["courier_company_id"]))


def serviceability_body(entries: list[dict[str, Any]]) -> dict[str, Any]:
    if not entries:
        return unserviceable_body()
    best = recommended(entries)
    assert best is not None
    best_id = best["courier_company_id"]
    return {
        "company_auto_shipment_insurance_setting": False,
        "covid_zones": {"delivery_zone": None, "pickup_zone": None},
        "currency": "INR",
        "data": {
            "available_courier_companies": entries,
            "blocked_courier_companies": [],
            "child_courier_id": None,
            "is_recommendation_enabled": 1,
            "recommendation_advance_rule": 0,
            "recommended_by": {"id": 6, "title": "Recommendation By Shiprocket"},
            "recommended_courier_company_id": best_id,
            "shiprocket_recommended_courier_id": best_id,
        },
        "dg_courier": 0, "eligible_for_insurance": False, "insurace_opted_at_order_creation": False,
        "is_allow_templatized_pricing": True, "is_latlong": 0, "label_generate_type": 2, "on_new_zone": 2,
        "seller_address": [], "status": 200, "user_insurance_manadatory": False,
    }


def unserviceable_body() -> dict[str, Any]:
    """UNCERTAIN: no published sample for "no courier serves this route". Shiprocket reports "Invalid Data"
    cases as HTTP 200 with `status: 404` in the body; public clients test for that OR an empty list."""
    return {"status": 404, "message": "No courier serviceable for the given pickup and delivery pincodes.",
            "currency": "INR", "data": {"available_courier_companies": []}}
