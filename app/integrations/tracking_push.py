"""The one aggregator-neutral entry for tracking pushes: a tracking webhook body becomes the neutral
TrackingUpdate (app.integrations.shipping), so the tracking domain never meets an aggregator's JSON or
imports an aggregator's package. Only Shiprocket pushes tracking (Shiplee is polled through
Aggregator.track), so POST /webhooks/tracking carries Shiprocket's body and this dispatches to its
parser; an aggregator that starts pushing gets its own webhook path and a branch here."""

from __future__ import annotations

from datetime import datetime

from app.integrations.shipping import TrackingUpdate
from app.integrations.shiprocket import tracking as shiprocket_tracking


def parse_tracking_push(raw: bytes, received_at: datetime | None = None) -> TrackingUpdate:
    """The update in a pushed tracking webhook body. Raises app.parsing.Malformed with a reason a person
    can act on (the body is then kept as invalid)."""
    return shiprocket_tracking.parse_webhook(raw, received_at)
