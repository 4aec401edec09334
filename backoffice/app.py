"""The back office's FastAPI application (port 8000, health at ``GET /healthz``).

Each concern is a router in its own module, included below.
"""
from __future__ import annotations

import importlib
import logging

from fastapi import FastAPI

from townhall import config, schema

logger = logging.getLogger(__name__)

# Routers, one module per concern; a module that does not exist yet is skipped.
ROUTER_MODULES = (
    "backoffice.open311",
    "backoffice.api_incidents",
    "backoffice.api_appointments",
    "backoffice.calendar",
    "backoffice.widget",
    "backoffice.staff",
    "backoffice.review",
)


def create_app(database_url: str | None = None) -> FastAPI:
    app = FastAPI(title="Back office de la mairie", docs_url=None, redoc_url=None)
    app.state.database_url = database_url or config.database_url()
    schema.upgrade(app.state.database_url)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"status": "ok"}

    for name in ROUTER_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        app.include_router(module.router)
    return app
