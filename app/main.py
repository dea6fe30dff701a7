"""The ASGI app (`uvicorn app.main:app`): webhooks in, health and ops out. It does no upstream work
itself; jobs do, so the endpoints answer in milliseconds whatever Shiprocket or Zoho are doing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.fulfilment import endpoints as fulfilment_endpoints
from app.logging import configure_logging
from app.remittance import endpoints as remittance_endpoints
from app.services import Services, build_services
from app.settings import Settings, load_settings_or_exit
from app.tracking import endpoints as tracking_endpoints
from app.webhooks import zoho


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        s = settings or load_settings_or_exit()
        if settings is None:
            configure_logging(s.LOG_LEVEL)
        svc = services or build_services(s)
        app.state.settings = s
        app.state.services = svc
        app.state.sessionmaker = svc.sessionmaker
        app.state.queue = svc.queue
        try:
            yield
        finally:
            if services is None:
                await svc.close()

    app = FastAPI(title="Shipbridge", version="0.1.0", lifespan=lifespan)
    app.include_router(zoho.router)
    app.include_router(tracking_endpoints.router)
    app.include_router(remittance_endpoints.router)
    app.include_router(fulfilment_endpoints.router)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        """Readiness: Postgres answers (required) and Redis answers (reported; webhooks still work without it)."""
        checks: dict[str, str] = {}
        try:
            async with app.state.sessionmaker() as session:
                await session.execute(text("SELECT 1"))
            checks["postgres"] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            checks["postgres"] = f"down ({type(exc).__name__})"
        try:
            await (await app.state.queue.pool()).ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            await app.state.queue.close()
            checks["redis"] = f"down ({type(exc).__name__})"
        status = 200 if checks["postgres"] == "ok" else 503
        return JSONResponse({"status": "ok" if status == 200 else "unavailable", **checks}, status_code=status)

    return app


app = create_app()
