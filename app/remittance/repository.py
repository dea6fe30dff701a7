"""Every query remittance makes: storing a batch and its lines once, reading lines to settle, the
poller's cursor and candidates, and the views ops reads."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy import func, literal, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Shipment
from app.remittance.models import TO_SETTLE_SQL, CodRemittance, CodRemittanceLine, LineState, RemittancePollState
from app.remittance.payloads import ZERO, Remittance
from app.remittance.reconcile import DeliveredCod, expects_remittance, payment_reference

POLLER = "shiprocket"  # the poll state shown when no aggregator is named (ops views)


async def find_remittance(session: AsyncSession, *keys: str | None) -> CodRemittance | None:
    """The stored batch known under any of `keys`, as its id or its UTR: the webhook's remittance_id
    is Shiprocket's crf_id (the simulator and the guide's field name agree), but if a seller's feed
    sends the UTR instead, the poller's (crf_id, utr) still lands on the same record."""
    wanted = [k for k in keys if k]
    if not wanted:
        return None
    return await session.scalar(
        select(CodRemittance).where(or_(CodRemittance.remittance_id.in_(wanted), CodRemittance.utr.in_(wanted)))
        .order_by(CodRemittance.id).limit(1))


async def store_remittance(session: AsyncSession, remittance: Remittance, source: str) -> tuple[str, int]:
    """Insert the batch (or merge into the one already stored) and each line not already stored.
    Returns (the stored remittance id, lines newly stored). Safe to run any number of times."""
    existing = await find_remittance(session, remittance.remittance_id, remittance.utr)
    if existing is None:
        await session.execute(insert(CodRemittance).values(
            remittance_id=remittance.remittance_id, utr=remittance.utr, remittance_date=remittance.remittance_date,
            bank_transfer_amount=remittance.bank_transfer_amount, sources=source,
            created_at=datetime.now(UTC), updated_at=datetime.now(UTC))
            .on_conflict_do_nothing(index_elements=[CodRemittance.remittance_id]))
        existing = await find_remittance(session, remittance.remittance_id)
        assert existing is not None
    else:
        sources = sorted(set(filter(None, existing.sources.split(","))) | {source})
        # What the API lists as remitted is what reached the bank: it wins over a pushed figure.
        amount = remittance.bank_transfer_amount if source == "poller" else existing.bank_transfer_amount
        await session.execute(update(CodRemittance).where(CodRemittance.id == existing.id).values(
            utr=existing.utr or remittance.utr, sources=",".join(sources), bank_transfer_amount=amount,
            updated_at=datetime.now(UTC)))
    rid = existing.remittance_id
    stored = 0
    for line in remittance.lines:
        result = await session.execute(insert(CodRemittanceLine).values(
            remittance_id=rid, awb=line.awb, order_id=line.order_id, cod_amount=line.cod_amount,
            deducted_charges=line.deducted_charges, deductions_allocated=remittance.deductions_allocated,
            source=source, state=LineState.pending, payment_reference=payment_reference(rid, line.awb),
            so_updated=False, created_at=datetime.now(UTC), updated_at=datetime.now(UTC))
            .on_conflict_do_nothing(constraint="uq_cod_line_remittance_awb").returning(CodRemittanceLine.id))
        stored += result.scalar_one_or_none() is not None
    return rid, stored


async def remittance(session: AsyncSession, remittance_id: str) -> CodRemittance | None:
    return await session.scalar(select(CodRemittance).where(CodRemittance.remittance_id == remittance_id))


async def bank_transfer_amount(session: AsyncSession, remittance_id: str) -> Decimal:
    """Read afresh (store_remittance may just have changed it)."""
    amount = await session.scalar(select(CodRemittance.bank_transfer_amount).where(
        CodRemittance.remittance_id == remittance_id))
    return Decimal(amount if amount is not None else 0)


async def lines(session: AsyncSession, remittance_id: str) -> list[CodRemittanceLine]:
    return list((await session.execute(select(CodRemittanceLine).where(
        CodRemittanceLine.remittance_id == remittance_id).order_by(CodRemittanceLine.id))).scalars())


async def lines_to_settle(session: AsyncSession, remittance_id: str, limit: int,
                          besides: Collection[int] = ()) -> list[CodRemittanceLine]:
    """Pending lines, and paid lines whose sales order still lacks cf_cod_remittance_id (other than the
    line ids `besides`)."""
    query = select(CodRemittanceLine).where(CodRemittanceLine.remittance_id == remittance_id, text(TO_SETTLE_SQL))
    if besides:
        query = query.where(CodRemittanceLine.id.not_in(list(besides)))
    return list((await session.execute(query.order_by(CodRemittanceLine.id).limit(limit))).scalars())


