"""Alerts for a person: stored once per occurrence (a retried job never pages twice), logged, and
pushed to ALERT_WEBHOOK_URL (Slack/Cliq-style incoming hook) by the sweeper when one is configured."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import httpx
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Alert

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
    day = datetime.now(UTC).date().isoformat()
    await raise_alert(session, kind="credentials_refused", key=f"{service}:{day}",
                      message=f"{service} refused our credentials ({exc}); orders wait and are retried. "
                              f"Check the {service} settings.")


async def deliver_pending_alerts(session: AsyncSession, http: httpx.AsyncClient, url: str) -> int:
    rows = (await session.execute(select(Alert).where(Alert.delivered.is_(False)).order_by(Alert.id).limit(50)))
    sent = 0
    for alert in rows.scalars():
        try:
            response = await http.post(url, json={"text": f"[Shipbridge] {alert.kind}: {alert.message}",
                                                  "kind": alert.kind, "salesorder_id": alert.salesorder_id},
                                       timeout=10)
        except httpx.HTTPError as exc:
            log.warning("alert delivery failed: %s", type(exc).__name__)
            break
        if response.status_code >= 300:
            log.warning("alert delivery answered %s", response.status_code)
            break
        await session.execute(update(Alert).where(Alert.id == alert.id).values(delivered=True))
        sent += 1
    await session.commit()
    return sent
