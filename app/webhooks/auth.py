"""Webhook authentication, always over the raw body and always in constant time."""

from __future__ import annotations

import hashlib
import hmac


def zoho_signature(raw: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def _many(secret: str | tuple[str, ...]) -> tuple[str, ...]:
    # A tuple during a rotation: the current value and the previous one, each accepted.
    return tuple(s for s in ((secret,) if isinstance(secret, str) else secret) if s)


def valid_zoho_signature(raw: bytes, header: str | None, secret: str | tuple[str, ...],
                         query: list[tuple[str, str]] | None = None) -> bool:
    """HMAC-SHA256 (hex) of the raw body. When the webhook URL carries query parameters, Zoho's
    documented scheme (Billing's, the same webhook engine) signs them first, sorted by name and
    concatenated as name+value, then the body; both forms are accepted."""
    secrets = _many(secret)
    if not header or not secrets:
        return False
    given = header.strip().lower().encode()
    candidates = [raw]
    if query:
        candidates.append("".join(k + v for k, v in sorted(query)).encode() + raw)
    # Every comparison runs (a list, not a short-circuiting generator): the time says nothing of which matched.
    return any([hmac.compare_digest(given, zoho_signature(c, s).encode()) for c in candidates for s in secrets])


def valid_api_key(header: str | None, token: str | tuple[str, ...]) -> bool:
    tokens = _many(token)
    if not header or not tokens:
        return False
    given = header.strip().encode()
    return any([hmac.compare_digest(given, t.encode()) for t in tokens])
