"""Recording COD remittances in Zoho Books, exactly once per line.

The inbox handler stores a batch and its lines (whichever source delivered it: the webhook or the
poller), then settles lines: find the sales order by AWB in our database, its invoice in Zoho, and
record one customer payment per line (gross COD applied in full, Shiprocket's deductions as bank
charges), then write cf_cod_remittance_id on the sales order. Each outcome is committed per line.

Exactly once: a line already paid in our table is skipped; before creating any payment the batch's
payments are searched in Books by reference number (`<remittance id>/<awb>`), so a payment Books made
just before a crash (our commit never happened) is adopted on the rerun instead of made again.
Settling is serialised by one advisory lock: batches are few, and two sources may deliver one batch
at once."""

from __future__ import annotations

import logging
import time
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from app.integrations.http import PermanentUpstreamError
from app.locks import advisory_lock
from app.models import InboxEvent, InboxState
from app.ops.alerts import raise_alert
from app.remittance import books
from app.remittance import repository as repo
from app.remittance.models import CodRemittance, CodRemittanceLine, LineProblem, LineState
from app.remittance.payloads import parse_remittance
from app.remittance.reconcile import InvoiceChoice, batch_totals, choose_invoice, payment_body, payment_reference_prefix
from app.services import Services

log = logging.getLogger("shipbridge.remittance")

SETTLE_JOB = "settle_cod_remittance"
SETTLE_CHUNK = 25  # lines per job run: ~3 Zoho calls each keeps one run well inside the job timeout
LOCK_NAME = "cod-remittance"
LOCK_WAIT_SECONDS = 60.0


def remittance_lock(engine: AsyncEngine, wait: float = LOCK_WAIT_SECONDS) -> AbstractAsyncContextManager[bool]:
    """One lock for all remittance settling: batches are few, and two sources may deliver one batch."""
    return advisory_lock(engine, LOCK_NAME, wait=wait)


@dataclass
class Settled:
    paid: int = 0
    flagged: int = 0
    remaining: bool = False

    def __str__(self) -> str:
        more = "; more lines queued" if self.remaining else ""
        return f"{self.paid} paid, {self.flagged} flagged{more}"


async def handle_remittance_event(svc: Services, event: InboxEvent) -> tuple[str, str | None]:
    """Inbox handler for Source.cod_remittance (webhook and poller deliveries alike)."""
    remittance = parse_remittance(event.body)
    source = "poller" if event.dedupe_key.startswith("poll:") else "webhook"
    async with remittance_lock(svc.engine) as held:
        if not held:
            return InboxState.pending, "remittances are being settled by another job; the sweeper retries this"
        async with svc.sessionmaker.begin() as session:
            rid, new_lines = await repo.store_remittance(session, remittance, source)
        outcome = await _settle(svc, rid)
    if outcome.remaining:
        await enqueue_settle(svc, rid)
    return InboxState.done, f"remittance {rid} via {source}: {new_lines} new line(s); {outcome}"


async def settle_remittance(svc: Services, remittance_id: str) -> str:
    """Job body: settle the next chunk of one remittance's lines and queue the rest."""
    async with remittance_lock(svc.engine) as held:
        if not held:
            await enqueue_settle(svc, remittance_id, defer_by=30)
            return "busy"
        outcome = await _settle(svc, remittance_id)
    if outcome.remaining:
        await enqueue_settle(svc, remittance_id)
    return str(outcome)


async def enqueue_settle(svc: Services, remittance_id: str, defer_by: float | None = None) -> bool:
    return await svc.queue.enqueue(SETTLE_JOB, remittance_id, defer_by=defer_by,
                                   job_id=f"remittance-settle:{remittance_id}:{time.time_ns()}")


async def _settle(svc: Services, remittance_id: str) -> Settled:
    async with svc.sessionmaker() as session:
        remittance = await repo.remittance(session, remittance_id)
        todo = await repo.lines_to_settle(session, remittance_id, SETTLE_CHUNK + 1)
    outcome = Settled(remaining=len(todo) > SETTLE_CHUNK)
    if remittance is None or not todo:
        return outcome
    todo = todo[:SETTLE_CHUNK]
    in_books: dict[str, dict[str, Any]] = {}
    if any(line.state == LineState.pending for line in todo):
        in_books = await books.payments_by_reference_prefix(svc.zoho, payment_reference_prefix(remittance_id))
    for line in todo:
        salesorder_id = line.salesorder_id if line.state == LineState.paid else None
        if line.state == LineState.pending:
            salesorder_id = await _record_line(svc, remittance, line, in_books)
            outcome.paid += salesorder_id is not None
            outcome.flagged += salesorder_id is None
        if salesorder_id:
            await _write_back(svc, remittance, line, salesorder_id)
    if not outcome.remaining:
        await _alert_if_needed(svc, remittance)
    return outcome


