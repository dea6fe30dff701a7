"""GoKwik simulator: RTO Predict (`POST /v2/rto/predict`) as the public facts describe it
(/work/shared/reference/returnprime-gokwik-facts.md §2; assumptions in docs/fidelity.md), with fault
switches. It refuses what GoKwik is known to refuse: a missing `appid`/`appsecret` header (403), wrong
credentials, and a merchant id not registered on this host. Failures of the last kinds arrive inside an
HTTP 200 with the envelope's statusCode saying so, as integrators report of the live API."""

from __future__ import annotations

import itertools
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse

from sandbox.faults import FaultBox

# Reasons quoted (through a secondary note) from GoKwik's RTO Predict PDF.
ADDRESS_REASONS = ("Address too short", "Address incomplete", "Address or customer seems fake")


@dataclass
class RiskRule:
    """Orders whose shipping phone or postcode matches get this flag (the vendor's own wording)."""

    risk_flag: str  # "High Risk" | "Medium Risk" | "Low Risk" | "Control"
    reason: str


@dataclass
class GoKwikSim:
    app_id: str = "sandbox-gk-appid"
    app_secret: str = "sandbox-gk-secret"
    mid: str = "sandbox-mid-19"
    faults: FaultBox = field(default_factory=FaultBox)
    rules: dict[str, RiskRule] = field(default_factory=dict)  # phone or postcode -> rule
    requests: list[dict[str, Any]] = field(default_factory=list)  # bodies of accepted predictions
    calls: int = 0  # every request that reached the route, refused or not
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    base_url: str = ""

    def reset(self) -> None:
        with self._lock:
            self.faults.reset()
            self.rules.clear()
            self.requests.clear()
            self.calls = 0

    def set_risk(self, key: str, risk_flag: str, reason: str = "") -> None:
        """`key` is a shipping phone (10 digits) or postcode."""
        self.rules[key] = RiskRule(risk_flag, reason)

    # ---------------------------------------------------------------- faults
    def down(self, times: int = 1000) -> None:
        self.faults.server_error("/v2/rto/predict", status=503, times=times)

    def error_in_200(self, message: str = "Unable to get order details", status_code: int = 500,
                     times: int = 1) -> None:
        self.faults.inject("/v2/rto/predict", status=200, times=times,
                           body={"statusCode": status_code, "statusMessage": message, "data": {}})

    def slow(self, seconds: float) -> None:
        self.faults.set_latency(seconds, "/v2/rto/predict")

    # ---------------------------------------------------------------- the API
    def predict(self, headers: dict[str, str], body: Any) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.calls += 1
            for name in ("appid", "appsecret"):
                if not headers.get(name):
                    return 403, {"statusCode": 403, "statusMessage": f"Missing required header: {name}", "data": {}}
            if headers["appid"] != self.app_id or headers["appsecret"] != self.app_secret:
                return 200, _fail(401, "Invalid app credentials")
            if not isinstance(body, dict):
                return 200, _fail(400, "Invalid request body")
            if body.get("mid") != self.mid:
                return 200, _fail(400, "Merchant not registered!")
            order = body.get("order")
            address = order.get("shipping_address") if isinstance(order, dict) else None
            if not isinstance(address, dict) or not address.get("postcode") or not address.get("phone"):
                return 200, _fail(400, "order.shipping_address with postcode and phone is required")
            self.requests.append(body)
            rule = self._rule(address)
            return 200, {"statusCode": 200, "statusMessage": "Success",
                         "data": {"request_id": f"rto-{next(self._ids)}-{uuid.uuid4().hex[:8]}",
                                  "risk_flag": rule.risk_flag, "reason": rule.reason}}

    def _rule(self, address: dict[str, Any]) -> RiskRule:
        phone = "".join(ch for ch in str(address.get("phone", "")) if ch.isdigit())[-10:]
        for key in (phone, str(address.get("postcode", ""))):
            if key in self.rules:
                return self.rules[key]
        if len(str(address.get("address_1", "")).strip()) < 5:
            return RiskRule("High Risk", ADDRESS_REASONS[0])
        return RiskRule("Low Risk", "")


def _fail(code: int, message: str) -> dict[str, Any]:
    return {"statusCode": code, "statusMessage": message, "data": {}}


def create_app(sim: GoKwikSim) -> FastAPI:
    app = FastAPI(title="GoKwik simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.middleware("http")(sim.faults.middleware)

    @app.post("/v2/rto/predict")
    async def predict(request: Request) -> JSONResponse:
        try:
            body = await request.json()
        except ValueError:
            body = None
        status, content = sim.predict({k.lower(): v for k, v in request.headers.items()}, body)
        return JSONResponse(content, status_code=status)

    return app
