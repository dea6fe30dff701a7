"""Getting alerts to a person: each new alert becomes one message naming the order, the AWB and what to
do, sent to the incoming-webhook URL (Slack, Zoho Cliq or any JSON endpoint) and by e-mail. An alert is
sent once (its row is marked delivered); a burst of more than ALERT_STORM_THRESHOLD in one round is
summarised in a single message that points at the dashboard instead of paging ops once per order."""

from __future__ import annotations

import asyncio
import smtplib
from collections import Counter
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Alert, Shipment
from app.settings import Settings

# What each alert means for the person reading it, and what to do. The README's operations chapter
# carries the same table.
ALERT_GUIDE: dict[str, str] = {
    "serviceability_failed": "No courier serves the pincode: confirm it with the customer; Retry on the "
                             "dashboard, or ship another way.",
    "order_failed": "The aggregator refused the order (address, phone, weight): fix the data, then Retry.",
    "awb_failed": "No AWB after every attempt: check the aggregators' wallets and couriers, then Retry.",
    "writeback_failed": "The AWB is booked but Zoho refused the update: check the custom fields (shipbridge "
                        "doctor), then Re-sync.",
    "orphan_order": "The order was booked elsewhere (or not at all), but the order created alongside the courier "
                    "check could not be cancelled: cancel it in the panel of the aggregator the alert names.",
    "order_data_missing": "The sales order lacks data needed to ship (address, items): complete it in Zoho.",
    "inbox_failed": "A webhook could not be handled: read its reason on the order page, fix, then Replay.",
    "credentials_refused": "An aggregator or Zoho refused our credentials: every order waits. Fix the settings "
                           "(shipbridge doctor).",
    "ndr": "Delivery failed: call the customer, then Re-attempt or Return to origin from the dashboard.",
    "rto_initiated": "The parcel is returning: call the customer if it can be saved; stock comes back on arrival.",
    "lost_in_transit": "Raise a lost-shipment claim for this AWB with the aggregator that booked it.",
    "restock_by_adjustment": "A returned item was non-returnable in Zoho: check the inventory adjustment.",
    "refund_due": "A prepaid order came back: refund the customer.",
    "tracking_effect_failed": "A tracking side effect (Zoho package, return) failed: check the order page, "
                              "then Re-sync.",
    "tracking_writeback_failed": "Zoho refused the shipment status: Re-sync the order.",
    "return_failed": "A customer return could not be booked: read the reason, then retry the return.",
    "return_awb_failed": "A customer return has no AWB: retry the return.",
    "remittance_mismatch": "A COD remittance does not add up: compare with the aggregator's statement.",
    "remittance_exceptions": "Remittance lines could not be recorded in Books: see /ops/remittances/exceptions.",
    "remittance_unreadable": "An aggregator's remittance answer could not be read: check the poller's log.",
}
ROUND_LIMIT = 200  # alerts read per delivery round; the rest wait for the next sweep


@dataclass
class Notice:
    alert_id: int
    kind: str
    salesorder_id: str | None
    awb: str | None
    text: str

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "kind": self.kind, "salesorder_id": self.salesorder_id, "awb": self.awb,
                "todo": ALERT_GUIDE.get(self.kind)}


def compose(alert: Alert, awb: str | None) -> Notice:
    parts = [f"[Shipbridge] {alert.kind}: {alert.message}"]
    if alert.salesorder_id:
        parts.append(f"Order {alert.salesorder_id}" + (f", AWB {awb}" if awb else "") + ".")
    if alert.kind in ALERT_GUIDE:
        parts.append(f"To do: {ALERT_GUIDE[alert.kind]}")
    return Notice(alert.id, alert.kind, alert.salesorder_id, awb, " ".join(parts))


def storm_summary(notices: list[Notice]) -> str:
    kinds = Counter(n.kind for n in notices)
    listed = ", ".join(f"{n} {kind}" for kind, n in kinds.most_common())
    return (f"[Shipbridge] {len(notices)} new alerts ({listed}). Too many to send one by one: open the ops "
            "dashboard (/ops) for the list and what to do about each.")


async def post_webhook(http: httpx.AsyncClient, url: str, payload: dict[str, Any]) -> bool:
    try:
        response = await http.post(url, json=payload, timeout=10)
    except httpx.HTTPError:
        return False
    return response.status_code < 300


def _send_email(settings: Settings, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = settings.SMTP_FROM
    message["To"] = settings.ALERT_EMAIL_TO
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(settings.SMTP_HOST, settings.SMTP_PORT, timeout=15) as smtp:
        if settings.SMTP_STARTTLS:
            smtp.starttls()
        if settings.SMTP_USER:
            smtp.login(settings.SMTP_USER, settings.SMTP_PASSWORD.get_secret_value())
        smtp.send_message(message)


async def send_email(settings: Settings, subject: str, body: str) -> bool:
    try:
        await asyncio.to_thread(_send_email, settings, subject, body)
    except (OSError, smtplib.SMTPException):
        return False
    return True


def channels_configured(settings: Settings) -> bool:
    return bool(settings.ALERT_WEBHOOK_URL or (settings.ALERT_EMAIL_TO and settings.SMTP_HOST))


async def deliver_pending_alerts(session: AsyncSession, http: httpx.AsyncClient, settings: Settings) -> int:
    """Send undelivered alerts; returns how many were marked delivered. A channel that fails leaves the
    round's alerts undelivered, and the next sweep tries again."""
    alerts = list((await session.execute(select(Alert).where(Alert.delivered.is_(False))
                                         .order_by(Alert.id).limit(ROUND_LIMIT))).scalars())
    if not alerts:
        return 0
    orders = {a.salesorder_id for a in alerts if a.salesorder_id}
    awbs = dict((await session.execute(select(Shipment.salesorder_id, Shipment.awb)
                                       .where(Shipment.salesorder_id.in_(orders)))).all()) if orders else {}
    notices = [compose(a, awbs.get(a.salesorder_id or "")) for a in alerts]
    storm = len(notices) > settings.ALERT_STORM_THRESHOLD
    delivered: list[int] = []
    if storm:
        text = storm_summary(notices)
        ok = True
        if settings.ALERT_WEBHOOK_URL:
            ok = await post_webhook(http, settings.ALERT_WEBHOOK_URL, {"text": text, "kind": "summary",
                                                                        "count": len(notices)})
        if ok and settings.ALERT_EMAIL_TO and settings.SMTP_HOST:
            body = text + "\n\n" + "\n".join(n.text for n in notices)
            ok = await send_email(settings, f"[Shipbridge] {len(notices)} new alerts", body)
        if ok:
            delivered = [n.alert_id for n in notices]
    else:
        for notice in notices:
            ok = True
            if settings.ALERT_WEBHOOK_URL:
                ok = await post_webhook(http, settings.ALERT_WEBHOOK_URL, notice.payload())
            if ok and settings.ALERT_EMAIL_TO and settings.SMTP_HOST:
                subject = f"[Shipbridge] {notice.kind}" + (f" {notice.salesorder_id}" if notice.salesorder_id else "")
                ok = await send_email(settings, subject, notice.text)
            if not ok:
                break
            delivered.append(notice.alert_id)
    if delivered:
        await session.execute(update(Alert).where(Alert.id.in_(delivered)).values(delivered=True))
        await session.commit()
    return len(delivered)
