"""Pure reading of Shiprocket's after-the-AWB answers (pickup, label, manifest): success and refusal often
share HTTP 200 or 400, so each parser says which it was. Sources: shiprocket-after-awb-facts.md §1-3."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.integrations.aggregator import Manifest, PickupRequest
from app.timeutil import IST

ALREADY_QUEUED = "already in pickup queue"  # 400, observed widely; repeating a pickup is not an error
DUPLICATE_PICKUP = "duplicate request for pickup generation"  # 500 per [AK], same meaning (UNCERTAIN)


def _ist(value: Any) -> datetime | None:
    """Shiprocket writes local time without a zone ("2022-06-04 09:00:00", or a bare date)."""
    text = str(value or "").strip()
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=IST)
        except ValueError:
            continue
    return None


def parse_pickup(status: int, body: Any) -> PickupRequest | None:
    """The queued pickup, or None when Shiprocket refused it (the caller raises with its message)."""
    if not isinstance(body, dict):
        return None
    message = str(body.get("message") or "").strip().lower()
    if message.startswith(ALREADY_QUEUED) or message.startswith(DUPLICATE_PICKUP):
        return PickupRequest(scheduled_date=None, token_number=None, already_queued=True)
    if status == 200 and str(body.get("pickup_status")) == "1":
        response: dict[str, Any] = body["response"] if isinstance(body.get("response"), dict) else {}
        return PickupRequest(scheduled_date=_ist(response.get("pickup_scheduled_date")),
                             token_number=str(response.get("pickup_token_number") or "") or None)
    if str(body.get("pickup_generated")) == "1":  # [AK]'s alternative success shape (UNCERTAIN)
        return PickupRequest(scheduled_date=_ist(body.get("pickup_scheduled_date")),
                             token_number=str(body.get("pickup_token_number") or "") or None)
    return None


def parse_label(status: int, body: Any) -> str | None:
    """The label URL; None for `label_created: 0` (a refusal inside a 200) or anything else."""
    if status != 200 or not isinstance(body, dict):
        return None
    url = str(body.get("label_url") or "")
    return url if str(body.get("label_created")) == "1" and url else None


def label_refusal(body: Any) -> str:
    if isinstance(body, dict):
        return str(body.get("response") or body.get("message") or "label not created")
    return "label not created"


def parse_manifest(status: int, body: Any, shipment_id: str) -> Manifest | None | bool:
    """The manifest; True when Shiprocket says this shipment is already manifested (read it back with
    /manifests/print); None when refused. `status: 1` with an empty URL is a refusal despite the 200."""
    if not isinstance(body, dict):
        return None
    if status == 200 and str(body.get("status")) == "1" and body.get("manifest_url"):
        return Manifest(url=str(body["manifest_url"]))
    already = body.get("already_manifested_shipment_ids")
    if isinstance(already, list) and str(shipment_id) in {str(i) for i in already}:
        return True
    return None


def parse_printed_manifest(status: int, body: Any) -> str | None:
    if status != 200 or not isinstance(body, dict):
        return None
    return str(body.get("manifest_url") or "") or None
