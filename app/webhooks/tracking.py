"""Shiprocket's tracking webhook (forward and return shipments alike), POST /webhooks/tracking, served by
app.webhooks.ingest: what a delivery is.

Shiprocket refuses webhook URLs containing "shiprocket", "kartrocket", "sr" or "kr", so the path is
neutral. It authenticates with a shared token in `x-api-key` (no signature exists). Every authenticated
request gets a 200, including the dashboard's test request with an empty or sample body: Shiprocket
wants nothing else. Deliveries are deduplicated by awb + status id + timestamp and applied by a job
after the commit; a body we cannot read is kept as `invalid` for a person to look at."""

from __future__ import annotations

from app.integrations.shiprocket.tracking import parse_webhook
from app.models import InboxState
from app.webhooks.payloads import Delivery, Malformed


def classify(raw: bytes, content_type: str) -> Delivery:
    try:
        update = parse_webhook(raw)
    except Malformed as exc:
        return Delivery.invalid(str(exc), raw)
    return Delivery(InboxState.pending, None, update.awb, update.dedupe_key)
