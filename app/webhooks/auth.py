"""Webhook authentication, always over the raw body and always in constant time."""

from __future__ import annotations

import hashlib
import hmac


def zoho_signature(raw: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def valid_zoho_signature(raw: bytes, header: str | None, secret: str,
                         query: list[tuple[str, str]] | None = None) -> bool:
    """HMAC-SHA256 (hex) of the raw body. When the webhook URL carries query parameters, Zoho's
    documented scheme (Billing's, the same webhook engine) signs them first, sorted by name and
    concatenated as name+value, then the body; both forms are accepted."""
    if not header or not secret:
        return False
    given = header.strip().lower().encode()
    candidates = [raw]
    if query:
        candidates.append("".join(k + v for k, v in sorted(query)).encode() + raw)
    return any(hmac.compare_digest(given, zoho_signature(c, secret).encode()) for c in candidates)


def valid_api_key(header: str | None, token: str) -> bool:
    if not header or not token:
        return False
    return hmac.compare_digest(header.strip().encode(), token.encode())
