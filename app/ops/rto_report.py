"""RTO risk against what happened: each GoKwik prediction joined with its shipment's courier, pincode and
tracking outcome, so a seller can see whether held categories really come back more often, per courier
and per pincode. `GET /ops/reports/rto-risk` (JSON, counts) and `GET /ops/reports/rto-risk.csv` (rows)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, date, datetime, time
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.fulfilment import repository
from app.models import ShipmentState
from app.ops.schemas import RtoRiskReport
from app.services import Services
from app.web.auth import OperatorDep

router = APIRouter()
CSV_COLUMNS = ("salesorder_id", "salesorder_number", "requested_at", "category", "reason", "held",
               "payment_method", "courier", "pincode", "state", "tracking_status", "outcome")
OUTCOMES = ("delivered", "rto", "cancelled", "lost", "held", "in_transit")


def outcome_of(state: str | None, tracking_status: str | None) -> str:
    """The parcel's fate in the report's words: delivered, rto, cancelled, lost, held or in_transit."""
    t = tracking_status or ""
    if t == "delivered":
        return "delivered"
    if t.startswith("rto"):
        return "rto"  # counted from RTO initiated: the parcel is coming back whatever happens next
    if t == "lost":
        return "lost"
    if state == ShipmentState.cancelled or t == "cancelled":
        return "cancelled"
    if state == ShipmentState.on_hold:
        return "held"
    return "in_transit"


async def report_rows(svc: Services, since: date | None, until: date | None) -> list[dict[str, Any]]:
    async with svc.sessionmaker() as session:
        pairs = await repository.predictions_with_shipments(
            session, datetime.combine(since, time.min, UTC) if since else None,
            datetime.combine(until, time.max, UTC) if until else None)
    rows = []
    for p, s in pairs:
        address = ((s.order if s else None) or {}).get("address") or {}
        rows.append({"salesorder_id": p.salesorder_id, "salesorder_number": s.salesorder_number if s else "",
                     "requested_at": p.requested_at.isoformat(), "category": p.category, "reason": p.reason,
                     "held": p.held, "payment_method": s.payment_method if s else "",
                     "courier": (s.courier_name if s else None) or "", "pincode": address.get("pincode", ""),
                     "state": s.state if s else "", "tracking_status": (s.tracking_status if s else None) or "",
                     "outcome": outcome_of(s.state if s else None, s.tracking_status if s else None)})
    return rows


def summarise(rows: list[dict[str, Any]], by: str) -> dict[str, Any]:
    """Counts per category x outcome, overall and per `by` (courier or pincode), with the RTO rate among
    parcels whose fate is known (delivered or RTO)."""
    def table(subset: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = defaultdict(lambda: {o: 0 for o in OUTCOMES} | {"orders": 0})
        for r in subset:
            cell = out[r["category"]]
            cell["orders"] += 1
            cell[r["outcome"]] += 1
        for cell in out.values():
            settled = cell["delivered"] + cell["rto"]
            cell["rto_rate"] = round(cell["rto"] / settled, 3) if settled else None
        return dict(out)

    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[r[by] or "-"].append(r)
    return {"orders": len(rows), "by_category": table(rows),
            f"by_{by}": {key: table(subset) for key, subset in sorted(groups.items())}}


def _cell(value: Any) -> Any:
    # GoKwik's reason and the address are outside text: never let a spreadsheet run them as a formula.
    return "'" + value if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") else value


def _services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


# exclude_unset: the grouping `by` did not ask for (by_courier or by_pincode) is left out, not null.
@router.get("/ops/reports/rto-risk", tags=["ops"], response_model=RtoRiskReport, response_model_exclude_unset=True)
async def rto_risk_report(request: Request, _: OperatorDep, since: date | None = None, until: date | None = None,
                          by: str = Query("courier", pattern="^(courier|pincode)$")) -> RtoRiskReport:
    """GoKwik's predicted risk against the outcome, per category and per courier or pincode."""
    rows = await report_rows(_services(request), since, until)
    return RtoRiskReport(since=since.isoformat() if since else None, until=until.isoformat() if until else None,
                         **summarise(rows, by))


@router.get("/ops/reports/rto-risk.csv", tags=["ops"])
async def rto_risk_csv(request: Request, _: OperatorDep, since: date | None = None,
                       until: date | None = None) -> Response:
    """One row per prediction, for a spreadsheet."""
    rows = await report_rows(_services(request), since, until)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: _cell(v) for k, v in r.items()} for r in rows)
    return Response(buf.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="rto-risk.csv"'})
