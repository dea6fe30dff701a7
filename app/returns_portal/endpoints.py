"""The HTTP side of returns_portal: Return Prime's webhooks (request/created, /approved, /received,
/refunded, /updated...), POST /webhooks/returnprime?key=<RETURNPRIME_WEBHOOK_KEY>, served by
app.webhooks.ingest: what a delivery is.

Return Prime signs nothing, so the body is never trusted: all we take from it is the request id, and the
job re-reads that request from Return Prime's API and acts on the fresh copy. A forged body can at most
make us look up an id. Where the id sits is not documented; integrators read `request.id`, `id`,
`data.id` or `data.request.id`, so all four are tried."""

from __future__ import annotations

from typing import Any

from app.integrations.returnprime.models import REQUEST_ID
from app.models import InboxState
from app.parsing import Malformed, body_digest, decode_json_body
from app.web.inbound import Delivery


def request_id(data: Any) -> str:
    if not isinstance(data, dict):
        raise Malformed("body is not a JSON object")
    inner: dict[str, Any] = data["data"] if isinstance(data.get("data"), dict) else {}
    for holder in (data.get("request"), data, inner.get("request"), inner):
        if isinstance(holder, dict) and holder.get("id") is not None:
            found = str(holder["id"]).strip().lower()
            if REQUEST_ID.match(found):
                return found
            raise Malformed(f"request id {found[:40]!r} is not a Return Prime request id")
    raise Malformed("no request id in the body")


def classify(raw: bytes, content_type: str) -> Delivery:
    try:
        found = request_id(decode_json_body(raw, content_type, "a test delivery?"))
    except Malformed as exc:
        return Delivery.invalid(str(exc), raw)
    # Same bytes = same delivery (a retry); any other body about the request is a new look at it.
    return Delivery(InboxState.pending, None, found, f"rp:{found}:{body_digest(raw)}")
