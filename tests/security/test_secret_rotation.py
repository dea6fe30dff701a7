"""Rotating a webhook secret without losing deliveries: with *_PREVIOUS set, bodies signed (Zoho) or keyed
(Shiprocket) with either value are accepted while the senders switch over; once it is removed, only the
new value is; the previous value is scrubbed from logs like every secret."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from pydantic import SecretStr

from app.logging import RedactSecrets, configured_secrets
from app.services import Services
from app.settings import Settings, get_settings
from tests.ops.helpers import ops_client
from tests.webhooks.test_ingest import so_body, tracking_body

NEW_ZOHO, NEW_SR = "zoho-secret-new-2027", "sr-token-new-2027"


def zoho_headers(raw: bytes, secret: str) -> dict[str, str]:
    return {"Content-Type": "application/json",
            "X-Zoho-Webhook-Signature": hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()}


async def post_all(svc: Services, zoho_secret: str, sr_token: str, n: int) -> tuple[int, int]:
    async with ops_client(svc) as client:
        so = json.dumps(so_body(last_modified_time=f"2026-11-20T10:00:0{n}+0530")).encode()
        track = json.dumps(tracking_body(current_timestamp=f"20 11 2026 10:00:0{n}")).encode()
        a = await client.post("/webhooks/zoho/salesorders", content=so, headers=zoho_headers(so, zoho_secret))
        b = await client.post("/webhooks/tracking", content=track,
                              headers={"Content-Type": "application/json", "x-api-key": sr_token})
        return a.status_code, b.status_code


async def test_both_values_accepted_during_a_rotation_and_only_the_new_one_after(svc: Services) -> None:
    old_zoho = svc.settings.ZOHO_WEBHOOK_SECRET.get_secret_value()
    old_sr = svc.settings.SHIPROCKET_WEBHOOK_TOKEN.get_secret_value()
    svc.settings = svc.settings.model_copy(update={
        "ZOHO_WEBHOOK_SECRET": SecretStr(NEW_ZOHO), "ZOHO_WEBHOOK_SECRET_PREVIOUS": SecretStr(old_zoho),
        "SHIPROCKET_WEBHOOK_TOKEN": SecretStr(NEW_SR), "SHIPROCKET_WEBHOOK_TOKEN_PREVIOUS": SecretStr(old_sr)})
    assert await post_all(svc, old_zoho, old_sr, 1) == (200, 200)  # senders not switched yet
    assert await post_all(svc, NEW_ZOHO, NEW_SR, 2) == (200, 200)  # switched
    assert await post_all(svc, "some-other-secret", "some-other-token", 3) == (401, 401)
    svc.settings = svc.settings.model_copy(update={
        "ZOHO_WEBHOOK_SECRET_PREVIOUS": SecretStr(""), "SHIPROCKET_WEBHOOK_TOKEN_PREVIOUS": SecretStr("")})
    assert await post_all(svc, old_zoho, old_sr, 4) == (401, 401)  # rotation over: the old value is dead
    assert await post_all(svc, NEW_ZOHO, NEW_SR, 5) == (200, 200)


def test_previous_values_are_scrubbed_from_logs(base_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOHO_WEBHOOK_SECRET_PREVIOUS", "zoho-previous-secret-77")
    monkeypatch.setenv("SHIPROCKET_WEBHOOK_TOKEN_PREVIOUS", "sr-previous-token-77")
    get_settings.cache_clear()
    try:
        secrets = configured_secrets()
        assert "zoho-previous-secret-77" in secrets and "sr-previous-token-77" in secrets
        scrubbed = RedactSecrets(secrets).scrub("sent zoho-previous-secret-77 and sr-previous-token-77")
        assert scrubbed == "sent *** and ***"
        assert "zoho-previous-secret-77" not in repr(Settings())  # SecretStr: never printed
    finally:
        get_settings.cache_clear()
