"""The GoKwik RTO risk check in front of booking a COD order: ask once, record the answer in
rto_predictions, and hold the order (alerting ops) when its category is in GOKWIK_HOLD_RISK. GoKwik
down or erring ships the order and is counted; only a run of failures raises one alert a day."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import raise_alert
from app.fulfilment import repository
from app.fulfilment.risk import decide, needs_check
from app.fulfilment.rto_models import UNAVAILABLE
from app.fulfilment.transition import transition
from app.integrations.aggregator import ShipOrder
from app.integrations.gokwik.client import GoKwikUnavailable, RiskPrediction
from app.models import Shipment, ShipmentState
from app.services import Services
from app.timeutil import ist_today

log = logging.getLogger("shipbridge.fulfilment.risk")

RTO_CHECKS = Counter("shipbridge_rto_checks_total", "GoKwik RTO risk checks by outcome",
                     ["outcome"])  # held | shipped | unavailable


async def held_for_rto_risk(svc: Services, shipment: Shipment, order: ShipOrder) -> bool:
    """True when the order was put on hold (the caller stops). Checked once per order: a released
    order finds its prediction recorded and ships."""
    if svc.gokwik is None or not needs_check(order.payment_method, svc.settings.gokwik_configured):
        return False
    async with svc.sessionmaker() as session:
        if await repository.has_rto_prediction(session, shipment.salesorder_id):
            return False
    prediction: RiskPrediction | None
    try:
        prediction = await svc.gokwik.predict(order)
        failure = ""
    except GoKwikUnavailable as exc:
        prediction, failure = None, str(exc)
    decision = decide(prediction, svc.settings.gokwik_hold_risks)
    RTO_CHECKS.labels("unavailable" if prediction is None else "held" if decision.hold else "shipped").inc()
    async with svc.sessionmaker.begin() as session:
        inserted = await repository.insert_rto_prediction(
            session, salesorder_id=shipment.salesorder_id,
            category=prediction.category if prediction else UNAVAILABLE,
            reason=prediction.reason if prediction else failure[:1000],
            request_id=prediction.request_id if prediction else "", held=decision.hold,
            raw=prediction.raw if prediction else {}, requested_at=datetime.now(UTC))
        if inserted is None:
            return False  # another run decided first (and held it, if it had to)
        if prediction is None:
            log.warning("%s: GoKwik unavailable (%s); shipping without a risk check", shipment.salesorder_number,
                        failure)
            await _alert_if_failing(svc, session)
            return False
        if not decision.hold:
            return False
        await transition(session, shipment, "on_hold", decision.reason, state=ShipmentState.on_hold,
                         hold_reason=decision.reason)
        a = order.address
        await raise_alert(session, kind="rto_risk_hold", key=shipment.salesorder_id,
                          salesorder_id=shipment.salesorder_id,
                          message=f"{shipment.salesorder_number}: COD order held, {decision.reason}. Call "
                                  f"{a.name} on {a.phone}, then on the dashboard release it (ship COD), mark it "
                                  "paid online (ship prepaid) or cancel it.")
    return True


async def _alert_if_failing(svc: Services, session: AsyncSession) -> None:
    """One alert a day once the last GOKWIK_ALERT_AFTER_FAILURES checks all failed: a single blip is
    only counted, a GoKwik that stays down is worth a person's look (orders ship unchecked meanwhile)."""
    n = svc.settings.GOKWIK_ALERT_AFTER_FAILURES
    if n <= 0:
        return
    last = await repository.last_rto_categories(session, n)
    if len(last) < n or any(c != UNAVAILABLE for c in last):
        return
    day = ist_today().isoformat()  # the seller's day, not UTC's
    await raise_alert(session, kind="gokwik_unavailable", key=day,
                      message=f"GoKwik's RTO check failed for the last {n} COD orders; they shipped unchecked. "
                              "Check GOKWIK_API_URL / GOKWIK_APP_ID / GOKWIK_APP_SECRET / GOKWIK_MID and "
                              "GoKwik's status.")
