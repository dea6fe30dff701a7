"""Webhook authentication, always over the raw body and always in constant time."""

from __future__ import annotations

import hashlib
import hmac


def zoho_signature(raw: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def valid_zoho_signature(raw: bytes, header: str | None, secret: str) -> bool:
    if not header or not secret:
        return False
    return hmac.compare_digest(header.strip().lower().encode(), zoho_signature(raw, secret).encode())


def valid_api_key(header: str | None, token: str) -> bool:
    if not header or not token:
        return False
    return hmac.compare_digest(header.strip().encode(), token.encode())
