"""Ids from webhooks and upstream answers never steer an upstream call: a hostile salesorder id, order id
or AWB is refused with a typed, non-retryable error before any request, and never reaches the simulator."""

from __future__ import annotations

import pytest

from app.integrations.http import PermanentUpstreamError
from app.integrations.paths import UnsafePathError, checked_path
from app.services import Services
from sandbox.shiprocket import ShiprocketSim
from sandbox.zoho import ZohoSim

HOSTILE = ["123/../../organizations", "123?organization_id=1", "..", "1%2F..%2Fitems", "12 34", "1\x00",
           "123#frag", "abc", "", "४२"]  # the last: Devanagari digits, which str.isdigit() would let through


@pytest.mark.parametrize("bad", HOSTILE)
async def test_hostile_zoho_ids_never_reach_zoho(svc: Services, zoho_sim: ZohoSim, bad: str) -> None:
    for call in (svc.zoho.get_salesorder(bad), svc.zoho.get_item(bad),
                 svc.zoho.update_salesorder_custom_fields(bad, {"cf_awb_number": "1"}, current={})):
        with pytest.raises(UnsafePathError) as refused:
            await call
        assert not refused.value.retryable and isinstance(refused.value, PermanentUpstreamError)
    assert not any(bad and bad in path for _, path in zoho_sim.calls)
    assert not any("organizations" in path for _, path in zoho_sim.calls)


@pytest.mark.parametrize("bad", [b for b in HOSTILE if b != "abc"])
async def test_hostile_shiprocket_ids_never_reach_shiprocket(svc: Services, shiprocket_sim: ShiprocketSim,
                                                              bad: str) -> None:
    with pytest.raises(UnsafePathError):
        await svc.aggregator.order_show(bad)  # type: ignore[attr-defined]
    with pytest.raises(UnsafePathError):
        await svc.aggregator.ndr_action(bad, "re-attempt", "x")  # type: ignore[attr-defined]
    assert not any("show" in path or "ndr" in path for _, path in shiprocket_sim.calls)


async def test_plain_ids_still_go_through(svc: Services, zoho_sim: ZohoSim) -> None:
    with pytest.raises(PermanentUpstreamError) as missing:  # a well-formed id the simulator does not know
        await svc.zoho.get_salesorder("4600000000000000999")
    assert not isinstance(missing.value, UnsafePathError)
    assert ("GET", "/inventory/v1/salesorders/4600000000000000999") in zoho_sim.calls


@pytest.mark.parametrize("path", ["/courier/serviceability/", "/inventory/v1/salesorders/460000000001",
                                  "/ndr/SR-190410000001_A/action", "/books/v3/creditnotes/12/invoices"])
def test_our_own_paths_pass(path: str) -> None:
    assert checked_path("x", path) == path
