"""The ops dashboard (`GET /ops`): server-rendered pages for a laptop or a phone, no build step. Login
with the ops token sets a signed session cookie; action buttons are small forms with a CSRF token, so
they work without JavaScript (ops.js only adds a confirmation and a periodic refresh)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from app.ops import actions
from app.ops.summary import build_summary
from app.web.auth import SESSION_COOKIE, Operator, check_csrf, csrf_token, new_session, session_of, token_matches

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(include_in_schema=False)

ACTION_LABELS = {"retry": "Retry", "resync": "Re-sync", "replay": "Replay event", "ndr_reattempt": "Re-attempt",
                 "ndr_return": "Return to origin", "resolve_alert": "Resolve", "cancel": "Cancel shipment",
                 "release_cod": "Release (ship COD)", "ship_prepaid": "Paid online (ship prepaid)"}


def _secure(request: Request) -> bool:
    return bool(request.app.state.settings.OPS_COOKIE_SECURE)


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    response = templates.TemplateResponse(request, name, {"labels": ACTION_LABELS, **context}, status_code=status)
    # The pages show customer phone numbers and order details: never cache them, never frame them.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = ("default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                                   "frame-ancestors 'none'; form-action 'self'")
    return response


def _login(request: Request, error: str | None = None, status: int = 200) -> HTMLResponse:
    return _page(request, "login.html", {"error": error}, status)


@router.get("/ops")
async def dashboard(request: Request, msg: str = "") -> Response:
    operator = session_of(request)
    if operator is None:
        return _login(request)
    summary = await build_summary(request.app.state.services)
    return _page(request, "dashboard.html", {"s": summary, "csrf": csrf_token(request, operator), "msg": msg[:300]})


@router.post("/ops/login")
async def login(request: Request, token: str = Form("", max_length=500)) -> Response:
    if not token_matches(request, token):
        return _login(request, "That is not the ops token.", 401)
    response = RedirectResponse("/ops", status_code=303)
    response.set_cookie(SESSION_COOKIE, new_session(request), httponly=True, secure=_secure(request),
                        samesite="strict", path="/ops",
                        max_age=int(request.app.state.settings.OPS_SESSION_HOURS) * 3600)
    return response


@router.post("/ops/logout")
async def logout(request: Request) -> Response:
    response = RedirectResponse("/ops", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/ops", secure=_secure(request), httponly=True, samesite="strict")
    return response


@router.post("/ops/act")
async def act(request: Request, action: str = Form(..., max_length=40), csrf: str = Form("", max_length=200),
              salesorder_id: str = Form("", pattern=r"^[0-9]{0,40}$"), event_id: int | None = Form(None, ge=1,
              le=2**63 - 1), alert_id: int | None = Form(None, ge=1, le=2**63 - 1),
              comments: str = Form("", max_length=500, pattern=r"^[^\x00]*$"),
              back: str = Form("/ops", max_length=200)) -> Response:
    operator = session_of(request)
    if operator is None:
        return _login(request, "Please log in again.", 401)
    check_csrf(request, operator, csrf)
    result = await actions.run_action(request.app.state.services, action, actor=operator.actor,
                                      salesorder_id=salesorder_id or None, event_id=event_id, alert_id=alert_id,
                                      comments=comments)
    # Only ever back to our own pages: an open redirect would turn a button into a phishing link.
    target = back if back.startswith("/ops") and "//" not in back and "\\" not in back else "/ops"
    message = quote(f"{ACTION_LABELS.get(action, action)}: {result.outcome} - {result.detail}"[:300])
    return RedirectResponse(f"{target}{'&' if '?' in target else '?'}msg={message}", status_code=303)


async def order_page(request: Request, operator: Operator, salesorder_id: str,
                     story: dict[str, Any] | None) -> Response:
    if operator.session_id is None:  # a bearer client asking for HTML: no forms (no CSRF token to give)
        csrf = ""
    else:
        csrf = csrf_token(request, operator)
    msg = request.query_params.get("msg", "")[:300]
    return _page(request, "order.html", {"o": story, "salesorder_id": salesorder_id, "csrf": csrf, "msg": msg},
                 status=200 if story else 404)
