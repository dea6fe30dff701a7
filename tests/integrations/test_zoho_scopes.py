"""A refusal for a missing OAuth scope (code 57, here under HTTP 401 like an expired token) is not an
expired token: at most one refresh, none on later calls, and an alert naming the scope."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from app.integrations.zoho.client import ZohoScopeMissing
from app.integrations.zoho.scopes import REQUIRED_SCOPES, scope_for
from app.models import Alert
from app.tracking import zoho_writes as zw

ROOT = Path(__file__).resolve().parents[2]
WITHOUT_ADJUSTMENT_READ = [s for s in REQUIRED_SCOPES if s != "ZohoInventory.inventoryadjustments.READ"]


async def scope_alerts(svc):
    async with svc.sessionmaker() as session:
        return (await session.scalars(select(Alert).where(Alert.kind == "zoho_scope_missing"))).all()


@pytest.mark.parametrize("status", [401, 403])
async def test_missing_scope_refreshes_at_most_once_and_alerts(svc, zoho_sim, status):
    zoho_sim.scopes = WITHOUT_ADJUSTMENT_READ
    zoho_sim.scope_refusal_status = status
    with pytest.raises(ZohoScopeMissing) as first:
        await zw.find_adjustment(svc.zoho, "AWB1")
    assert first.value.scope == "ZohoInventory.inventoryadjustments.READ"
    assert zoho_sim.token_requests <= 2  # the first token, and at most one refresh
    before = zoho_sim.token_requests
    for _ in range(3):
        with pytest.raises(ZohoScopeMissing):
            await zw.find_adjustment(svc.zoho, "AWB1")
    assert zoho_sim.token_requests == before  # no refresh storm
    assert zoho_sim.scope_refusals.count("ZohoInventory.inventoryadjustments.READ") >= 4
    [alert] = await scope_alerts(svc)
    assert "ZohoInventory.inventoryadjustments.READ" in alert.message
    # other calls still work with the same token
    so = zoho_sim.create_salesorder()
    assert (await svc.zoho.get_salesorder(so["salesorder_id"]))["salesorder_id"] == so["salesorder_id"]
    assert zoho_sim.token_requests == before


async def test_an_expired_token_is_still_refreshed_once(svc, zoho_sim):
    so = zoho_sim.create_salesorder()
    await svc.zoho.get_salesorder(so["salesorder_id"])
    zoho_sim.expire_tokens()
    await svc.zoho.get_salesorder(so["salesorder_id"])
    assert zoho_sim.token_requests == 2 and svc.zoho.missing_scopes == set()
    assert await scope_alerts(svc) == []


def test_scope_names_follow_the_specs():
    assert scope_for("GET", "/inventory/v1/salesorders/1") == "ZohoInventory.salesorders.READ"
    assert scope_for("PUT", "/inventory/v1/salesorders/1") == "ZohoInventory.salesorders.UPDATE"
    assert scope_for("POST", "/inventory/v1/shipmentorders/9/status/delivered") == \
        "ZohoInventory.shipmentorders.CREATE"
    assert scope_for("POST", "/inventory/v1/salesreturnreceives") == "ZohoInventory.salesreturnreceives.CREATE"
    assert scope_for("GET", "/books/v3/customerpayments") == "ZohoBooks.customerpayments.READ"


def test_readme_lists_every_scope_the_code_uses():
    readme = (ROOT / "README.md").read_text()
    listed = re.search(r"the scopes `([^`]+)`", readme)
    assert listed is not None
    assert set(listed.group(1).split(",")) == set(REQUIRED_SCOPES)


def test_simulator_reads_grants_as_zoho_does():
    from sandbox.zoho_common import required_scope, scope_allows

    needed = required_scope("POST", "/inventory/v1/salesreturnreceives")
    assert needed == "ZohoInventory.salesreturnreceives.CREATE"
    assert scope_allows(["ZohoInventory.salesreturnreceives.ALL"], needed)
    assert scope_allows(["ZohoInventory.FullAccess.all"], needed)
    assert not scope_allows(["ZohoInventory.salesreturns.ALL"], needed)  # a module of its own
    assert not scope_allows(["ZohoBooks.fullaccess.all"], needed)
    assert required_scope("GET", "/books/v3/organizations") == "ZohoBooks.settings.READ"
