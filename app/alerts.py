"""Alerts for a person: stored once per occurrence (a retried job never pages twice), logged, and
sent to the ops channel (app.ops.notify: ALERT_WEBHOOK_URL and/or e-mail) by the sweeper."""

from __future__ import annotations

import logging

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Alert
from app.timeutil import ist_today, utcnow

log = logging.getLogger("shipbridge.alerts")


async def raise_alert(session: AsyncSession, *, kind: str, key: str, message: str,
                      salesorder_id: str | None = None) -> bool:
    """Record an alert in the caller's transaction. Returns False when it was already raised."""
    stmt = (insert(Alert).values(kind=kind, dedupe_key=f"{kind}:{key}", message=message,
                                 salesorder_id=salesorder_id)
            .on_conflict_do_nothing(constraint="uq_alerts_dedupe").returning(Alert.id))
    created = (await session.execute(stmt)).scalar_one_or_none() is not None
    if created:
        log.warning("ALERT %s %s: %s", kind, salesorder_id or "", message)
    return created


async def raise_credentials_alert(session: AsyncSession, exc: Exception) -> None:
    """Once per upstream and day: credentials refused stop every order, so say it loudly but once."""
    if getattr(exc, "scope", None):
        return  # a missing OAuth scope has its own alert (zoho_scope_missing), raised by the client
    service = getattr(exc, "service", "upstream")
    day = ist_today().isoformat()  # the seller's day, not UTC's
    await raise_alert(session, kind="credentials_refused", key=f"{service}:{day}",
                      message=f"{service} refused our credentials ({exc}); orders wait and are retried. "
                              f"Check the {service} settings.")


async def alert_open(session: AsyncSession, kind: str) -> bool:
    """Does an alert of this kind still wait for a person? Every process reads the same answer, so an
    open alert doubles as the shared mark of a condition one process met (Shiplee's agreement gate)."""
    return await session.scalar(
        select(Alert.id).where(Alert.kind == kind, Alert.resolved.is_(False)).limit(1)) is not None


async def resolve_alerts(session: AsyncSession, kind: str, by: str) -> int:
    """Close every open alert of this kind: the condition it reported is gone (seen by Shipbridge)."""
    result = await session.execute(update(Alert).where(Alert.kind == kind, Alert.resolved.is_(False))
                                   .values(resolved=True, resolved_at=utcnow(), resolved_by=by))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
