"""Whether a COD order waits for a person before it is booked, from GoKwik's RTO risk category. Pure:
no GoKwik answer (down, slow, an error) always means ship, because a missing risk check must never
cost a seller an order."""

from __future__ import annotations

from dataclasses import dataclass

from app.integrations.gokwik.client import RiskPrediction

RTO_RISK = "RTO risk"  # hold_reason prefix; the Zoho label follows it (app.fulfilment.state.hold_label)
RTO_HOLD_ACTIONS = ("release_cod", "ship_prepaid", "cancel")  # app/ops/rto_actions.py


@dataclass(frozen=True)
class RiskDecision:
    hold: bool
    reason: str  # the hold_reason when held; why it ships otherwise


def needs_check(payment_method: str, configured: bool) -> bool:
    # A prepaid order is already paid for: there is no COD to lose to a refusal at the door.
    return configured and payment_method == "COD"


def decide(prediction: RiskPrediction | None, hold_risks: frozenset[str]) -> RiskDecision:
    if prediction is None:
        return RiskDecision(False, "GoKwik unavailable: shipped without a risk check")
    why = f"GoKwik {prediction.category} risk" + (f": {prediction.reason}" if prediction.reason else "")
    if prediction.category.lower() in hold_risks:
        return RiskDecision(True, f"{RTO_RISK}: {why}")
    return RiskDecision(False, why)
