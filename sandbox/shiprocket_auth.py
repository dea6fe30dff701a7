"""Shiprocket-style login tokens: JWT-shaped, 10-day lifetime read from `exp`, and revocable at will.

The real login response carries no `expires_in`; clients either decode `exp` or assume 10 days and
re-login once on a 401. The simulator signs real-looking HS256 JWTs (claims as in a decoded production
token) so that decoding works, and keeps its own ledger so tests can expire every token on demand.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ISSUER = "https://sr-auth.shiprocket.in/authorize/user"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_claims(token: str) -> dict[str, Any]:
    """Payload of a JWT without checking the signature (what a client does to read `exp`)."""
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


@dataclass
class TokenBook:
    ttl_seconds: int
    clock: Callable[[], datetime]
    user_id: int
    company_id: int
    _secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    _expiry: dict[str, int] = field(default_factory=dict)  # token -> exp (epoch seconds)
    _revoked: set[str] = field(default_factory=set)

    def mint(self) -> str:
        iat = int(self.clock().timestamp())
        exp = iat + self.ttl_seconds
        header = {"typ": "JWT", "alg": "HS256"}
        claims = {
            "sub": self.user_id, "source": "sr-auth-int", "exp": exp,
            "jti": secrets.token_hex(20),
            "iat": iat, "iss": ISSUER, "nbf": iat, "cid": self.company_id, "tc": 360, "verbose": False,
            "vendor_id": 0, "vendor_code": "",
        }
        signing_input = ".".join(_b64url(json.dumps(part, separators=(",", ":")).encode())
                                 for part in (header, claims))
        signature = hmac.new(self._secret, signing_input.encode(), hashlib.sha256).digest()
        token = f"{signing_input}.{_b64url(signature)}"
        self._expiry[token] = exp
        return token

    def valid(self, token: str) -> bool:
        exp = self._expiry.get(token)
        return exp is not None and token not in self._revoked and self.clock().timestamp() < exp

    def expire_all(self) -> None:
        self._revoked.update(self._expiry)
