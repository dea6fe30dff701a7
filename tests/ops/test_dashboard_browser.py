"""The dashboard in a real headless Chromium: log in through the form, see the attention list with its
actions, and save screenshots at laptop and phone widths (tests/artifacts/, printed by the test)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.main import create_app
from app.services import Services
from sandbox.server import ThreadedServer
from sandbox.zoho import ZohoSim
from tests.harness import OPS_TOKEN, eventually, running_worker
from tests.ops.browser import Browser, chromium_path, must_have_browser
from tests.ops.helpers import ops_client, set_shipment
from tests.spine_helpers import confirmed_order, deliver, in_state

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
WIDTHS = {"laptop": (1366, 900, False), "phone": (390, 844, True)}


def drive(base_url: str, executable: str) -> dict[str, object]:
    browser = Browser(executable)
    seen: dict[str, object] = {}
    try:
        browser.viewport(*WIDTHS["laptop"])
        browser.goto(f"{base_url}/ops")
        browser.wait_for("document.querySelector('#token') !== null")
        browser.evaluate(f"document.querySelector('#token').value = {OPS_TOKEN!r};"
                         "document.querySelector('form').submit(); true")
        browser.wait_for("document.querySelectorAll('tr.attention').length > 0")
        seen["rows"] = browser.evaluate("document.querySelectorAll('tr.attention').length")
        seen["text"] = browser.evaluate("document.body.innerText")
        seen["cookie_visible_to_js"] = browser.evaluate("document.cookie")
        for name, (width, height, mobile) in WIDTHS.items():
            browser.viewport(width, height, mobile)
            browser.goto(f"{base_url}/ops")
            browser.wait_for("document.querySelectorAll('tr.attention').length > 0")
            seen[f"{name}_overflow"] = browser.evaluate(
                "document.documentElement.scrollWidth > window.innerWidth + 1")
            seen[name] = str(browser.screenshot(ARTIFACTS / f"dashboard-{name}.png"))
        order = browser.evaluate("document.querySelector('tr.attention a').getAttribute('href')")
        browser.goto(f"{base_url}{order}")
        browser.wait_for("document.querySelector('h1') && document.querySelector('h1').innerText.includes('Order')")
        seen["order"] = str(browser.screenshot(ARTIFACTS / "order-phone.png"))
    finally:
        browser.close()
    seen["sizes"] = [Path(str(seen[name])).stat().st_size for name in ("laptop", "phone", "order")]
    return seen


async def test_dashboard_renders_the_attention_list_in_chromium(svc: Services, zoho_sim: ZohoSim,
                                                                shiprocket_sim) -> None:  # noqa: ANN001
    executable = chromium_path()
    if executable is None:
        if must_have_browser():
            pytest.fail("chromium is not installed (./run test installs Debian's chromium when it can)")
        pytest.skip("chromium is not installed: `apt-get install chromium` to run the dashboard browser test")
    shiprocket_sim.unserviceable_pincodes.add("744101")
    bad = confirmed_order(zoho_sim, pincode="744101", city="Port Blair")
    ndr = confirmed_order(zoho_sim)
    async with ops_client(svc) as client, running_worker(svc):
        for so_id in (bad, ndr):
            await deliver(client, zoho_sim, so_id)
        await eventually(in_state(svc, bad, "serviceability_failed"))
        await eventually(in_state(svc, ndr, "manifested"))
    await set_shipment(svc, ndr, tracking_status="undelivered")
    # The demo's setting: a Secure cookie needs HTTPS, and this server is plain http on 127.0.0.1.
    settings = svc.settings.model_copy(update={"OPS_COOKIE_SECURE": False})
    server = ThreadedServer(create_app(settings)).start()
    try:
        seen = await asyncio.to_thread(drive, server.url, executable)
    finally:
        server.stop()
    print(f"\ndashboard screenshots: {seen['laptop']} {seen['phone']} {seen['order']}")
    assert seen["rows"] == 2
    text = str(seen["text"])
    assert "Serviceability Failed" in text and "NDR awaiting action" in text and "Re-attempt" in text
    assert seen["cookie_visible_to_js"] == ""  # HTTP-only: scripts cannot read the session
    assert seen["laptop_overflow"] is False and seen["phone_overflow"] is False
    assert all(size > 10_000 for size in seen["sizes"])  # type: ignore[attr-defined]
