"""A booked order edited in Zoho: never a second Shiprocket order, and one alert per distinct edit saying
what changed; an unchanged re-delivery (our own custom-field write-back echoes back) says nothing."""

from __future__ import annotations

import json
from decimal import Decimal

from app.fulfilment.dispatch import todo
from app.fulfilment.edits import order_changes
from app.fulfilment.handler import EDIT_ADVICE
from app.fulfilment.order_mapping import ship_order_to_json, to_ship_order
from app.integrations.shipping import panel
from app.main import create_app
from app.rules import ParcelDefaults
from tests.harness import api_client, eventually, running_worker
from tests.spine_helpers import alerts, confirmed_order, deliver, in_state, inbox

DEFAULTS = ParcelDefaults(Decimal("0.5"), Decimal(10), Decimal(10), Decimal(10))


def edited(zoho_sim, so_id: str, modified: str, **address: str) -> bytes:
    body = json.loads(zoho_sim.webhook_body(so_id))
    so = body["salesorder"]
    so["last_modified_time"] = modified
    so["shipping_address"].update(address)
    return json.dumps(body).encode()


async def _all_done(svc) -> bool:
    return all(e.state != "pending" for e in await inbox(svc))


async def test_an_edit_after_booking_alerts_once_and_books_nothing(svc, shiprocket_sim, zoho_sim):
    so_id = confirmed_order(zoho_sim, pincode="560001")
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        await deliver(client, zoho_sim, so_id)
        await eventually(in_state(svc, so_id, "manifested"))
        echo = json.loads(zoho_sim.webhook_body(so_id))  # what Zoho sends after our own write-back
        echo["salesorder"]["last_modified_time"] = "2030-01-01T09:00:00+0530"
        await deliver(client, zoho_sim, so_id, body=json.dumps(echo).encode())
        moved = edited(zoho_sim, so_id, "2030-01-01T10:00:00+0530", zip="560034", address="4 Church Street")
        await deliver(client, zoho_sim, so_id, body=moved)
        again = edited(zoho_sim, so_id, "2030-01-01T11:00:00+0530", zip="560034", address="4 Church Street")
        await deliver(client, zoho_sim, so_id, body=again)
        await eventually(lambda: _all_done(svc))
    [alert] = await alerts(svc, "order_edited_after_booking")
    number = zoho_sim.salesorder(so_id)["salesorder_number"]
    assert number in alert.message and "'560001' -> '560034'" in alert.message
    assert "'12 MG Road' -> '4 Church Street'" in alert.message and "never books a second order" in alert.message
    assert len(shiprocket_sim.orders) == 1
    reasons = [e.reason for e in await inbox(svc)]
    assert "never shipped twice" in reasons[1] and reasons[2].startswith("edited after booking (2 changes)")


def test_order_changes_lists_lines_quantities_and_amounts(zoho_sim):
    so_id = confirmed_order(zoho_sim, qty=2)
    so = json.loads(zoho_sim.webhook_body(so_id))["salesorder"]
    stored = ship_order_to_json(to_ship_order(so, cf_payment_method="cf_payment_method", defaults=DEFAULTS))
    assert order_changes(stored, so, cf_payment_method="cf_payment_method", defaults=DEFAULTS) == []
    line = so["line_items"][0]
    so["line_items"] = [dict(line, quantity=3), dict(line, line_item_id="extra-1", sku="MUG", quantity=1)]
    so["total"] = str(Decimal(str(so["total"])) + 100)
    changes = order_changes(stored, so, cf_payment_method="cf_payment_method", defaults=DEFAULTS)
    assert any(c.startswith("quantity of ") and c.endswith(": 2 -> 3") for c in changes)
    assert "line added: MUG x 1" in changes and any(c.startswith("total: ₹") for c in changes)
    assert order_changes({}, so, cf_payment_method="x", defaults=DEFAULTS) == []  # nothing stored: no claim


def test_dispatch_and_edit_advice_point_into_the_booking_aggregators_panel() -> None:
    assert todo("pickup_failed", "shiprocket").startswith("Request the pickup in Shiprocket's panel (Orders > Ready")
    assert todo("manifest_failed", "shiprocket") == ("Generate the manifest in Shiprocket's panel "
                                                    "(Orders > Manifest) before the pickup.")
    assert todo("label_failed", "shiplee") == ("Generate the label in Shiplee's panel; the courier will not "
                                               "take the parcel unlabelled.")
    assert "Shiprocket's panel (Orders > Edit address)" in EDIT_ADVICE.format(panel=panel("shiprocket",
                                                                                          "edit_address"))
