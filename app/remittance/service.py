"""Recording COD remittances in Zoho Books, exactly once per line.

The inbox handler (app/remittance/handler.py; webhook and poller deliveries alike) only stores: the
batch and each line not yet stored, briefly under the `cod-remittance-store` lock (so a batch named by
its crf_id by one source and by its UTR by the other is still stored once); it checks the batch's totals
(a `remittance_mismatch` alert) and queues `settle_cod_remittance`. That job settles up to SETTLE_CHUNK
lines per run under its remittance's own lock: find the shipment by AWB in our database, its invoice in
Zoho, record one customer payment per line (gross COD applied in full, Shiprocket's deductions as bank
charges), then write cf_cod_remittance_id on the sales order. Each outcome is committed per line; the
rest of a batch continues in follow-up jobs, and the sweeper (`resume_remittances`) re-queues any
remittance whose lines still wait with no job at work on them.

Exactly once: a line already paid in our table is skipped. A line is stamped `posting_at` just before
its payment is POSTed; when a run meets stamped lines still unpaid (the reply was lost, or the worker
died before our commit), it first searches Books once for the batch's reference numbers
(`<remittance id>/...`) and adopts a payment it finds instead of making it again. Lines never stamped
cannot have a payment of ours, so a first run costs no search."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import raise_alert
from app.integrations.http import PermanentUpstreamError
from app.integrations.shipping import display_name
from app.locks import advisory_lock
from app.parsing import Malformed
from app.remittance import books
from app.remittance import repository as repo
from app.remittance.models import CodRemittance, CodRemittanceLine, LineProblem, LineState
from app.remittance.reconcile import InvoiceChoice, batch_totals, choose_invoice, payment_body, payment_reference_prefix
from app.services import Services

log = logging.getLogger("shipbridge.remittance")

SETTLE_JOB = "settle_cod_remittance"
SETTLE_CHUNK = 25  # lines per job run: 3 Zoho calls each keeps one run well inside the job timeout
BUSY_RETRY_SECONDS = 30.0


def settle_lock_name(remittance_id: str) -> str:
    return f"cod-remittance:{remittance_id}"


@dataclass
class Settled:
    paid: int = 0
    flagged: int = 0
    remaining: bool = False

    def __str__(self) -> str:
        more = "; more lines queued" if self.remaining else ""
        return f"{self.paid} paid, {self.flagged} flagged{more}"


async def settle_remittance(svc: Services, remittance_id: str) -> str:
    """Job body: settle the next chunk of one remittance's lines and queue the rest."""
    async with advisory_lock(svc.engine, settle_lock_name(remittance_id)) as held:
        if not held:
            # Another run is settling this remittance; it re-checks for lines left before it ends. One
            # deferred retry under a stable id covers a line stored just too late for that check, and
            # busy runs never multiply jobs (a repeat is refused while one is queued or remembered).
            await svc.queue.enqueue(SETTLE_JOB, remittance_id, defer_by=BUSY_RETRY_SECONDS,
                                    job_id=f"remittance-settle:{remittance_id}:busy")
            return "busy"
        outcome = await _settle(svc, remittance_id)
    if outcome.remaining:
        await enqueue_settle(svc, remittance_id)
    return str(outcome)


def settle_job_id(remittance_id: str) -> str:
    """A fresh id each time: a settle asked for after lines were stored or reopened must run, even while
    an earlier one is remembered by arq."""
    return f"remittance-settle:{remittance_id}:{time.time_ns()}"


async def enqueue_settle(svc: Services, remittance_id: str) -> bool:
    return await svc.queue.enqueue(SETTLE_JOB, remittance_id, job_id=settle_job_id(remittance_id))


async def resume_remittances(svc: Services, stale: datetime) -> int:
    """Sweeper resumer: queue a settle job for each remittance with lines still to settle (pending, or
    paid but not written back) and nothing touched since `stale`. Returns how many were queued."""
    async with svc.sessionmaker() as session:
        waiting = await repo.remittances_to_resume(session, stale)
    queued = 0
    for remittance_id in waiting:
        queued += await enqueue_settle(svc, remittance_id)
    return queued


