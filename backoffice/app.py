"""The back office's FastAPI application (port 8000, health at ``GET /healthz``).

Each concern is a router in its own module, included below. Public: ``/healthz``, Open311
(``/open311/v2/``), the widget/demo page, the ``.ics`` calendar links, ``/login`` and the
privacy page. Everything else requires a login (``backoffice.auth``).
"""
from __future__ import annotations

import importlib
import logging
import os
import secrets
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import HTTPException
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from townhall import config, schema
from townhall.incidents import photos

logger = logging.getLogger(__name__)

# Routers, one module per concern.
ROUTER_MODULES = (
    "backoffice.auth",
    "backoffice.open311",
    "backoffice.api_incidents",
    "backoffice.api_appointments",
    "backoffice.calendar",
    "backoffice.widget",
    "backoffice.staff",
    "backoffice.facilities",
    "backoffice.review",
)
STATIC_DIR = Path(__file__).resolve().parent / "static"
SESSION_MAX_AGE = 8 * 3600  # one working day
# Our HTML pages get a strict Content-Security-Policy; other routers' pages set their own.
OWN_PAGE_PREFIXES = ("/login", "/logout", "/review", "/staff", "/users", "/confidentialite")
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


def secret_key() -> str:
    key = os.environ.get("BACKOFFICE_SECRET_KEY")
    if not key:
        logger.warning("BACKOFFICE_SECRET_KEY is not set: using a random key, sessions end when the "
                       "process restarts (and do not work across several worker processes).")
        key = secrets.token_urlsafe(48)
    return key


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


def create_app(database_url: str | None = None) -> FastAPI:
    from backoffice import auth

    app = FastAPI(title="Back office de la mairie", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.database_url = database_url or config.database_url()
    app.state.tracker_url = config.tracker_database_url()
    schema.upgrade(app.state.database_url)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"status": "ok"}

    @app.exception_handler(auth.LoginRequired)
    async def login_required(request: Request, exc: auth.LoginRequired):
        if _wants_html(request) and request.method == "GET":
            return RedirectResponse(auth.login_url(request), status_code=303)
        return JSONResponse({"detail": "Authentification requise."}, status_code=401,
                            headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(auth.Forbidden)
    async def forbidden(request: Request, exc: auth.Forbidden):
        if _wants_html(request):
            return auth.render(request, "error.html", status_code=403, title="Accès refusé",
                               message="Votre rôle ne donne pas accès à cette page.")
        return JSONResponse({"detail": "Accès refusé pour ce rôle."}, status_code=403)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if _wants_html(request) and request.url.path.startswith(OWN_PAGE_PREFIXES) and "session" in request.scope:
            return auth.render(request, "error.html", status_code=exc.status_code, title="Impossible d'afficher la page",
                               message=str(exc.detail))
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.url.path.startswith(OWN_PAGE_PREFIXES):
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    # Added last, so it runs first: the session is available to everything above.
    app.add_middleware(SessionMiddleware, secret_key=secret_key(), session_cookie="townhall_staff",
                       max_age=SESSION_MAX_AGE, same_site="lax",
                       https_only=os.environ.get("BACKOFFICE_SECURE_COOKIES", "") == "1")
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    # Photos of incident reports (validated and renamed by townhall.incidents.photos).
    app.mount("/uploads/incidents", StaticFiles(directory=str(photos.uploads_dir()), check_dir=False), name="uploads")

    for name in ROUTER_MODULES:
        app.include_router(importlib.import_module(name).router)
    return app
