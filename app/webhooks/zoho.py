"""POST /webhooks/zoho/salesorders: Zoho Inventory's workflow-rule webhook for sales orders.

Verify the HMAC over the raw body, store the delivery, answer. Confirmed orders become work, and so do
voided ones or ones back in draft (a shipment may have to be cancelled); other statuses are recorded as
ignored, and malformed bodies are kept as invalid for inspection."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import JSONResponse

from app.inbox import Source
from app.models import InboxState
from app.webhooks.auth import valid_zoho_signature
from app.webhooks.payloads import (
    WORK_STATUSES,
    Malformed,
    body_digest,
    salesorder_status,
    zoho_dedupe_key,
    zoho_salesorder,
)
from app.webhooks.storage import MAX_BODY_BYTES, store_and_answer, too_large, unauthorized

router = APIRouter()


@router.post("/webhooks/zoho/salesorders")
async def zoho_salesorders(request: Request, background: BackgroundTasks) -> JSONResponse:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        return too_large()
    secret = request.app.state.settings.ZOHO_WEBHOOK_SECRET.get_secret_value()
    if not valid_zoho_signature(raw, request.headers.get("X-Zoho-Webhook-Signature"), secret,
                                list(request.query_params.multi_items())):
        return unauthorized("X-Zoho-Webhook-Signature")
    content_type = request.headers.get("content-type", "")
    subject: str | None = None
    reason: str | None = None
    try:
        so = zoho_salesorder(raw, content_type)
    except Malformed as exc:
        dedupe_key, state, reason = f"sha256:{body_digest(raw)}", InboxState.invalid, str(exc)
    else:
        subject = so["salesorder_id"]
        dedupe_key = zoho_dedupe_key(so, raw)
        status = salesorder_status(so)
        if status in WORK_STATUSES:
            state = InboxState.pending
        else:
            state, reason = InboxState.ignored, f"sales order status is {status or 'missing'}, not confirmed"
    return await store_and_answer(request.app, background, source=Source.zoho_salesorder, dedupe_key=dedupe_key,
                                  raw=raw, content_type=content_type, state=state, reason=reason, subject=subject)