async def _settle(svc: Services, remittance_id: str) -> Settled:
    async with svc.sessionmaker() as session:
        remittance = await repo.remittance(session, remittance_id)
        todo = await repo.lines_to_settle(session, remittance_id, SETTLE_CHUNK)
    outcome = Settled()
    if remittance is None or not todo:
        return outcome
    in_books: dict[str, dict[str, Any]] = {}
    if any(line.state == LineState.pending and line.posting_at is not None for line in todo):
        in_books = await books.payments_by_reference_prefix(svc.zoho, payment_reference_prefix(remittance_id))
    read: dict[str, dict[str, Any]] = {}  # sales orders read this run: the write-back PUT restates them
    for line in todo:
        salesorder_id = line.salesorder_id if line.state == LineState.paid else None
        if line.state == LineState.pending:
            salesorder_id = await _record_line(svc, remittance, line, in_books, read)
            outcome.paid += salesorder_id is not None
            outcome.flagged += salesorder_id is None
        if salesorder_id:
            await _write_back(svc, remittance, line, salesorder_id, read.get(salesorder_id))
    async with svc.sessionmaker.begin() as session:
        # Asked afresh (not from the chunk read above): lines stored meanwhile by the other source count.
        # This run's own lines never do: one it could not move on is the sweeper's, not an endless loop.
        outcome.remaining = bool(await repo.lines_to_settle(session, remittance_id, 1,
                                                            besides=[line.id for line in todo]))
        if not outcome.remaining:
            await _alert_flagged(session, remittance_id)
    return outcome


async def _record_line(svc: Services, remittance: CodRemittance, line: CodRemittanceLine,
                       in_books: dict[str, dict[str, Any]], read: dict[str, dict[str, Any]],
                       use_seen: bool = True) -> str | None:
    """Pay one line, or flag it. Returns the sales order id when the line is (now) paid.

    The invoice comes from the order's invoices[] as last seen (intake, the AWB write-back's reply) when
    that shows exactly one open invoice whose balance is this amount: no read. It may be stale (voided,
    part-paid since): Books then refuses the payment, which records nothing, and the line is tried once
    more on a fresh read. Anything less clear-cut is decided on a fresh read, as before. A read is kept
    in `read`: the write-back PUT restates the order from it."""
    async with svc.sessionmaker() as session:
        shipment = await repo.shipment_by_awb(session, line.awb)
    if shipment is None:
        await _flag(svc, line, LineProblem.unknown_awb,
                    f"AWB {line.awb} (order {line.order_id or '?'}) is not a shipment Shipbridge booked")
        return None
    so_id, so_number = shipment.salesorder_id, shipment.salesorder_number
    carrier = display_name(shipment.aggregator)  # the aggregator that booked it, and so remits for it
    if shipment.payment_method != "COD":
        await _flag(svc, line, LineProblem.not_cod, f"{so_number} is {shipment.payment_method}, yet {carrier} "
                    f"remitted ₹{line.cod_amount} for it", salesorder_id=so_id, salesorder_number=so_number)
        return None
    existing = in_books.get(line.payment_reference)
    if existing is not None:
        await _adopt(svc, line, existing, so_id, so_number)
        return so_id
    so: dict[str, Any] = {}
    seen = choose_invoice(shipment.zoho_invoices, line.cod_amount) if use_seen and shipment.zoho_invoices else None
    use_seen = seen is not None and seen.pay and seen.problem is None
    try:
        if use_seen:
            assert seen is not None
            choice = seen
        else:
            so = read[so_id] = await svc.zoho.get_salesorder(so_id)
            choice = choose_invoice(so.get("invoices") or [], line.cod_amount)
    except (PermanentUpstreamError, Malformed) as exc:
        reason = exc.upstream_message if isinstance(exc, PermanentUpstreamError) else str(exc)
        await _flag(svc, line, LineProblem.books_refused, f"reading {so_number} from Zoho: {reason}",
                    salesorder_id=so_id, salesorder_number=so_number)
        return None
    if not choice.pay:
        await _flag(svc, line, choice.problem or LineProblem.no_invoice, choice.detail or "", salesorder_id=so_id,
                    salesorder_number=so_number, invoice_number=choice.invoice_number,
                    invoice_balance=choice.balance)
        return None
    assert choice.invoice_id is not None
    s = svc.settings
    utr = f" (UTR {remittance.utr})" if remittance.utr else ""
    payload = payment_body(
        customer_id=str(so.get("customer_id") or shipment.order.get("customer_id") or ""), amount=line.cod_amount,
        bank_charges=line.deducted_charges, invoice_id=choice.invoice_id,
        date=remittance.remittance_date.isoformat(), reference=line.payment_reference,
        description=f"{carrier} COD remittance {remittance.remittance_id}{utr}: AWB {line.awb}, {so_number}; "
                    f"{carrier} charges ₹{line.deducted_charges} as bank charges",
        payment_mode=s.REMITTANCE_PAYMENT_MODE, account_id=s.REMITTANCE_DEPOSIT_ACCOUNT_ID)
    async with svc.sessionmaker.begin() as session:  # from here on, Books may hold a payment for this line
        await repo.update_line(session, line.id, posting_at=datetime.now(UTC))
    try:
        payment = await books.create_payment(svc.zoho, payload)
    except PermanentUpstreamError as exc:
        # The POST is never re-sent by the HTTP layer (retry_uncertain=False), so this refusal is Zoho's
        # answer to our only attempt: nothing was recorded.
        if use_seen:
            log.info("remittance %s AWB %s: Books refused the invoice last seen (%s); reading %s afresh",
                     line.remittance_id, line.awb, exc.upstream_message, so_number)
            return await _record_line(svc, remittance, line, in_books, read, use_seen=False)
        await _flag(svc, line, LineProblem.books_refused, f"Zoho refused the payment: {exc.upstream_message}",
                    salesorder_id=so_id, salesorder_number=so_number, invoice_id=choice.invoice_id,
                    invoice_number=choice.invoice_number, invoice_balance=choice.balance)
        return None
    await _payment_recorded(svc, line, payment, choice, so_id, so_number)
    return so_id


