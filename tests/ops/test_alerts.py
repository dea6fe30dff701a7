"""Alerts reach the ops channel once per problem: the incoming webhook and e-mail (a local SMTP sink),
naming the order, the AWB and what to do; a storm becomes one summary message."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI, Request

from app.alerts import raise_alert
from app.jobs import sweep
from app.services import Services, build_services
from sandbox.server import ThreadedServer, free_port
from tests.ops.helpers import set_shipment
from tests.spine_helpers import confirmed_order


class Sink:
    def __init__(self) -> None:
        self.mails: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.mails.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Sink, int]]:
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


@pytest.fixture
def hook() -> Iterator[tuple[list[dict[str, Any]], str]]:
    received: list[dict[str, Any]] = []
    app = FastAPI()

    @app.post("/hook")
    async def take(request: Request) -> dict[str, bool]:
        received.append(await request.json())
        return {"ok": True}

    server = ThreadedServer(app).start()
    yield received, f"{server.url}/hook"
    server.stop()


async def test_a_repeated_failure_alerts_once_by_webhook_and_email(svc: Services, smtp, hook,  # noqa: ANN001
                                                                   zoho_sim) -> None:  # noqa: ANN001
    sink, port = smtp
    received, url = hook
    settings = svc.settings.model_copy(update={
        "ALERT_WEBHOOK_URL": url, "ALERT_EMAIL_TO": "ops@seller.test", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port,
        "SMTP_STARTTLS": False, "SMTP_FROM": "shipbridge@seller.test"})
    alerting = build_services(settings, engine=svc.engine)
    so_id = confirmed_order(zoho_sim, confirm=False)
    from app.models import Shipment

    async with svc.sessionmaker.begin() as session:
        session.add(Shipment(salesorder_id=so_id, salesorder_number="SO-7", channel_order_id="SO-7",
                             payment_method="COD", declared_value=998, weight_kg=1, length_cm=1, breadth_cm=1,
                             height_cm=1, state="awb_failed"))
    await set_shipment(svc, so_id, awb="AWB777")
    try:
        for _ in range(3):  # the same failure, seen by three job runs
            async with svc.sessionmaker.begin() as session:
                await raise_alert(session, kind="awb_failed", key=so_id, salesorder_id=so_id,
                                  message="SO-7: no AWB after 2 attempts")
            await sweep(alerting)
    finally:
        await alerting.queue.close()
        await alerting.http.aclose()
    [message] = received
    assert message["kind"] == "awb_failed" and message["awb"] == "AWB777" and message["salesorder_id"] == so_id
    assert f"Order {so_id}, AWB AWB777" in message["text"] and "To do: No AWB" in message["text"]
    [mail] = sink.mails
    assert mail.rcpt_tos == ["ops@seller.test"]
    body = mail.content.decode()
    assert f"Subject: [Shipbridge] awb_failed {so_id}" in body and "AWB777" in body and "Retry" in body


async def test_a_storm_is_summarised_in_one_message(svc: Services, smtp, hook) -> None:  # noqa: ANN001
    sink, port = smtp
    received, url = hook
    settings = svc.settings.model_copy(update={
        "ALERT_WEBHOOK_URL": url, "ALERT_EMAIL_TO": "ops@seller.test", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port,
        "SMTP_STARTTLS": False, "ALERT_STORM_THRESHOLD": 5})
    alerting = build_services(settings, engine=svc.engine)
    try:
        async with svc.sessionmaker.begin() as session:
            for n in range(12):
                await raise_alert(session, kind="ndr" if n % 3 else "rto_initiated", key=str(n),
                                  salesorder_id=str(460000 + n), message=f"parcel {n} undelivered")
        assert (await sweep(alerting)).alerts_delivered == 12
        assert (await sweep(alerting)).alerts_delivered == 0
    finally:
        await alerting.queue.close()
        await alerting.http.aclose()
    [summary] = received
    assert summary["kind"] == "summary" and summary["count"] == 12
    assert "12 new alerts (8 ndr, 4 rto_initiated)" in summary["text"] and "/ops" in summary["text"]
    [mail] = sink.mails
    assert "Subject: [Shipbridge] 12 new alerts" in mail.content.decode()
