"""Courier choice: the seller's rules table first, then a fallback mode. Pure; the decision carries
a sentence saying why, which is stored on the shipment and shown to ops."""

from __future__ import annotations

from dataclasses import dataclass

from app.integrations.aggregator import CourierOption, Serviceability, ShipOrder
from app.integrations.shipping import display_name
from app.rules import CourierRules


@dataclass(frozen=True)
class CourierDecision:
    courier: CourierOption
    reason: str


def _cheapest(options: list[CourierOption]) -> CourierOption:
    return min(options, key=lambda o: (o.rate, o.etd_days if o.etd_days is not None else 99, o.courier_id))


def choose_courier(order: ShipOrder, serviceability: Serviceability, rules: CourierRules) -> CourierDecision | None:
    options = list(serviceability.options)
    if not options:
        return None
    tier = rules.tier(order)
    for rule in rules.rules:
        if not rule.matches(order, tier):
            continue
        allowed = [o for o in options if rule.aggregator is None or o.aggregator == rule.aggregator]
        on = f" on {rule.aggregator}" if rule.aggregator else ""
        for preferred in rule.prefer:
            hits = [o for o in allowed if preferred.lower() in o.name.lower()]
            if hits:
                pick = _cheapest(hits)
                return CourierDecision(pick, f"rule '{rule.name}' prefers {preferred}{on}: {pick.name} "
                                             f"at ₹{pick.rate}{_via(pick)}")
        if not rule.prefer and allowed:
            pick = _cheapest(allowed)
            return CourierDecision(pick, f"rule '{rule.name}' prefers {rule.aggregator}: cheapest there is "
                                         f"{pick.name} at ₹{pick.rate}")
    mode = rules.fallback
    if mode == "recommended":
        recommended = next((o for o in options if o.courier_id == serviceability.recommended_id), None)
        if recommended is not None:
            by = display_name(recommended.aggregator or "shiprocket")
            return CourierDecision(recommended, f"no rule applied; {by} recommends {recommended.name} "
                                                f"at ₹{recommended.rate}")
        mode = "cheapest"  # no recommendation offered: cheapest is the safe default
    if mode == "fastest":
        pick = min(options, key=lambda o: (o.etd_days if o.etd_days is not None else 99, o.rate, o.courier_id))
        return CourierDecision(pick, f"no rule applied; fastest is {pick.name} ({pick.etd_days} days, "
                                     f"₹{pick.rate}){_via(pick)}")
    pick = _cheapest(options)
    return CourierDecision(pick, f"no rule applied; cheapest is {pick.name} at ₹{pick.rate}{_via(pick)}")


def _via(option: CourierOption) -> str:
    return f" via {option.aggregator}" if option.aggregator else ""