async def _payment_recorded(svc: Services, line: CodRemittanceLine, payment: dict[str, Any], choice: InvoiceChoice,
                            salesorder_id: str, salesorder_number: str) -> None:
    async with svc.sessionmaker.begin() as session:
        await repo.update_line(session, line.id, state=LineState.paid, payment_id=str(payment.get("payment_id") or ""),
                               paid_at=datetime.now(UTC), salesorder_id=salesorder_id,
                               salesorder_number=salesorder_number, invoice_id=choice.invoice_id,
                               invoice_number=choice.invoice_number, invoice_balance=choice.balance,
                               problem=choice.problem, detail=choice.detail)
    log.info("remittance %s AWB %s: paid ₹%s to %s (%s)", line.remittance_id, line.awb, line.cod_amount,
             choice.invoice_number, salesorder_number)


async def _adopt(svc: Services, line: CodRemittanceLine, payment: dict[str, Any], salesorder_id: str,
                 salesorder_number: str) -> None:
    async with svc.sessionmaker.begin() as session:
        await repo.update_line(session, line.id, state=LineState.paid, payment_id=str(payment.get("payment_id") or ""),
                               paid_at=datetime.now(UTC), salesorder_id=salesorder_id,
                               salesorder_number=salesorder_number,
                               invoice_number=str(payment.get("invoice_numbers") or "") or None,
                               detail="payment already in Books (its reply was lost, or the worker stopped "
                                      "before recording it); adopted, not repeated")
    log.warning("remittance %s AWB %s: adopted Books payment %s", line.remittance_id, line.awb,
                payment.get("payment_id"))


async def _flag(svc: Services, line: CodRemittanceLine, problem: LineProblem, detail: str, **values: Any) -> None:
    async with svc.sessionmaker.begin() as session:
        await repo.update_line(session, line.id, state=LineState.flagged, problem=problem, detail=detail, **values)
    log.warning("remittance %s AWB %s flagged %s: %s", line.remittance_id, line.awb, problem, detail)


async def _write_back(svc: Services, remittance: CodRemittance, line: CodRemittanceLine, salesorder_id: str,
                      current: dict[str, Any] | None = None) -> None:
    field = svc.settings.CF_COD_REMITTANCE_ID
    if not svc.settings.REMITTANCE_WRITE_SALESORDER:
        # Off by default: the payment (reference <remittance id>/<AWB>) already says it in Books, and the
        # write would cost every COD order a seventh Zoho call of the day's quota (docs/BENCHMARKS.md).
        async with svc.sessionmaker.begin() as session:
            await repo.update_line(session, line.id, so_updated=True)
        return
    try:
        await svc.zoho.update_salesorder_custom_fields(salesorder_id, {field: remittance.remittance_id}, current)
    except PermanentUpstreamError as exc:
        async with svc.sessionmaker.begin() as session:
            await repo.update_line(session, line.id, so_error=f"writing {field}: {exc.upstream_message}")
        return
    async with svc.sessionmaker.begin() as session:
        await repo.update_line(session, line.id, so_updated=True)


async def check_totals(session: AsyncSession, remittance_id: str) -> None:
    """Once per remittance, as soon as it is stored: a bank transfer its lines do not add up to."""
    amount = await repo.bank_transfer_amount(session, remittance_id)
    gross, deductions = await repo.recorded_totals(session, remittance_id)
    totals = batch_totals(amount, [(gross, deductions)])
    if totals.mismatch:
        await raise_alert(session, kind="remittance_mismatch", key=remittance_id,
                          message=f"COD remittance {remittance_id}: bank transfer ₹{totals.bank_transfer_amount} "
                                  f"but lines add up to ₹{totals.expected_transfer} (difference ₹{totals.difference})")


async def _alert_flagged(session: AsyncSession, remittance_id: str) -> None:
    """Once per remittance, when no line is left to settle: lines a person must look at."""
    flagged = [ln for ln in await repo.lines(session, remittance_id) if ln.state == LineState.flagged]
    if flagged:
        kinds = ", ".join(sorted({str(ln.problem) for ln in flagged}))
        await raise_alert(session, kind="remittance_exceptions", key=remittance_id,
                          message=f"COD remittance {remittance_id}: {len(flagged)} line(s) not recorded in Books "
                                  f"({kinds}); see /ops/remittances/exceptions")
