from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from app.fulfilment.courier_choice import choose_courier
from app.fulfilment.order_mapping import to_ship_order
from app.integrations.aggregator import CourierOption, Parcel, Serviceability
from app.rules import ParcelDefaults, RulesError, load_rules, parse_rules
from tests.fulfilment.test_order_mapping import salesorder

RULES = load_rules(Path("app/fulfilment/courier_rules.toml"))
OPTIONS = (
    CourierOption("43", "Delhivery Surface", Decimal("54"), 4),
    CourierOption("10", "Delhivery Air", Decimal("90"), 2),
    CourierOption("51", "Xpressbees Surface", Decimal("60"), 5),
    CourierOption("12", "Ekart Logistics Surface", Decimal("58"), 5),
    CourierOption("7", "Blue Dart Air", Decimal("140"), 2),
    CourierOption("33", "DTDC Surface", Decimal("50"), 6),
)
DEFAULTS = ParcelDefaults(Decimal("0.5"), Decimal("20"), Decimal("15"), Decimal("10"))


def order(city="Bengaluru", pincode="560001", cod=True, total="998", weight="0.5"):
    so = salesorder(payment_terms_label="COD" if cod else "Net 0", total=total)
    so["shipping_address"] = {**so["shipping_address"], "city": city, "zip": pincode}
    o = to_ship_order(so, cf_payment_method="cf_payment_method", defaults=DEFAULTS)
    return replace(o, parcel=Parcel(Decimal(weight), Decimal("20"), Decimal("15"), Decimal("10")))


def test_cod_tier1_prefers_delhivery_cheapest_variant():
    d = choose_courier(order(), Serviceability(OPTIONS, "7"), RULES)
    assert d.courier.name == "Delhivery Surface"
    assert "COD to tier-1 metro" in d.reason


def test_cod_tier2_prefers_ekart():
    d = choose_courier(order(city="Bhilwara", pincode="311001"), Serviceability(OPTIONS, "7"), RULES)
    assert d.courier.name == "Ekart Logistics Surface"


def test_high_value_prepaid_prefers_blue_dart():
    d = choose_courier(order(cod=False, total="4999"), Serviceability(OPTIONS, "43"), RULES)
    assert d.courier.name == "Blue Dart Air"


def test_heavy_parcel_rule_first():
    d = choose_courier(order(weight="7.5"), Serviceability(OPTIONS, "7"), RULES)
    assert d.courier.name == "Xpressbees Surface" and "heavy" in d.reason


def test_fallback_recommended_when_no_rule_matches():
    d = choose_courier(order(cod=False, total="500"), Serviceability(OPTIONS, "10"), RULES)
    assert d.courier.courier_id == "10" and "recommends" in d.reason


def test_rule_skipped_when_preferred_courier_not_serviceable():
    only = tuple(o for o in OPTIONS if "Delhivery" not in o.name and "Ecom" not in o.name)
    d = choose_courier(order(), Serviceability(only, None), RULES)
    # No tier-1 courier available and no recommendation: cheapest of what serves the pincode.
    assert d.courier.name == "DTDC Surface" and "cheapest" in d.reason


@pytest.mark.parametrize("mode,expected", [("cheapest", "DTDC Surface"), ("fastest", "Delhivery Air")])
def test_fallback_modes(mode, expected):
    rules = parse_rules({"fallback": mode, "rules": []})
    assert choose_courier(order(cod=False, total="500"), Serviceability(OPTIONS, "7"), rules).courier.name == expected


def test_no_options_means_no_decision():
    assert choose_courier(order(), Serviceability((), None), RULES) is None


def test_bad_rules_file_is_refused():
    with pytest.raises(RulesError):
        parse_rules({"fallback": "random"})
    with pytest.raises(RulesError):
        parse_rules({"rules": [{"name": "x"}]})


# --- aggregators in the rules (issue 11) -------------------------------------------------------------

BOTH = tuple(replace(o, aggregator="shiprocket") for o in OPTIONS) + (
    CourierOption("delhivery_2kg_surface", "Delhivery 2kg Surface", Decimal("45"), None, aggregator="shiplee"),
    CourierOption("xpressbees_air", "Xpressbees Air", Decimal("70"), None, aggregator="shiplee"),
)


def test_rule_naming_an_aggregator_picks_only_its_couriers():
    rules = parse_rules({"rules": [{"name": "COD via Shiplee", "payment": "COD", "aggregator": "Shiplee",
                                    "prefer": ["Xpressbees"]}]})
    d = choose_courier(order(), Serviceability(BOTH, "43"), rules)
    # Shiprocket's Xpressbees Surface is cheaper, but the rule names Shiplee.
    assert (d.courier.aggregator, d.courier.courier_id) == ("shiplee", "xpressbees_air")
    assert "prefers Xpressbees on shiplee" in d.reason
    assert rules.names_aggregator(order()) and not rules.names_aggregator(order(cod=False))


def test_rule_with_only_an_aggregator_takes_its_cheapest():
    rules = parse_rules({"rules": [{"name": "all on Shiplee", "aggregator": "shiplee"}]})
    d = choose_courier(order(), Serviceability(BOTH, "43"), rules)
    assert d.courier.courier_id == "delhivery_2kg_surface" and "cheapest there" in d.reason


def test_rule_naming_an_aggregator_that_did_not_quote_falls_through():
    rules = parse_rules({"fallback": "cheapest", "rules": [{"name": "Shiplee", "aggregator": "shiplee",
                                                            "prefer": ["Xpressbees"]}]})
    shiprocket_only = tuple(o for o in BOTH if o.aggregator == "shiprocket")
    d = choose_courier(order(), Serviceability(shiprocket_only, None), rules)
    assert d.courier.name == "DTDC Surface" and "cheapest" in d.reason


def test_cheapest_and_fastest_compare_across_aggregators():
    cheapest = choose_courier(order(), Serviceability(BOTH, None), parse_rules({"fallback": "cheapest"}))
    assert cheapest.courier.aggregator == "shiplee" and "via shiplee" in cheapest.reason
    fastest = choose_courier(order(), Serviceability(BOTH, None), parse_rules({"fallback": "fastest"}))
    # Shiplee quotes no delivery estimate: a known 2-day courier beats an unknown one.
    assert fastest.courier.aggregator == "shiprocket" and fastest.courier.etd_days == 2


def test_rules_refuse_an_unknown_aggregator_and_a_rule_naming_nothing():
    with pytest.raises(RulesError, match="unknown aggregator 'delhivery'"):
        parse_rules({"rules": [{"name": "x", "aggregator": "delhivery", "prefer": ["Delhivery"]}]})
    with pytest.raises(RulesError, match="no courier in `prefer` and no `aggregator`"):
        parse_rules({"rules": [{"name": "x"}]})
    assert parse_rules({"across_aggregators": True}).across_aggregators is True
