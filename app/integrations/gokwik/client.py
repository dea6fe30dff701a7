"""GoKwik RTO Predict (`POST /v2/rto/predict`): I/O only. GoKwik publishes no full reference; what is
assumed is listed in docs/fidelity.md. The call sits in front of every COD booking, so it is short (one
timeout, one retry) and every failure is one typed error the caller turns into "ship anyway"."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from app.integrations.aggregator import ShipOrder
from app.metrics import observe_upstream
from app.money import rupees
from app.settings import Settings

SERVICE = "gokwik"
PREDICT_PATH = "/v2/rto/predict"
# The vendor PDF names risk flags "High Risk" / "Medium Risk" / "Low Risk" / "Control"; normalised to one word.
CATEGORIES = ("High", "Medium", "Low", "Control")


@dataclass(frozen=True)
class RiskPrediction:
    category: str  # High | Medium | Low | Control (GoKwik's own word kept in raw)
    reason: str
    request_id: str
    raw: dict[str, Any]


class GoKwikUnavailable(Exception):
    """GoKwik did not give a usable answer (down, slow, refused, or an error inside an HTTP 200)."""


def normalise_category(flag: str) -> str | None:
    word = flag.strip().lower().removesuffix("risk").strip()
    return next((c for c in CATEGORIES if c.lower() == word), None)


def predict_body(order: ShipOrder, mid: str) -> dict[str, Any]:
    """The fields of the vendor's RTO Predict sample that a Zoho sales order can fill; the session and
    customer-profile fields exist only at checkout and are left out."""
    a = order.address
    first, _, last = a.name.partition(" ")
    address = {"first_name": first, "last_name": last, "address_1": a.line1, "address_2": a.line2,
               "city": a.city, "state": a.state, "postcode": a.pincode, "country": a.country,
               "email": a.email, "phone": a.phone, "type": "shipping"}
    lines = [{"line_item_id": str(i), "product_id": line.item_id, "sku": line.sku, "name": line.name,
              "price": rupees(line.rate), "quantity": str(line.quantity),
              "total": rupees(line.rate * line.quantity)} for i, line in enumerate(order.lines, 1)]
    return {
        "mid": mid,
        "moid": order.salesorder_number,
        "payment_method": "cod",
        "order": {"order_date": order.order_date.isoformat(), "total": rupees(order.total),
                  "total_line_items": len(order.lines),
                  "total_line_items_quantity": str(sum(line.quantity for line in order.lines)),
                  "total_shipping": rupees(order.shipping_charges),
                  "billing_address": {**address, "type": "billing"}, "shipping_address": address},
        "line_items": lines,
    }


def parse_prediction(body: Any) -> RiskPrediction:
    """GoKwik answers HTTP 200 even for failures: the envelope's statusCode decides."""
    if not isinstance(body, dict):
        raise GoKwikUnavailable("answer is not a JSON object")
    status = body.get("statusCode")
    if str(status) != "200":
        raise GoKwikUnavailable(f"statusCode {status}: {body.get('statusMessage') or 'no message'}")
    data: dict[str, Any] = body["data"] if isinstance(body.get("data"), dict) else {}
    flag = str(data.get("risk_flag") or "")
    category = normalise_category(flag)
    if category is None:
        raise GoKwikUnavailable(f"unknown risk_flag {flag!r}")
    reason = data.get("reason") or data.get("risk_reason") or ""
    return RiskPrediction(category=category, reason=str(reason), request_id=str(data.get("request_id") or ""),
                          raw=body)


class GoKwikClient:
    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        self.http = http
        self.settings = settings

    async def predict(self, order: ShipOrder) -> RiskPrediction:
        s = self.settings
        headers = {"appid": s.GOKWIK_APP_ID, "appsecret": s.GOKWIK_APP_SECRET.get_secret_value(),
                   "Content-Type": "application/json"}
        url = s.GOKWIK_API_URL.rstrip("/") + PREDICT_PATH
        body = predict_body(order, s.GOKWIK_MID)
        last = "no attempt"
        for _ in range(2):  # one retry at most: a slow GoKwik costs shipping time, not orders
            started = time.monotonic()
            try:
                response = await self.http.post(url, json=body, headers=headers, timeout=s.GOKWIK_TIMEOUT_SECONDS)
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
                observe_upstream(SERVICE, PREDICT_PATH, "error", time.monotonic() - started, last)
                continue
            observe_upstream(SERVICE, PREDICT_PATH, str(response.status_code), time.monotonic() - started,
                                 None if response.status_code < 400 else response.text[:200])
            if response.status_code >= 500 or response.status_code == 429:
                last = f"HTTP {response.status_code}"
                continue
            try:
                payload = response.json()
            except ValueError:
                raise GoKwikUnavailable(f"HTTP {response.status_code}, not JSON") from None
            if response.status_code != 200:
                msg = payload.get("statusMessage") if isinstance(payload, dict) else None
                raise GoKwikUnavailable(f"HTTP {response.status_code}: {msg or response.text[:200]}")
            return parse_prediction(payload)
        raise GoKwikUnavailable(last)
