"""The ASGI app (`uvicorn app.main:app`): webhooks in, health and ops out. It does no upstream work
itself; jobs do, so the endpoints answer in milliseconds whatever Shiprocket or Zoho are doing."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from app.errors import DomainError, domain_error
from app.fulfilment import endpoints as fulfilment_endpoints
from app.logging import configure_logging
from app.ops import dashboard as ops_dashboard
from app.ops import endpoints as ops_endpoints
from app.ops import rto_report as ops_rto_report
from app.remittance import endpoints as remittance_endpoints
from app.services import Services, build_services
from app.settings import Settings, load_settings_or_exit
from app.tracking import endpoints as tracking_endpoints
from app.web.validation import RefuseNulBytes, validation_error
from app.webhooks.ingest import Ingest, WebhookIngest

DOCS_ASSETS = "/docs-assets"


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        s = settings or load_settings_or_exit()
        if settings is None:
            configure_logging(s.LOG_LEVEL, json=s.LOG_FORMAT != "console")
        svc = services or build_services(s)
        app.state.settings = s
        app.state.services = svc
        app.state.sessionmaker = svc.sessionmaker
        app.state.queue = svc.queue
        app.state.ingest = Ingest(s, svc.queue)
        await app.state.ingest.start()
        # Everything loaded so far (FastAPI, SQLAlchemy, pydantic models: a few hundred thousand objects)
        # lives as long as the process. Frozen out of the collector, a full collection no longer walks it:
        # one took 50-180 ms on the 2-core VM, a stall of every request in flight (ingest p99, BENCHMARKS.md).
        # Only for a process of its own: a test process builds many apps and would keep their cycles.
        if services is None:
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            await app.state.ingest.close()
            if services is None:
                await svc.close()

    # Swagger UI's own page would load its assets from a CDN (blank without internet): serve them from
    # the swagger-ui-bundle package instead. ReDoc has no packaged assets, so it is off.
    app = FastAPI(title="Shipbridge", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.add_middleware(RefuseNulBytes)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(DomainError, domain_error)
    app.add_middleware(WebhookIngest)  # POST /webhooks/zoho/salesorders, /webhooks/tracking, /webhooks/cod-remittance
    app.include_router(tracking_endpoints.router)
    app.include_router(remittance_endpoints.router)
    app.include_router(ops_endpoints.router)
    app.include_router(ops_rto_report.router)
    app.include_router(ops_dashboard.router)
    app.mount("/ops/static", StaticFiles(directory=Path(ops_dashboard.HERE / "static")), name="ops-static")
    app.mount(DOCS_ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")
    app.include_router(fulfilment_endpoints.router)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="Shipbridge API",
                                   swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png")

    return app


app = create_app()
