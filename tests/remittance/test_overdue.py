"""Delivered COD orders still waiting for their money are listed for ops; RTO'd ones are not (no cash
was collected), nor prepaid, recent or already remitted ones, nor ones delivered before remittance
tracking began (REMITTANCE_START_DATE, else the poller's first window, else 30 days back). The
delivered state is tracking's (`Shipment.tracking_status`, `Shipment.delivered_at`), set directly here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from app.main import create_app
from app.models import Shipment
from app.remittance import repository as repo
from tests.harness import api_client, eventually
from tests.remittance.helpers import OPS, TODAY, post_remittance, remit, settled, shipped_orders, worker


async def _tracked(svc, shipment: Shipment, status: str, days_ago: int) -> None:
    async with svc.sessionmaker.begin() as s:
        await s.execute(update(Shipment).where(Shipment.id == shipment.id).values(
            tracking_status=status, delivered_at=datetime.now(UTC) - timedelta(days=days_ago)))


async def test_overdue_delivered_cod_order_is_listed_and_rtod_one_is_not(svc, shiprocket_sim, zoho_sim):
    async with api_client(create_app(svc.settings, svc)) as client, worker(svc):
        older, old, rto, recent, remitted, ancient = await shipped_orders(svc, client, zoho_sim, shiprocket_sim, 6)
        [prepaid] = await shipped_orders(svc, client, zoho_sim, shiprocket_sim, 1, terms="Due on Receipt",
                                         prefix="SO-PP")
        await post_remittance(client, remit(shiprocket_sim, [remitted]))
        await eventually(settled(svc, 1))
        for sh, status, days in ((older, "delivered", 25), (old, "delivered", 20), (rto, "rto_delivered", 20),
                                 (recent, "delivered", 3), (remitted, "delivered", 20), (prepaid, "delivered", 20),
                                 (ancient, "delivered", 40)):
            await _tracked(svc, sh, status, days)
        exceptions = (await client.get("/ops/remittances/exceptions", headers=OPS)).json()
        async with svc.sessionmaker.begin() as s:  # the poller's first window reached 60 days back
            await repo.set_polled(s, TODAY - timedelta(days=60), TODAY)
        since_first_poll = (await client.get("/ops/remittances/exceptions", headers=OPS)).json()
    assert prepaid.payment_method == "Prepaid" and rto.payment_method == "COD"
    assert exceptions["overdue_days"] == 12
    # Oldest first, but never from before remittance tracking began (here: 30 days back, never polled).
    assert exceptions["overdue_since"] == (TODAY - timedelta(days=30)).isoformat()
    assert [o["awb"] for o in exceptions["overdue"]] == [older.awb, old.awb]
    listed = exceptions["overdue"][1]
    assert listed["salesorder_number"] == old.salesorder_number
    assert listed["days_since_delivery"] == 20 and listed["tracking_status"] == "delivered"
    assert listed["cod_amount"] == f"{old.declared_value:.2f}"
    assert [o["awb"] for o in since_first_poll["overdue"]] == [ancient.awb, older.awb, old.awb]
