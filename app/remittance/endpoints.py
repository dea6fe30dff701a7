"""HTTP endpoints owned by remittance (its webhook is served by app.webhooks.ingest): the ops JSON views (bearer
OPS_TOKEN) of remittances, their lines and what does not reconcile. Money leaves as "998.00" strings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fastapi import APIRouter, Query, Request

from app.db import SessionDep
from app.errors import NotFound
from app.models import InboxState
from app.money import rupees_or_none
from app.parsing import Malformed
from app.queue import commit_then_enqueue
from app.remittance import repository as repo
from app.remittance.models import CodRemittance, CodRemittanceLine, LineState, RemittancePollState
from app.remittance.payloads import dedupe_key, parse_remittance
from app.remittance.poller import DEFAULT_LOOKBACK_DAYS
from app.remittance.reconcile import DeliveredCod, batch_totals
from app.remittance.schemas import (
    LineView,
    OverdueView,
    PollerView,
    RemittanceDetail,
    RemittanceExceptions,
    RemittanceList,
    RemittanceRetry,
    RemittanceView,
)
from app.remittance.service import SETTLE_JOB, settle_job_id
from app.timeutil import ist_midnight, ist_today
from app.web.auth import OpsAuth
from app.web.inbound import Delivery
from app.web.validation import RemittanceId

router = APIRouter()


def _when(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


def remittance_view(rem: CodRemittance, lines: list[CodRemittanceLine]) -> RemittanceView:
    totals = batch_totals(rem.bank_transfer_amount, ((ln.cod_amount, ln.deducted_charges) for ln in lines))
    states = [ln.state for ln in lines]
    return RemittanceView(
        remittance_id=rem.remittance_id, utr=rem.utr, remittance_date=rem.remittance_date.isoformat(),
        sources=[s for s in rem.sources.split(",") if s],
        bank_transfer_amount=rupees_or_none(totals.bank_transfer_amount), gross=rupees_or_none(totals.gross),
        deductions=rupees_or_none(totals.deductions), expected_transfer=rupees_or_none(totals.expected_transfer),
        difference=rupees_or_none(totals.difference), mismatch=totals.mismatch,
        lines=len(lines), paid=states.count(LineState.paid), pending=states.count(LineState.pending),
        flagged=states.count(LineState.flagged))


def line_view(line: CodRemittanceLine) -> LineView:
    return LineView(
        remittance_id=line.remittance_id, awb=line.awb, order_id=line.order_id,
        cod_amount=rupees_or_none(line.cod_amount), deducted_charges=rupees_or_none(line.deducted_charges),
        deductions_allocated=line.deductions_allocated, source=line.source, state=line.state,
        problem=line.problem, detail=line.detail, salesorder_id=line.salesorder_id,
        salesorder_number=line.salesorder_number, invoice_id=line.invoice_id,
        invoice_number=line.invoice_number, invoice_balance=rupees_or_none(line.invoice_balance),
        payment_id=line.payment_id, payment_reference=line.payment_reference,
        paid_at=_when(line.paid_at), so_updated=line.so_updated, so_error=line.so_error)


def overdue_view(order: DeliveredCod, now: datetime) -> OverdueView:
    delivered = order.delivered_at or now
    return OverdueView(salesorder_id=order.salesorder_id, salesorder_number=order.salesorder_number, awb=order.awb,
                       tracking_status=order.tracking_status, delivered_at=delivered.isoformat(),
                       days_since_delivery=(now - delivered).days, cod_amount=rupees_or_none(order.declared_value))


def poller_view(state: RemittancePollState | None) -> PollerView | None:
    if state is None:
        return None
    return PollerView(polled_from=_when(state.polled_from), polled_through=_when(state.polled_through),
                      polled_at=_when(state.polled_at))


def overdue_since(start_date: date | None, polled_from: date | None, today: date) -> date:
    """Where remittance tracking began: REMITTANCE_START_DATE, else the earliest day the poller read,
    else (never polled) DEFAULT_LOOKBACK_DAYS back. Orders delivered before it are assumed settled by
    hand, so an upgrade never lists every old COD order as overdue."""
    return start_date or polled_from or today - timedelta(days=DEFAULT_LOOKBACK_DAYS)


@router.get("/ops/remittances")
async def list_remittances(_: OpsAuth, session: SessionDep,
                           limit: int = Query(50, ge=1, le=500)) -> RemittanceList:
    """Recent remittances, newest first, each with its totals check and line counts; and where the
    poller has read: `poller` for Shiprocket (null when it never ran), `pollers` for every aggregator."""
    rems = await repo.recent_remittances(session, limit)
    lines = await repo.lines_of(session, [r.remittance_id for r in rems])
    return RemittanceList(remittances=[remittance_view(r, lines[r.remittance_id]) for r in rems],
                          poller=poller_view(await repo.poll_state(session)),
                          pollers={state.name: poller_view(state) for state in await repo.poll_states(session)})


@router.get("/ops/remittances/exceptions")
async def remittance_exceptions(_: OpsAuth, session: SessionDep, request: Request) -> RemittanceExceptions:
    """Everything that does not reconcile: batch totals that differ from the bank transfer, lines not
    recorded (unknown AWB, no invoice, amount differing from the balance...), and COD orders delivered
    more than REMITTANCE_OVERDUE_DAYS ago with no remittance (RTO'd orders expect none)."""
    settings = request.app.state.settings
    days = settings.REMITTANCE_OVERDUE_DAYS
    now = datetime.now(UTC)
    rems = await repo.mismatched_remittances(session)
    lines = await repo.lines_of(session, [r.remittance_id for r in rems])
    state = await repo.poll_state(session)
    since = overdue_since(settings.REMITTANCE_START_DATE, state.polled_from if state else None,
                          ist_today(now))
    overdue = await repo.overdue_cod(session, ist_midnight(since), now - timedelta(days=days))
    return RemittanceExceptions(
        mismatches=[remittance_view(r, lines[r.remittance_id]) for r in rems],
        lines=[line_view(ln) for ln in await repo.exception_lines(session)],
        overdue=[overdue_view(o, now) for o in overdue],
        overdue_days=days,
        overdue_since=since.isoformat(),
    )


@router.get("/ops/remittances/{remittance_id}")
async def remittance_detail(remittance_id: RemittanceId, _: OpsAuth, session: SessionDep) -> RemittanceDetail:
    rem = await repo.remittance(session, remittance_id)
    if rem is None:
        raise NotFound(f"no remittance {remittance_id}")
    lines = await repo.lines(session, remittance_id)
    return RemittanceDetail(**remittance_view(rem, lines).model_dump(), orders=[line_view(ln) for ln in lines])


@router.post("/ops/remittances/{remittance_id}/retry")
async def retry_remittance(remittance_id: RemittanceId, _: OpsAuth, request: Request) -> RemittanceRetry:
    """After fixing the cause in Zoho (e.g. creating the missing invoice): settle flagged lines again."""
    svc = request.app.state.services
    async with commit_then_enqueue(svc.sessionmaker, svc.queue) as (session, jobs):
        if await repo.remittance(session, remittance_id) is None:
            raise NotFound(f"no remittance {remittance_id}")
        reopened = await repo.reopen_flagged(session, remittance_id)
        jobs.add(SETTLE_JOB, remittance_id, job_id=settle_job_id(remittance_id))
    return RemittanceRetry(remittance_id=remittance_id, reopened=reopened, enqueued=bool(jobs.enqueued))


# The integration guide's COD_REMITTANCE push, POST /webhooks/cod-remittance, served by
# app.webhooks.ingest: what a delivery is.
#
# Authenticated by `x-api-key` (= SHIPROCKET_WEBHOOK_TOKEN, as Shiprocket's tracking webhook is),
# deduplicated, and handled by the same job as the poller's batches. A malformed body is kept as invalid
# for a person to inspect. (Shiprocket documents no such webhook; the poller is what works against the
# real API. This endpoint serves feeds that push the guide's shape.)
def classify(raw: bytes, content_type: str) -> Delivery:
    try:
        remittance = parse_remittance(raw, content_type)
    except Malformed as exc:
        return Delivery(InboxState.invalid, str(exc), None, dedupe_key("hook", None, raw))
    return Delivery(InboxState.pending, None, remittance.remittance_id,
                    dedupe_key("hook", remittance.remittance_id, raw))
