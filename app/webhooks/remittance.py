"""The integration guide's COD_REMITTANCE push, POST /webhooks/cod-remittance, served by
app.webhooks.ingest: what a delivery is.

Authenticated by `x-api-key` (= SHIPROCKET_WEBHOOK_TOKEN, as Shiprocket's tracking webhook is),
deduplicated, and handled by the same job as the poller's batches. A malformed body is kept as invalid
for a person to inspect. (Shiprocket documents no such webhook; the poller is what works against the
real API. This endpoint serves feeds that push the guide's shape.)"""

from __future__ import annotations

from app.models import InboxState
from app.remittance.payloads import dedupe_key, parse_remittance
from app.webhooks.payloads import Delivery, Malformed


def classify(raw: bytes, content_type: str) -> Delivery:
    try:
        remittance = parse_remittance(raw, content_type)
    except Malformed as exc:
        return Delivery(InboxState.invalid, str(exc), None, dedupe_key("hook", None, raw))
    return Delivery(InboxState.pending, None, remittance.remittance_id,
                    dedupe_key("hook", remittance.remittance_id, raw))
