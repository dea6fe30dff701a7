"""POST /webhooks/tracking: Shiprocket's tracking webhook (forward and return shipments alike).

Shiprocket refuses webhook URLs containing "shiprocket", "kartrocket", "sr" or "kr", so the path is
neutral. It authenticates with a shared token in `x-api-key` (no signature exists), compared in constant
time. Every authenticated request gets a 200, including the dashboard's test request with an empty or
sample body: Shiprocket wants nothing else. The delivery is stored in the inbox before answering,
deduplicated by awb + status id + timestamp, and applied by a job after the commit; a body we cannot
read is kept as `invalid` for a person to look at."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import JSONResponse

from app.inbox import Source
from app.models import InboxState
from app.tracking.payload import parse_webhook
from app.webhooks.payloads import Malformed, body_digest
from app.webhooks.storage import shiprocket_body, store_and_answer

router = APIRouter()


@router.post("/webhooks/tracking")
async def tracking_webhook(request: Request, background: BackgroundTasks) -> JSONResponse:
    raw = await shiprocket_body(request)
    if isinstance(raw, JSONResponse):
        return raw
    subject: str | None = None
    reason: str | None = None
    try:
        update = parse_webhook(raw)
    except Malformed as exc:
        dedupe_key, state, reason = f"sha256:{body_digest(raw)}", InboxState.invalid, str(exc)
    else:
        dedupe_key, state, reason, subject = update.dedupe_key, InboxState.pending, None, update.awb
    return await store_and_answer(request.app, background, source=Source.tracking, dedupe_key=dedupe_key, raw=raw,
                                  content_type=request.headers.get("content-type", ""), state=state, reason=reason,
                                  subject=subject)