async def _record_line(svc: Services, remittance: CodRemittance, line: CodRemittanceLine,
                       in_books: dict[str, dict[str, Any]]) -> str | None:
    """Pay one line, or flag it. Returns the sales order id when the line is (now) paid."""
    async with svc.sessionmaker() as session:
        shipment = await repo.shipment_by_awb(session, line.awb)
    if shipment is None:
        await _flag(svc, line, LineProblem.unknown_awb,
                    f"AWB {line.awb} (Shiprocket order {line.order_id or '?'}) is not a shipment Shipbridge booked")
        return None
    so_id, so_number = shipment.salesorder_id, shipment.salesorder_number
    if shipment.payment_method != "COD":
        await _flag(svc, line, LineProblem.not_cod, f"{so_number} is {shipment.payment_method}, yet Shiprocket "
                    f"remitted ₹{line.cod_amount} for it", salesorder_id=so_id, salesorder_number=so_number)
        return None
    existing = in_books.get(line.payment_reference)
    if existing is not None:
        await _adopt(svc, line, existing, so_id, so_number)
        return so_id
    try:
        so = await books.salesorder(svc.zoho, so_id)
    except PermanentUpstreamError as exc:
        await _flag(svc, line, LineProblem.books_refused, f"reading {so_number} from Zoho: {exc.upstream_message}",
                    salesorder_id=so_id, salesorder_number=so_number)
        return None
    choice = choose_invoice(so.get("invoices") or [], line.cod_amount)
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
        description=f"Shiprocket COD remittance {remittance.remittance_id}{utr}: AWB {line.awb}, {so_number}; "
                    f"Shiprocket charges ₹{line.deducted_charges} as bank charges",
        payment_mode=s.REMITTANCE_PAYMENT_MODE, account_id=s.REMITTANCE_DEPOSIT_ACCOUNT_ID)
    try:
        payment = await books.create_payment(svc.zoho, payload)
    except PermanentUpstreamError as exc:
        # A POST retried after a lost reply can be refused as an overpayment: look before flagging.
        found = await books.payment_by_reference(svc.zoho, line.payment_reference)
        if found is not None:
            await _adopt(svc, line, found, so_id, so_number)
            return so_id
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
                               detail="payment already in Books (made before a crash); adopted, not repeated")
    log.warning("remittance %s AWB %s: adopted Books payment %s", line.remittance_id, line.awb,
                payment.get("payment_id"))


async def _flag(svc: Services, line: CodRemittanceLine, problem: LineProblem, detail: str, **values: Any) -> None:
    async with svc.sessionmaker.begin() as session:
        await repo.update_line(session, line.id, state=LineState.flagged, problem=problem, detail=detail, **values)
    log.warning("remittance %s AWB %s flagged %s: %s", line.remittance_id, line.awb, problem, detail)


async def _write_back(svc: Services, remittance: CodRemittance, line: CodRemittanceLine, salesorder_id: str) -> None:
    try:
        await books.write_remittance_id(svc.zoho, salesorder_id, svc.settings.CF_COD_REMITTANCE_ID,
                                        remittance.remittance_id)
    except PermanentUpstreamError as exc:
        async with svc.sessionmaker.begin() as session:
            await repo.update_line(session, line.id, so_error=f"writing {svc.settings.CF_COD_REMITTANCE_ID}: "
                                                              f"{exc.upstream_message}")
        return
    async with svc.sessionmaker.begin() as session:
        await repo.update_line(session, line.id, so_updated=True)


async def _alert_if_needed(svc: Services, remittance: CodRemittance) -> None:
    """Once per remittance: a total that does not add up, or lines a person must look at."""
    async with svc.sessionmaker.begin() as session:
        stored = await repo.lines(session, remittance.remittance_id)
        totals = batch_totals(remittance.bank_transfer_amount, ((ln.cod_amount, ln.deducted_charges) for ln in stored))
        rid = remittance.remittance_id
        if totals.mismatch:
            await raise_alert(session, kind="remittance_mismatch", key=rid,
                              message=f"COD remittance {rid}: bank transfer ₹{totals.bank_transfer_amount} but lines "
                                      f"add up to ₹{totals.expected_transfer} (difference ₹{totals.difference})")
        flagged = [ln for ln in stored if ln.state == LineState.flagged]
        if flagged:
            kinds = ", ".join(sorted({str(ln.problem) for ln in flagged}))
            await raise_alert(session, kind="remittance_exceptions", key=rid,
                              message=f"COD remittance {rid}: {len(flagged)} line(s) not recorded in Books ({kinds}); "
                                      "see /ops/remittances/exceptions")
