"""Application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from tidewater import db, http_client
from tidewater.api.routes import auth, invoices, payments, webhooks
from tidewater.settings import get_settings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    db.pool()  # open the pool at start-up, not on the first request
    yield
    http_client.close()
    db.close_pool()


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(
        title="tidewater",
        version="0.7.2",
        docs_url=None if settings.is_production else "/docs",
        lifespan=lifespan,
    )
    app.include_router(auth.router, prefix="/api/auth", tags=["auth"])
    app.include_router(invoices.router, prefix="/api/invoices", tags=["invoices"])
    app.include_router(payments.router, prefix="/api/payments", tags=["payments"])
    app.include_router(webhooks.router, prefix="/webhooks", tags=["webhooks"])

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
