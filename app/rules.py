"""The seller's shipping rules, read once at start-up into app.services.Services: the courier rules table
(TOML, app/fulfilment/courier_rules.toml by default: which courier for which orders, the fallback
mode, tier-1 cities) and the parcel to assume when Zoho has no package details. Data and loaders only;
choosing a courier with them is app/fulfilment/courier_choice.py. Below app.services (which builds
them) and fulfilment (which uses them); above the neutral models in app.integrations.aggregator."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.integrations.aggregator import ShipOrder
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


@dataclass(frozen=True)
class ParcelDefaults:
    """The parcel to book when a sales order's items carry no package details (DEFAULT_WEIGHT_KG, ...)."""
    weight_kg: Decimal
    length_cm: Decimal
    breadth_cm: Decimal
    height_cm: Decimal