async def update_line(session: AsyncSession, line_id: int, **values: Any) -> None:
    values["updated_at"] = datetime.now(UTC)
    await session.execute(update(CodRemittanceLine).where(CodRemittanceLine.id == line_id).values(**values))


async def reopen_flagged(session: AsyncSession, remittance_id: str) -> int:
    result = await session.execute(update(CodRemittanceLine).where(
        CodRemittanceLine.remittance_id == remittance_id, CodRemittanceLine.state == LineState.flagged)
        .values(state=LineState.pending, problem=None, detail=None, updated_at=datetime.now(UTC)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def remittances_to_resume(session: AsyncSession, stale: datetime, limit: int = 100) -> list[str]:
    """Remittances with lines still to settle (pending, or paid but not written back) and no line touched
    since `stale`: their settle job was lost (Redis flushed, worker killed) or never queued."""
    other = CodRemittanceLine.__table__.alias("other")
    touched = select(literal(1)).where(other.c.remittance_id == CodRemittanceLine.remittance_id,
                                       other.c.updated_at >= stale).exists()
    return list((await session.execute(select(CodRemittanceLine.remittance_id).where(
        text(TO_SETTLE_SQL), ~touched).group_by(CodRemittanceLine.remittance_id)
        .order_by(func.min(CodRemittanceLine.id)).limit(limit))).scalars())


async def shipment_by_awb(session: AsyncSession, awb: str) -> Shipment | None:
    return await session.scalar(select(Shipment).where(Shipment.awb == awb))


async def recorded_totals(session: AsyncSession, remittance_id: str) -> tuple[Decimal, Decimal]:
    """(sum of cod_amount, sum of deducted_charges) of the lines stored for a remittance."""
    row = (await session.execute(select(
        func.coalesce(func.sum(CodRemittanceLine.cod_amount), 0),
        func.coalesce(func.sum(CodRemittanceLine.deducted_charges), 0)).where(
        CodRemittanceLine.remittance_id == remittance_id))).one()
    return Decimal(row[0] or 0), Decimal(row[1] or 0)


# --- the poller ----------------------------------------------------------------------------------------

async def poll_state(session: AsyncSession, aggregator: str = POLLER) -> RemittancePollState | None:
    return await session.get(RemittancePollState, aggregator)


async def poll_states(session: AsyncSession) -> list[RemittancePollState]:
    """Every aggregator's poll state, by name."""
    return list((await session.execute(select(RemittancePollState).order_by(RemittancePollState.name))).scalars())


async def polled_through(session: AsyncSession, aggregator: str = POLLER) -> date | None:
    state = await poll_state(session, aggregator)
    return state.polled_through if state else None


async def set_polled(session: AsyncSession, start: date, through: date, aggregator: str = POLLER) -> None:
    """A poll of `aggregator` read `start`..`through`: keep the earliest start ever read, and the latest end."""
    now = datetime.now(UTC)
    table = RemittancePollState.__table__
    stmt = insert(RemittancePollState).values(name=aggregator, polled_from=start, polled_through=through,
                                              polled_at=now)
    await session.execute(stmt.on_conflict_do_update(index_elements=[RemittancePollState.name], set_={
        "polled_from": func.least(table.c.polled_from, stmt.excluded.polled_from),
        "polled_through": through, "polled_at": now}))


async def first_shipment_day(session: AsyncSession, tz: tzinfo, aggregator: str | None = None) -> date | None:
    query = select(func.min(Shipment.created_at))
    first = await session.scalar(query.where(Shipment.aggregator == aggregator) if aggregator else query)
    return first.astimezone(tz).date() if first else None


async def polled_batches(session: AsyncSession, keys: list[str]) -> set[str]:
    """Of these crf_ids/UTRs, the ones a poll has already stored."""
    rows = (await session.execute(select(CodRemittance.remittance_id, CodRemittance.utr).where(
        or_(CodRemittance.remittance_id.in_(keys), CodRemittance.utr.in_(keys)),
        CodRemittance.sources.contains("poller")))).all()
    return {k for row in rows for k in row if k}


async def expected_cod(session: AsyncSession, awbs: Collection[str]) -> dict[str, tuple[Decimal, str]]:
    """What we expect each AWB's courier to have collected (the COD order total) and its channel order id."""
    rows = await session.execute(select(Shipment.awb, Shipment.declared_value, Shipment.channel_order_id).where(
        Shipment.awb.in_(list(awbs)), Shipment.payment_method == "COD"))
    return {awb: (Decimal(value), channel) for awb, value, channel in rows.all() if awb}


@dataclass(frozen=True)
class UnremittedCod:
    awb: str
    sr_order_id: str
    channel_order_id: str
    payment_method: str
    tracking_status: str | None


async def unremitted_cod_shipments(session: AsyncSession, since: datetime, until: datetime,
                                   aggregator: str = POLLER) -> list[UnremittedCod]:
    """COD shipments booked with `aggregator` that no remittance line names yet, delivered (or, with no
    delivery known, booked) in `since`..`until`: delivered ones first, newest first, since a batch pays
    for recent deliveries. The bounds keep old orders (say, from before the remittance feature) out."""
    remitted = select(CodRemittanceLine.id).where(CodRemittanceLine.awb == Shipment.awb).exists()
    when = func.coalesce(Shipment.delivered_at, Shipment.created_at)
    rows = await session.execute(select(
        Shipment.awb, Shipment.sr_order_id, Shipment.channel_order_id, Shipment.payment_method,
        Shipment.tracking_status).where(
        Shipment.payment_method == "COD", Shipment.awb.is_not(None), Shipment.sr_order_id.is_not(None),
        Shipment.aggregator == aggregator, when >= since, when < until, ~remitted)
        .order_by(Shipment.delivered_at.is_(None), when.desc(), Shipment.id.desc()))
    return [UnremittedCod(awb or "", sr_order_id or "", channel_order_id, method, status)
            for awb, sr_order_id, channel_order_id, method, status in rows.all()]


# --- ops views --------------------------------------------------------------------------------------------

async def recent_remittances(session: AsyncSession, limit: int = 100) -> list[CodRemittance]:
    return list((await session.execute(select(CodRemittance).order_by(
        CodRemittance.remittance_date.desc(), CodRemittance.id.desc()).limit(limit))).scalars())


async def lines_of(session: AsyncSession, remittance_ids: list[str]) -> dict[str, list[CodRemittanceLine]]:
    out: dict[str, list[CodRemittanceLine]] = {rid: [] for rid in remittance_ids}
    rows = await session.execute(select(CodRemittanceLine).where(
        CodRemittanceLine.remittance_id.in_(remittance_ids)).order_by(CodRemittanceLine.id))
    for line in rows.scalars():
        out[line.remittance_id].append(line)
    return out


async def mismatched_remittances(session: AsyncSession, limit: int = 100) -> list[CodRemittance]:
    """Remittances whose bank transfer differs from what their lines add up to, newest first."""
    expected = func.coalesce(func.sum(CodRemittanceLine.cod_amount - CodRemittanceLine.deducted_charges), ZERO)
    return list((await session.execute(select(CodRemittance).outerjoin(
        CodRemittanceLine, CodRemittanceLine.remittance_id == CodRemittance.remittance_id)
        .group_by(CodRemittance.id).having(CodRemittance.bank_transfer_amount != expected)
        .order_by(CodRemittance.remittance_date.desc(), CodRemittance.id.desc()).limit(limit))).scalars())


async def exception_lines(session: AsyncSession, limit: int = 500) -> list[CodRemittanceLine]:
    return list((await session.execute(select(CodRemittanceLine).where(
        or_(CodRemittanceLine.problem.is_not(None), CodRemittanceLine.so_error.is_not(None)))
        .order_by(CodRemittanceLine.id.desc()).limit(limit))).scalars())


async def overdue_cod(session: AsyncSession, delivered_since: datetime, delivered_before: datetime,
                      limit: int = 500) -> list[DeliveredCod]:
    """COD orders delivered in `delivered_since`..`delivered_before` that no remittance line names and
    that expect cash (not RTO'd, lost or cancelled: `expects_remittance`), oldest delivery first."""
    remitted = select(CodRemittanceLine.id).where(CodRemittanceLine.awb == Shipment.awb).exists()
    rows = await session.execute(select(Shipment).where(
        Shipment.payment_method == "COD", Shipment.awb.is_not(None), Shipment.delivered_at >= delivered_since,
        Shipment.delivered_at < delivered_before, ~remitted).order_by(Shipment.delivered_at, Shipment.id)
        .limit(limit))
    return [DeliveredCod(salesorder_id=s.salesorder_id, salesorder_number=s.salesorder_number, awb=s.awb or "",
                         tracking_status=s.tracking_status, delivered_at=s.delivered_at,
                         declared_value=s.declared_value)
            for s in rows.scalars() if expects_remittance(s.payment_method, s.tracking_status)]
