"""The RTO-risk report: each GoKwik prediction against what the courier did with the parcel, as JSON
counts (per category and per courier or pincode) and as CSV rows, behind the ops token."""

from __future__ import annotations

import csv
import io

from tests.harness import OPS_TOKEN
from tests.tracking.helpers import FORWARD, RTO, drive, settled, shipped, stack

BEARER = {"Authorization": f"Bearer {OPS_TOKEN}"}
PHONE = "9876543210"


async def test_predicted_risk_is_compared_with_delivered_and_rto(svc, shiprocket_sim, zoho_sim, gokwik):
    async with stack(svc) as client:
        gokwik.set_risk(PHONE, "Medium Risk", "New customer")
        returned, sh = await shipped(svc, client, zoho_sim)
        await drive(client, shiprocket_sim, sh.awb, RTO)
        await settled(svc, returned, "rto_delivered")
        gokwik.set_risk(PHONE, "Low Risk", "")
        delivered, sh2 = await shipped(svc, client, zoho_sim)
        await drive(client, shiprocket_sim, sh2.awb, FORWARD)
        await settled(svc, delivered, "delivered")

        assert (await client.get("/ops/reports/rto-risk")).status_code == 401
        report = (await client.get("/ops/reports/rto-risk", headers=BEARER)).json()
        by_pin = (await client.get("/ops/reports/rto-risk?by=pincode", headers=BEARER)).json()
        answer = await client.get("/ops/reports/rto-risk.csv", headers=BEARER)
    assert report["orders"] == 2
    medium, low = report["by_category"]["Medium"], report["by_category"]["Low"]
    assert (medium["rto"], medium["delivered"], medium["rto_rate"]) == (1, 0, 1.0)
    assert (low["rto"], low["delivered"], low["rto_rate"]) == (0, 1, 0.0)
    [courier] = report["by_courier"]
    assert courier == sh.courier_name and report["by_courier"][courier]["Medium"]["rto"] == 1
    assert by_pin["by_pincode"]["560001"]["Low"]["delivered"] == 1

    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [(r["salesorder_id"], r["category"], r["outcome"], r["pincode"]) for r in rows] == [
        (returned, "Medium", "rto", "560001"), (delivered, "Low", "delivered", "560001")]
    assert rows[0]["reason"] == "New customer" and rows[0]["courier"] == sh.courier_name
