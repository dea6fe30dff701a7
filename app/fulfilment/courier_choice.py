"""Courier choice: the seller's rules table first, then a fallback mode. Pure; the decision carries
a sentence saying why, which is stored on the shipment and shown to ops."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.integrations.aggregator import CourierOption, Serviceability, ShipOrder
from app.integrations.shipping import display_name
from app.settings import KNOWN_AGGREGATORS

FALLBACK_MODES = ("cheapest", "fastest", "recommended")


@dataclass(frozen=True)
class Rule:
    name: str
    prefer: tuple[str, ...]
    payment: str | None = None  # "COD" | "Prepaid" | None = any
    tiers: tuple[int, ...] = ()
    min_value: Decimal | None = None
    min_weight_kg: Decimal | None = None
    aggregator: str | None = None  # only this aggregator's couriers ("shiplee"); None = any aggregator

    def matches(self, order: ShipOrder, tier: int) -> bool:
        if self.payment and self.payment.lower() != order.payment_method.lower():
            return False
        if self.tiers and tier not in self.tiers:
            return False
        if self.min_value is not None and order.total <= self.min_value:
            return False
        if self.min_weight_kg is not None and order.parcel.weight_kg <= self.min_weight_kg:
            return False
        return True


@dataclass(frozen=True)
class CourierRules:
    rules: tuple[Rule, ...] = ()
    fallback: str = "recommended"
    tier1_cities: frozenset[str] = field(default_factory=frozenset)
    tier1_pincode_prefixes: tuple[str, ...] = ()
    # Quote every available aggregator and let the rules and the fallback mode choose among all their
    # couriers; false: the first aggregator (AGGREGATORS order) that can serve the order decides.
    across_aggregators: bool = False

    def names_aggregator(self, order: ShipOrder) -> bool:
        """Some rule that matches the order names an aggregator: every aggregator must then be quoted."""
        tier = self.tier(order)
        return any(rule.aggregator and rule.matches(order, tier) for rule in self.rules)

    def tier(self, order: ShipOrder) -> int:
        city = order.address.city.strip().lower()
        if city in self.tier1_cities or order.address.pincode.startswith(self.tier1_pincode_prefixes):
            return 1
        return 2


@dataclass(frozen=True)
class CourierDecision:
    courier: CourierOption
    reason: str


class RulesError(ValueError):
    pass


def parse_rules(data: dict[str, Any]) -> CourierRules:
    fallback = str(data.get("fallback", "recommended")).lower()
    if fallback not in FALLBACK_MODES:
        raise RulesError(f"fallback must be one of {', '.join(FALLBACK_MODES)}, not {fallback!r}")
    rules = []
    for i, raw in enumerate(data.get("rules") or []):
        prefer = raw.get("prefer") or []
        aggregator = str(raw["aggregator"]).strip().lower() if raw.get("aggregator") else None
        if aggregator is not None and aggregator not in KNOWN_AGGREGATORS:
            raise RulesError(f"rule {i + 1} ({raw.get('name', 'unnamed')}) names unknown aggregator {aggregator!r}; "
                             f"known: {', '.join(KNOWN_AGGREGATORS)}")
        if not prefer and aggregator is None:
            raise RulesError(f"rule {i + 1} ({raw.get('name', 'unnamed')}) names no courier in `prefer` "
                             "and no `aggregator`")
        tiers = raw.get("tier") or []
        rules.append(Rule(
            name=str(raw.get("name") or f"rule {i + 1}"),
            prefer=tuple(str(p) for p in prefer),
            payment=raw.get("payment"),
            tiers=tuple(int(t) for t in (tiers if isinstance(tiers, list) else [tiers])),
            min_value=Decimal(str(raw["min_value"])) if raw.get("min_value") is not None else None,
            min_weight_kg=Decimal(str(raw["min_weight_kg"])) if raw.get("min_weight_kg") is not None else None,
            aggregator=aggregator,
        ))
    return CourierRules(
        rules=tuple(rules),
        fallback=fallback,
        tier1_cities=frozenset(c.lower() for c in data.get("tier1_cities") or []),
        tier1_pincode_prefixes=tuple(str(p) for p in data.get("tier1_pincode_prefixes") or []),
        across_aggregators=bool(data.get("across_aggregators", False)),
    )


def load_rules(path: Path) -> CourierRules:
    with path.open("rb") as fh:
        return parse_rules(tomllib.load(fh))


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
