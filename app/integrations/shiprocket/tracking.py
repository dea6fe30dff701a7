"""Shiprocket tracking payloads (webhook and tracking API) -> the neutral TrackingUpdate. Pure: a body
that cannot be used raises Malformed.

Copes with every real shape in the facts file: the current webhook (Sample A: string awb, "DD MM YYYY"
IST timestamp, scans with `sr-status`), the older one (Sample B: numeric awb, "YYYY-MM-DD" timestamps,
newest-first scans without `sr-status`) and the tracking API (Sample C, for polling). The status comes
from the shipment-scheme id when there is one, else the latest scan's `sr-status` (same scheme), else
the order-scheme `current_status_id`, else the label text; never from one scheme's table with another
scheme's number.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from app.integrations.shipping import TrackingStatus, TrackingUpdate
from app.integrations.shiprocket.statuses import from_label, from_order_id, from_shipment_id, shipment_label
from app.money import to_int
from app.parsing import Malformed, body_digest, decode_json_body
from app.timeutil import IST

# A scan time outside these years is a corrupt body, not a parcel (and year 1 in IST cannot even become UTC).
_EARLIEST, _LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
MAX_STAMP_CHARS = 60  # with the awb (60) and a status id, the dedupe key fits tracking_events.dedupe_key (200)
MAX_STATUS_ID = 1_000_000  # Shiprocket's ids are two digits; they are stored as Integer

_FORMATS = ("%d %m %Y %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d-%m-%Y %H:%M:%S", "%d/%m/%Y %H:%M:%S",
            "%Y-%m-%dT%H:%M:%S")


def parse_time(text: Any) -> datetime | None:
    """Shiprocket writes IST wall-clock times in several formats; return UTC, or None if unreadable or
    outside 2000-2099."""
    moment = _read_time(text)
    return None if moment is None else _in_range(moment)


def _read_time(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text.strip():
        return None
    value = text.strip()
    # Fast paths first (a tracking burst parses several times per webhook; strptime is slow): ISO forms,
    # which read the same as the ISO-like _FORMATS would, and the webhook's own "DD MM YYYY HH:MM:SS".
    try:
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=IST)
    except ValueError:
        pass
    if len(value) == 19 and value[2] == value[5] == " " and value[13] == value[16] == ":":
        try:
            return datetime(int(value[6:10]), int(value[3:5]), int(value[0:2]), int(value[11:13]),
                            int(value[14:16]), int(value[17:19]), tzinfo=IST)
        except ValueError:
            pass
    for fmt in _FORMATS:
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=IST)
        except ValueError:
            continue
    return None


def _in_range(moment: datetime) -> datetime | None:
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        return None
    return utc if _EARLIEST <= utc < _LATEST else None


def _status_id(value: Any, what: str) -> int | None:
    number = to_int(value)
    if number is not None and not 0 <= number <= MAX_STATUS_ID:
        raise Malformed(f"{what} {str(value)[:20]!r} is out of range")
    return number


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _awb(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _text(value)


def _latest_scan(scans: Any) -> dict[str, Any] | None:
    """Scans come oldest-first (Sample A) or newest-first (B, C): pick by date, not position."""
    if not isinstance(scans, list):
        return None
    dated = [(parse_time(s.get("date")), i, s) for i, s in enumerate(scans) if isinstance(s, dict)]
    dated = [d for d in dated if d[0] is not None]
    if not dated:
        return None
    return max(dated, key=lambda d: (d[0], d[1]))[2]


def decide_status(shipment_id: int | None, scan: dict[str, Any] | None, order_id: int | None,
                  labels: tuple[str, ...]) -> tuple[TrackingStatus, str, int | None]:
    """(status, deciding field, shipment-scheme id used)."""
    if shipment_id is not None:
        return from_shipment_id(shipment_id), "shipment_status_id", shipment_id
    scan_id = to_int((scan or {}).get("sr-status"))
    if scan_id is not None:
        return from_shipment_id(scan_id), "sr-status", scan_id
    if order_id is not None:
        return from_order_id(order_id), "current_status_id", None
    for label in labels:
        if label:
            return from_label(label), "label", None
    return TrackingStatus.unknown, "none", None


def parse_webhook(raw: bytes, received_at: datetime | None = None) -> TrackingUpdate:
    data = decode_json_body(raw, "application/json", empty_hint="Shiprocket's dashboard test request sends one")
    if not isinstance(data, dict):
        raise Malformed("body is not a JSON object")
    return webhook_update(data, received_at)


def webhook_update(data: dict[str, Any], received_at: datetime | None = None) -> TrackingUpdate:
    awb = _awb(data.get("awb") or data.get("awb_code"))
    if not awb:
        raise Malformed("no awb in the body")
    if len(awb) > 60:
        raise Malformed("awb is longer than 60 characters")
    scan = _latest_scan(data.get("scans"))
    shipment_status, current_status = _text(data.get("shipment_status")), _text(data.get("current_status"))
    shipment_id = _status_id(data.get("shipment_status_id"), "shipment_status_id")
    order_id = _status_id(data.get("current_status_id"), "current_status_id")
    if scan is not None:
        _status_id(scan.get("sr-status"), "sr-status")
    status, scheme, used_id = decide_status(shipment_id, scan, order_id, (shipment_status, current_status))
    if scheme == "sr-status" and scan is not None:
        shipment_status = shipment_status or _text(scan.get("sr-status-label")) or shipment_label(used_id or 0)
    stamp = _text(data.get("current_timestamp"))
    if len(stamp) > MAX_STAMP_CHARS:
        raise Malformed(f"current_timestamp is longer than {MAX_STAMP_CHARS} characters")
    written = _read_time(stamp)
    event_at = None if written is None else _in_range(written)
    if written is not None and event_at is None:
        raise Malformed(f"current_timestamp {stamp!r} is out of range")
    event_at = event_at or parse_time((scan or {}).get("date"))
    if event_at is None:
        stamp = stamp or f"body:{body_digest(json.dumps(data, sort_keys=True).encode())[:16]}"
        event_at = received_at or datetime.now(UTC)
    # Sample B puts Shiprocket's id in `order_id` and ours in `channel_order_id`; Sample A has ours in
    # `order_id` and Shiprocket's in `sr_order_id`.
    channel_order_id = _text(data.get("channel_order_id")) or _text(data.get("order_id"))
    # Cut to the widths the tracking tables store them in: a long label is still the same event.
    return TrackingUpdate(
        awb=awb, status=status, scheme=scheme, shipment_status_id=used_id, shipment_status=shipment_status[:100],
        current_status_id=order_id, current_status=current_status[:100], event_at=event_at, stamp=stamp,
        is_return=to_int(data.get("is_return")) == 1, channel_order_id=channel_order_id[:60],
        aggregator_order_id=_text(data.get("sr_order_id"))[:40], courier_name=_text(data.get("courier_name"))[:100],
        scan_code=_text((scan or {}).get("status"))[:60], scan_activity=_text((scan or {}).get("activity")),
        scan_location=_text((scan or {}).get("location"))[:200], aggregator="shiprocket")


def tracking_update(awb: str, body: Any) -> TrackingUpdate | None:
    """Sample C (`/courier/track/awb`, and each value of `/courier/track/awbs`). None when Shiprocket has
    nothing yet (`track_status` 0) or the body is not a tracking answer."""
    data = body.get("tracking_data", body) if isinstance(body, dict) else None
    if not isinstance(data, dict) or to_int(data.get("track_status")) != 1:
        return None
    track = data.get("shipment_track")
    first = track[0] if isinstance(track, list) and track and isinstance(track[0], dict) else {}
    scan = _latest_scan(data.get("shipment_track_activities"))
    shipment_id = to_int(data.get("shipment_status"))
    current = _text(first.get("current_status"))
    status, scheme, used_id = decide_status(shipment_id, scan, None, (current,))
    label = shipment_label(used_id) if used_id is not None else ""
    stamp = _text((scan or {}).get("date")) or _text(first.get("delivered_date"))
    event_at = parse_time(stamp)
    if event_at is None:
        return None  # no dated activity: nothing to order it against
    return TrackingUpdate(
        awb=awb, status=status, scheme=scheme, shipment_status_id=used_id,
        shipment_status=label or current, current_status_id=None, current_status=current, event_at=event_at,
        stamp=stamp, aggregator_order_id=_text(first.get("order_id")), courier_name=_text(first.get("courier_name")),
        scan_code=_text((scan or {}).get("status")), scan_activity=_text((scan or {}).get("activity")),
        scan_location=_text((scan or {}).get("location")), aggregator="shiprocket")
