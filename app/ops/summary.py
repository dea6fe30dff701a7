"""The morning summary (`GET /ops/summary`, the dashboard's data): shipments by state, what needs
attention and what to do, the queue, the last webhook per source, upstream health and today's counts."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import metrics
from app.fulfilment.rto_models import UNAVAILABLE, RtoPrediction
from app.integrations.zoho.budget import ZohoDailyBudget, daily_budget, zoho_usage_today
from app.models import Alert, ApiToken, InboxEvent, Shipment
from app.ops.attention import attention_list
from app.ops.health import REDIS_ERRORS, iso, upstream_health
from app.queue import Queue
from app.services import Services
from app.timeutil import ist_midnight, ist_today

ARQ_QUEUE = "arq:queue"


async def zoho_budget_snapshot(svc: Services) -> dict[str, Any]:
    """Zoho calls used today against the day's budget (every process counts into one Redis counter per
    organisation and Zoho day), and the cosmetic writes waiting for the reset."""
    try:
        budget = svc.zoho.budget or ZohoDailyBudget.from_settings(svc.queue, svc.settings)
        usage = await zoho_usage_today(budget, svc.sessionmaker)
    except REDIS_ERRORS:
        return {"scope": "day", "used": None, "limit": daily_budget(svc.settings), "error": "redis unavailable"}
    return {"scope": "day", "day": usage.day.isoformat(), "used": usage.used, "limit": usage.budget,
            "remaining": usage.remaining, "deferring": usage.deferring, "deferred_pending": usage.deferred_pending,
            "zoho_remaining": usage.zoho_remaining}


async def queue_state(queue: Queue) -> dict[str, Any]:
    try:
        pool = await queue.pool()
        depth = int(await pool.zcard(ARQ_QUEUE))
        now_ms = time.time() * 1000
        due = await pool.zrangebyscore(ARQ_QUEUE, "-inf", now_ms, start=0, num=1, withscores=True)
        deferred = int(await pool.zcount(ARQ_QUEUE, now_ms, "+inf"))
    except REDIS_ERRORS as exc:
        await queue.close()
        return {"depth": None, "oldest_job_age_seconds": None, "deferred": None, "error": type(exc).__name__}
    oldest = round((now_ms - due[0][1]) / 1000, 1) if due else 0.0
    metrics.QUEUE_DEPTH.set(depth)
    metrics.QUEUE_OLDEST.set(oldest)
    return {"depth": depth, "oldest_job_age_seconds": oldest, "deferred": deferred}


async def shipments_by_state(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Shipment.state, func.count()).group_by(Shipment.state))
    out = {state: int(n) for state, n in rows}
    for state, n in out.items():
        metrics.SHIPMENTS.labels(state).set(n)
    return out


async def last_webhooks(session: AsyncSession) -> dict[str, str | None]:
    rows = await session.execute(select(InboxEvent.source, func.max(InboxEvent.received_at))
                                 .group_by(InboxEvent.source))
    return {source: iso(at) for source, at in rows}


async def token_state(session: AsyncSession, now: datetime) -> dict[str, Any]:
    """Which upstream tokens we hold and until when: never the token itself."""
    rows = await session.execute(select(ApiToken.name, ApiToken.expires_at, ApiToken.updated_at))
    return {name: {"expires_at": iso(exp), "valid": exp > now, "refreshed_at": iso(upd)} for name, exp, upd in rows}


async def today_counts(session: AsyncSession, now: datetime) -> dict[str, int]:
    start = ist_midnight(ist_today(now))  # the seller's day

    async def count(stmt: Any) -> int:
        return int((await session.execute(stmt)).scalar_one())

    return {
        "orders_received": await count(select(func.count()).select_from(Shipment).where(Shipment.created_at >= start)),
        "awbs_assigned": await count(select(func.count()).select_from(Shipment).where(
            Shipment.created_at >= start, Shipment.awb.is_not(None))),
        "delivered": await count(select(func.count()).select_from(Shipment).where(Shipment.delivered_at >= start)),
        "webhooks_received": await count(select(func.count()).select_from(InboxEvent).where(
            InboxEvent.received_at >= start)),
        "alerts_raised": await count(select(func.count()).select_from(Alert).where(Alert.created_at >= start)),
        # GoKwik RTO checks: orders held, and orders shipped unchecked because GoKwik did not answer.
        "rto_risk_held": await count(select(func.count()).select_from(RtoPrediction).where(
            RtoPrediction.requested_at >= start, RtoPrediction.held)),
        "rto_check_unavailable": await count(select(func.count()).select_from(RtoPrediction).where(
            RtoPrediction.requested_at >= start, RtoPrediction.category == UNAVAILABLE)),
    }


async def open_alerts(session: AsyncSession, limit: int = 100) -> list[dict[str, Any]]:
    rows = await session.execute(select(Alert).where(Alert.resolved.is_(False))
                                 .order_by(Alert.created_at.desc()).limit(limit))
    return [{"id": a.id, "kind": a.kind, "salesorder_id": a.salesorder_id, "message": a.message,
             "created_at": iso(a.created_at), "delivered": a.delivered} for a in rows.scalars()]


async def build_summary(svc: Services, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    async with svc.sessionmaker() as session:
        attention = await attention_list(session, svc.settings, now)
        summary: dict[str, Any] = {
            "generated_at": now.isoformat(),
            "shipments_by_state": await shipments_by_state(session),
            "attention": [a.view() for a in attention],
            "attention_count": len(attention),
            "open_alerts": await open_alerts(session),
            "last_webhook": await last_webhooks(session),
            "tokens": await token_state(session, now),
            "today": await today_counts(session, now),
        }
    queue, budget, upstreams = await asyncio.gather(
        queue_state(svc.queue), zoho_budget_snapshot(svc), upstream_health(svc.queue))
    summary["queue"] = queue
    summary["upstreams"] = upstreams
    summary["zoho_budget"] = budget
    if budget.get("used") is not None:
        metrics.ZOHO_BUDGET_USED.set(budget["used"])
    metrics.ZOHO_BUDGET_LIMIT.set(budget["limit"])
    return summary
