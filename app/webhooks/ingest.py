"""The inbound webhooks, served as plain ASGI in front of FastAPI: authenticate, read the body
under a cap, classify it, store it in the inbox, answer, and queue it after the answer.

Plain ASGI because this is the hot path of a flash sale or a tracking burst, and routing, dependency
injection and Request objects cost more than the work itself; and because the body must be read
under our control: a key is checked before a byte of the body is read, a declared Content-Length over
the cap is refused at once, and a chunked body is counted as it streams and refused at the cap, so an
unauthenticated sender can make us hold at most MAX_BODY_BYTES.

Every authenticated body gets a 200 with its inbox state, whatever it contains: what cannot be read or
stored is kept raw as `invalid` with the reason (the sender retrying would never help). 401 and 413
store nothing; 503 means Postgres is unreachable and a retry will work."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from pydantic import SecretStr
from starlette.types import ASGIApp, Receive, Scope, Send

from app.fulfilment import endpoints as zoho
from app.inbox import Source
from app.metrics import WEBHOOKS
from app.models import InboxState
from app.queue import Queue
from app.remittance import endpoints as remittance
from app.returns_portal import endpoints as returnprime
from app.settings import Settings
from app.tracking import endpoints as tracking
from app.web.inbound import Delivery
from app.webhooks.auth import valid_api_key, valid_zoho_signature
from app.webhooks.storage import Enqueuer, InboxWriter, StorageUnavailable

log = logging.getLogger("shipbridge.webhooks")

MAX_BODY_BYTES = 1_000_000


@dataclass(frozen=True, slots=True)
class Endpoint:
    source: str
    signed: bool  # Zoho signs the body (HMAC); Shiprocket sends a shared key in x-api-key
    classify: Callable[[bytes, str], Delivery]
    # Return Prime signs nothing and sends no header we can set: the key rides in the URL (?key=...)
    key_in_query: bool = False


ENDPOINTS = {
    "/webhooks/zoho/salesorders": Endpoint(Source.zoho_salesorder, True, zoho.classify),
    "/webhooks/tracking": Endpoint(Source.tracking, False, tracking.classify),
    "/webhooks/cod-remittance": Endpoint(Source.cod_remittance, False, remittance.classify),
    "/webhooks/returnprime": Endpoint(Source.returnprime, False, returnprime.classify, key_in_query=True),
}


class Ingest:
    """What the endpoints need, built once per process (no settings lookups per request)."""

    def __init__(self, settings: Settings, queue: Queue) -> None:
        # The current value first; the previous one (if set) only during a rotation (SECURITY.md).
        self.zoho_secrets = _secrets(settings.ZOHO_WEBHOOK_SECRET, settings.ZOHO_WEBHOOK_SECRET_PREVIOUS)
        self.api_keys = _secrets(settings.SHIPROCKET_WEBHOOK_TOKEN, settings.SHIPROCKET_WEBHOOK_TOKEN_PREVIOUS)
        self.returnprime_key = settings.RETURNPRIME_WEBHOOK_KEY.get_secret_value()
        self.writer = InboxWriter(settings.DATABASE_URL, settings.DB_POOL_SIZE)
        self.enqueuer = Enqueuer(queue, self.writer)

    async def start(self) -> None:
        await self.writer.start()

    async def close(self) -> None:
        await self.enqueuer.close()
        await self.writer.close()


def _secrets(current: SecretStr, previous: SecretStr) -> tuple[str, ...]:
    return tuple(v for v in (current.get_secret_value(), previous.get_secret_value()) if v)


class BodyTooLarge(Exception):
    pass


class ClientGone(Exception):
    pass


async def read_body(receive: Receive, cap: int) -> bytes:
    """The whole body, refusing (BodyTooLarge) as soon as more than `cap` bytes have arrived."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > cap:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks) if len(chunks) != 1 else chunks[0]


