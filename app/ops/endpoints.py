"""The ops HTTP surface: health, readiness, metrics, the summary and order story as JSON, and the repair
actions (bearer token, or the dashboard's session cookie plus CSRF token)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from app import metrics
from app.errors import NotFound
from app.ops import actions
from app.ops.health import readiness
from app.ops.order_story import order_story
from app.ops.schemas import ActionOutcome, OrderStory, Readiness, RecentActions, RecordedAction, Summary
from app.ops.summary import build_summary, queue_state, shipments_by_state, zoho_budget_snapshot
from app.services import Services
from app.web.auth import OperatorDep, check_csrf
from app.web.outcome import Outcome
from app.web.validation import RowId, SalesorderId

router = APIRouter()


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


class ActionIn(BaseModel):
    comments: str = Field("", max_length=500, pattern=r"^[^\x00]*$")
    csrf: str = Field("", max_length=200)  # only for dashboard sessions (the form sends it)


@router.get("/healthz", tags=["health"])
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz", tags=["health"], response_model=Readiness, response_model_exclude_none=True,
            responses={503: {"model": Readiness, "description": "Not ready: `failing` names each part"}})
async def readyz(request: Request, response: Response) -> Readiness:
    """Readiness: Postgres and Redis answer, migrations at head, a worker's heartbeat is fresh.
    503 names each failing part."""
    ready, checks = await readiness(services(request))
    if not ready:
        response.status_code = 503
    return Readiness(status="ok" if ready else "unavailable", **checks,
                     failing=None if ready else [name for name, value in checks.items() if value != "ok"])


@router.get("/metrics", tags=["health"], response_class=Response)
async def prometheus_metrics(request: Request) -> Response:
    """Prometheus text format. Deployment-wide gauges are refreshed from Postgres and Redis first."""
    svc = services(request)
    try:
        async with svc.sessionmaker() as session:
            await shipments_by_state(session)
    except Exception:  # noqa: BLE001 - a scrape must still answer with what this process has
        pass
    await queue_state(svc.queue)
    budget = await zoho_budget_snapshot(svc)
    if budget.get("used") is not None:
        metrics.ZOHO_BUDGET_USED.set(budget["used"])
    metrics.ZOHO_BUDGET_LIMIT.set(budget["limit"])
    payload, content_type = metrics.render()
    return Response(payload, media_type=content_type)


@router.get("/ops/summary", tags=["ops"], response_model=Summary, response_model_exclude_unset=True)
async def summary(request: Request, _: OperatorDep) -> dict[str, Any]:
    """What needs attention and what to do, shipments by state, queue, webhooks, upstream health, today."""
    return await build_summary(services(request))


@router.get("/ops/orders/{salesorder_id}", tags=["ops"], response_model=OrderStory)
async def order(salesorder_id: SalesorderId, request: Request, operator: OperatorDep) -> Response:
    """One order's whole story. Browsers (Accept: text/html) get the page; everything else JSON."""
    async with services(request).sessionmaker() as session:
        story = await order_story(session, salesorder_id)
    if "text/html" in request.headers.get("accept", ""):
        from app.ops.dashboard import order_page

        return await order_page(request, operator, salesorder_id, story)
    if story is None:
        raise NotFound(f"no order {salesorder_id} known")
    return JSONResponse(OrderStory.model_validate(story).model_dump(mode="json"))


def _answer(result: Outcome) -> JSONResponse:
    """The status varies with the outcome (404 unknown target, 409 wrong state, 502 upstream refused)."""
    return JSONResponse(ActionOutcome.model_validate(result.view()).model_dump(), status_code=result.status)


@router.post("/ops/orders/{salesorder_id}/{action}", tags=["ops"], response_model=ActionOutcome)
async def order_action(salesorder_id: SalesorderId, action: str, request: Request, operator: OperatorDep,
                       body: ActionIn | None = Body(None)) -> JSONResponse:
    """`retry`, `resync`, `ndr_reattempt`, `ndr_return`: idempotent, each recorded."""
    body = body or ActionIn.model_validate({})
    check_csrf(request, operator, body.csrf)
    if action not in actions.ORDER_ACTIONS:
        raise NotFound(f"unknown action {action[:40]!r}")
    return _answer(await actions.run_action(services(request), action, actor=operator.actor,
                                            salesorder_id=salesorder_id, comments=body.comments))


@router.post("/ops/events/{event_id}/replay", tags=["ops"], response_model=ActionOutcome)
async def replay(event_id: RowId, request: Request, operator: OperatorDep,
                 body: ActionIn | None = Body(None)) -> JSONResponse:
    """Replay a failed or invalid inbox event (after fixing its cause)."""
    body = body or ActionIn.model_validate({})
    check_csrf(request, operator, body.csrf)
    return _answer(await actions.run_action(services(request), "replay", actor=operator.actor, event_id=event_id))


@router.post("/ops/alerts/{alert_id}/resolve", tags=["ops"], response_model=ActionOutcome)
async def resolve(alert_id: RowId, request: Request, operator: OperatorDep,
                  body: ActionIn | None = Body(None)) -> JSONResponse:
    body = body or ActionIn.model_validate({})
    check_csrf(request, operator, body.csrf)
    return _answer(await actions.run_action(services(request), "resolve_alert", actor=operator.actor,
                                            alert_id=alert_id))


@router.get("/ops/actions", tags=["ops"])
async def recent_actions(request: Request, _: OperatorDep, limit: int = Query(50, ge=1, le=500)) -> RecentActions:
    """Who did what, newest first."""
    async with services(request).sessionmaker() as session:
        rows = await actions.recent_actions(session, limit)
    return RecentActions(actions=[RecordedAction(id=a.id, at=a.at.isoformat(), actor=a.actor, action=a.action,
                                                 target=a.target, outcome=a.outcome, detail=a.detail) for a in rows])
