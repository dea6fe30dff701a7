"""Zoho Inventory's workflow-rule webhook for sales orders (POST /webhooks/zoho/salesorders, served by
app.webhooks.ingest): what a delivery is. Confirmed orders become work, and so do voided ones or ones
back in draft (a shipment may have to be cancelled); other statuses are recorded as ignored, and
malformed bodies are kept as invalid for inspection."""

from __future__ import annotations

from app.models import InboxState
from app.webhooks.payloads import (
    WORK_STATUSES,
    Delivery,
    Malformed,
    salesorder_status,
    zoho_dedupe_key,
    zoho_salesorder,
)


def classify(raw: bytes, content_type: str) -> Delivery:
    try:
        so = zoho_salesorder(raw, content_type)
    except Malformed as exc:
        return Delivery.invalid(str(exc), raw)
    status = salesorder_status(so)
    if status in WORK_STATUSES:
        return Delivery(InboxState.pending, None, so["salesorder_id"], zoho_dedupe_key(so, raw))
    return Delivery(InboxState.ignored, f"sales order status is {status[:100] or 'missing'}, not confirmed",
                    so["salesorder_id"], zoho_dedupe_key(so, raw))
