"""POST /webhooks/cod-remittance: the integration guide's COD_REMITTANCE push.

Authenticated by `x-api-key` (= SHIPROCKET_WEBHOOK_TOKEN, as Shiprocket's tracking webhook is), stored
in the inbox before we answer, deduplicated, and handled by the same job as the poller's batches.
A malformed body is kept as invalid for a person to inspect. (Shiprocket documents no such webhook;
the poller is what works against the real API. This endpoint serves feeds that push the guide's shape.)"""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import JSONResponse

from app.inbox import Source
from app.models import InboxState
from app.remittance.payloads import dedupe_key, parse_remittance
from app.webhooks.payloads import Malformed
from app.webhooks.storage import shiprocket_body, store_and_answer

router = APIRouter()


@router.post("/webhooks/cod-remittance")
async def cod_remittance(request: Request, background: BackgroundTasks) -> JSONResponse:
    raw = await shiprocket_body(request)
    if isinstance(raw, JSONResponse):
        return raw
    content_type = request.headers.get("content-type", "")
    state, reason, subject = InboxState.pending, None, None
    try:
        remittance = parse_remittance(raw, content_type)
    except Malformed as exc:
        state, reason = InboxState.invalid, str(exc)
    else:
        subject = remittance.remittance_id
    return await store_and_answer(request.app, background, source=Source.cod_remittance,
                                  dedupe_key=dedupe_key("hook", subject, raw), raw=raw, content_type=content_type,
                                  state=state, reason=reason, subject=subject)
