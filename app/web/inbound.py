"""What an inbound webhook delivery is, decided by the owning domain's `classify` before
app.webhooks.ingest stores it. Generic: each source's body is parsed by its own domain (or, for a
sender's own format, under app/integrations/<sender>/)."""

from __future__ import annotations

from dataclasses import dataclass

from app.models import InboxState
from app.parsing import body_digest


@dataclass(frozen=True, slots=True)
class Delivery:
    """What an authenticated body is, decided before it is stored: its inbox state, why, and its keys."""
    state: str
    reason: str | None
    subject: str | None
    dedupe_key: str

    @classmethod
    def invalid(cls, reason: str, raw: bytes) -> Delivery:
        return cls(InboxState.invalid, reason, None, f"sha256:{body_digest(raw)}")