async def answer(send: Send, status: int, body: dict[str, Any], *, close: bool = False) -> None:
    payload = json.dumps(body, separators=(",", ":")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    if close:  # the rest of an unread body is not worth reading: end the connection
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def _query_key(scope: Scope) -> str:
    """The `key` query parameter (never logged: the URL is a secret, and the key a scrubbed setting)."""
    query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    return next((value for name, value in query if name == "key"), "")


def _safely(endpoint: Endpoint, raw: bytes, content_type: str) -> Delivery:
    try:
        return endpoint.classify(raw, content_type)
    except Exception as exc:  # noqa: BLE001 - a body our parser chokes on is still the sender's, kept
        log.exception("%s body could not be classified; kept as invalid", endpoint.source)
        return Delivery.invalid(f"could not be parsed ({type(exc).__name__})", raw)


async def receive_webhook(ingest: Ingest, endpoint: Endpoint, scope: Scope, receive: Receive, send: Send) -> None:
    content_type = signature = api_key = ""
    declared: int | None = None
    for name, value in scope["headers"]:
        if name == b"content-type":
            content_type = value.decode("latin-1")
        elif name == b"content-length":
            declared = int(value) if value.isdigit() else None
        elif name == b"x-zoho-webhook-signature":
            signature = value.decode("latin-1")
        elif name == b"x-api-key":
            api_key = value.decode("latin-1")
    if endpoint.key_in_query:
        if not valid_api_key(_query_key(scope), ingest.returnprime_key):
            WEBHOOKS.labels(endpoint.source, "unauthorized").inc()
            return await answer(send, 401, {"detail": "missing or invalid key"}, close=True)
    elif not endpoint.signed and not valid_api_key(api_key, ingest.api_keys):
        WEBHOOKS.labels(endpoint.source, "unauthorized").inc()
        return await answer(send, 401, {"detail": "missing or invalid x-api-key"}, close=True)
    if declared is not None and declared > MAX_BODY_BYTES:
        WEBHOOKS.labels(endpoint.source, "too_large").inc()
        return await answer(send, 413, {"detail": f"body larger than {MAX_BODY_BYTES} bytes"}, close=True)
    try:
        raw = await read_body(receive, MAX_BODY_BYTES)
    except BodyTooLarge:
        WEBHOOKS.labels(endpoint.source, "too_large").inc()
        return await answer(send, 413, {"detail": f"body larger than {MAX_BODY_BYTES} bytes"}, close=True)
    except ClientGone:
        return None
    if endpoint.signed:
        query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        if not valid_zoho_signature(raw, signature, ingest.zoho_secrets, query):
            WEBHOOKS.labels(endpoint.source, "unauthorized").inc()
            return await answer(send, 401, {"detail": "missing or invalid X-Zoho-Webhook-Signature"})
    delivery = _safely(endpoint, raw, content_type)
    try:
        stored = await ingest.writer.store(endpoint.source, delivery, raw, content_type)
    except StorageUnavailable:
        WEBHOOKS.labels(endpoint.source, "storage_error").inc()
        return await answer(send, 503, {"detail": "storage unavailable, retry later"})
    body: dict[str, Any] = {"accepted": stored.state != InboxState.invalid, "duplicate": stored.duplicate,
                            "event_id": stored.event_id, "state": stored.state}
    if delivery.reason:
        body["reason"] = delivery.reason
    WEBHOOKS.labels(endpoint.source, "duplicate" if stored.duplicate else str(stored.state)).inc()
    await answer(send, 200, body)
    if stored.state == InboxState.pending and not stored.duplicate and stored.event_id is not None:
        ingest.enqueuer.submit(stored.event_id)
    return None


class WebhookIngest:
    """ASGI middleware: the webhook paths are answered here, everything else goes on to the app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            endpoint = ENDPOINTS.get(path) or ENDPOINTS.get(path.rstrip("/"))
            if endpoint is not None:
                if scope["method"] != "POST":
                    return await answer(send, 405, {"detail": "Method Not Allowed"})
                return await receive_webhook(scope["app"].state.ingest, endpoint, scope, receive, send)
        return await self.app(scope, receive, send)
