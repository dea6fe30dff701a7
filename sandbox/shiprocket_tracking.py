"""Tracking views and webhook bodies, rendered from one shipment's scan history.

The same history feeds three real shapes that disagree with each other: the tracking API (Sample C:
newest scan first, `shipment_status` in the shipment scheme), the current webhook (Sample A: oldest
first, awb as a string, `current_status_id` in the ORDER scheme, "DD MM YYYY" timestamp) and the legacy
webhook (Sample B: numeric awb, ISO-ish timestamps, no sr-status). Rendering all three from one source
lets tests prove a consumer copes with each without the simulator drifting between them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sandbox.shiprocket_format import webhook_timestamp, ymd_hms
from sandbox.shiprocket_statuses import ORDER_STATUS, SHIPMENT_STATUS, scan_text, shipment_label

NO_ACTIVITY = ("Aahh! There is no activities found in our DB. "
               "Please have some patience it will be updated soon.")
_KEEP_UPPER = {"RTO", "NDR", "OFD", "QC", "AWB", "RTO_OFD", "RTO_NDR"}


def make_scan(shipment_status_id: int, when: datetime, location: str) -> dict[str, str]:
    code, activity = scan_text(shipment_status_id)
    return {"date": ymd_hms(when) or "", "status": code, "activity": activity, "location": location,
            "sr-status": str(shipment_status_id), "sr-status-label": shipment_label(shipment_status_id)}


def no_activity() -> dict[str, Any]:
    return {"tracking_data": {"track_status": 0, "error": NO_ACTIVITY}}


def tracking_data(order: dict[str, Any], shipment: dict[str, Any]) -> dict[str, Any]:
    """Sample C (`GET /courier/track/awb/{awb}`); track_status 0 until the courier has scanned anything."""
    if not shipment["awb"] or not shipment["scans"]:
        return no_activity()
    status_id = shipment["status_id"]
    delivered = shipment["delivered_date"] is not None
    awb = shipment["awb"]
    return {"tracking_data": {
        "track_status": 1,
        "shipment_status": status_id,
        "shipment_track": [{
            "id": shipment["shipment_id"], "awb_code": awb,
            "courier_company_id": shipment["courier_company_id"],
            "shipment_id": shipment["shipment_id"], "order_id": order["order_id"],
            "pickup_date": ymd_hms(shipment["pickup_date"]),
            "delivered_date": ymd_hms(shipment["delivered_date"]),
            "weight": f"{shipment['weight']:.2f}", "packages": 1,
            "current_status": SHIPMENT_STATUS[status_id],
            "delivered_to": shipment["destination"], "destination": shipment["destination"],
            "consignee_name": shipment["consignee_name"], "origin": shipment["origin"],
            "courier_agent_details": None, "courier_name": shipment["courier_name"], "edd": None,
            "pod": "Available" if delivered else "Not Available",
            "pod_status": f"https://s3-ap-southeast-1.amazonaws.com/kr-shipmultichannel/courier/"
                          f"{shipment['courier_company_id']}/pod/{awb}.png" if delivered else "",
        }],
        "shipment_track_activities": list(reversed(shipment["scans"])),
        "track_url": f"https://shiprocket.co//tracking/{awb}",
        "etd": ymd_hms(shipment["etd"]),
        "qc_response": {"qc_image": "", "qc_failed_reason": ""},
    }}


def webhook_body(order: dict[str, Any], shipment: dict[str, Any], when: datetime) -> dict[str, Any]:
    """Sample A, the current official webhook shape."""
    delivered = shipment["delivered_date"] is not None
    return {
        "awb": shipment["awb"],
        "courier_name": shipment["courier_name"],
        "current_status": order["status"],
        "current_status_id": order["status_code"],
        "shipment_status": shipment_label(shipment["status_id"]),
        "shipment_status_id": shipment["status_id"],
        "current_timestamp": webhook_timestamp(when),
        "order_id": order["channel_order_id"],
        "sr_order_id": order["order_id"],
        "awb_assigned_date": ymd_hms(shipment["awb_assigned_at"]),
        "pickup_scheduled_date": ymd_hms(shipment["pickup_scheduled_at"]),
        "etd": ymd_hms(shipment["etd"]),
        "scans": [dict(scan) for scan in shipment["scans"]],
        "is_return": order["is_return"],
        "channel_id": order["channel_id"],
        "pod_status": "OTP Based Delivery" if delivered else "",
        "pod": "Available" if delivered else "Not Available",
        "qc_image": "",
        "qc_failure_reason": "",
    }


def _title(label: str) -> str:
    return " ".join(w if w in _KEEP_UPPER else w.capitalize() for w in label.split())


def legacy_webhook_body(order: dict[str, Any], shipment: dict[str, Any]) -> dict[str, Any]:
    """Sample B, the 2019-2021 shape still copied into integrations: numeric awb, SR order id as
    `order_id`, `channel_order_id` beside it, ISO-ish timestamps and newest-first scans without sr-status.
    UNCERTAIN: the sample's ids (7/7) cannot tell which scheme `current_status_id` used; the sim keeps the
    order scheme, as in Sample A."""
    last = shipment["scans"][-1]["date"] if shipment["scans"] else ymd_hms(shipment["awb_assigned_at"])
    return {
        "awb": int(shipment["awb"]),
        "current_status": _title(ORDER_STATUS[order["status_code"]]),
        "order_id": str(order["order_id"]),
        "current_timestamp": last,
        "etd": ymd_hms(shipment["etd"]),
        "current_status_id": order["status_code"],
        "shipment_status": SHIPMENT_STATUS[shipment["status_id"]],
        "shipment_status_id": shipment["status_id"],
        "channel_order_id": order["channel_order_id"],
        "channel": "CUSTOM",
        "courier_name": shipment["courier_name"],
        "scans": [{"date": s["date"], "activity": s["activity"].upper(), "location": s["location"]}
                  for s in reversed(shipment["scans"])],
    }
