"""The back office's FastAPI application (port 8000, health at ``GET /healthz``).

Each concern is a router in its own module, included below. Public: ``/healthz``, Open311
(``/open311/v2/``), the widget/demo page, the ``.ics`` calendar links, ``/login`` and the
privacy page. Everything else requires a login (``backoffice.auth``).

Staff sessions are server-side (``backoffice.sessions``): public pages never set a cookie.
Bad input is a 400 with a French message, never a 500: malformed parameters (422 in FastAPI's
default), numbers too large for the database, a missing uploads folder.
"""
from __future__ import annotations

import importlib
import logging
import os
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException

from backoffice.sessions import StaffSessionMiddleware, cookie_secure
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
# Our HTML pages get a strict Content-Security-Policy; other routers' pages set their own.
OWN_PAGE_PREFIXES = ("/login", "/logout", "/review", "/staff", "/users", "/confidentialite")
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


OPEN311_PREFIX = "/open311/"


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


class PhotoFiles(StaticFiles):
    """The uploaded photos: a 404 (not a 500) while the folder does not exist yet."""

    async def check_config(self) -> None:
        return None  # the folder appears with the first photo

    async def get_response(self, path: str, scope):
        if self.directory is None or not os.path.isdir(self.directory):
            raise StarletteHTTPException(status_code=404)
        return await super().get_response(path, scope)


def _field_names(exc: RequestValidationError) -> list[str]:
    names = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ()) if part not in ("query", "path", "body", "header", "cookie")]
        name = loc[0] if loc else "requête"
        if name not in names:
            names.append(name)
    return names


def bad_request_message(names: list[str]) -> str:
    if not names:
        return "La requête est invalide. Vérifiez les valeurs saisies."
    quoted = ", ".join(f"« {n[:40]} »" for n in names[:5])
    if len(names) == 1:
        return f"La valeur du paramètre {quoted} est invalide (nombre trop grand, date ou format incorrect)."
    return f"Les valeurs des paramètres {quoted} sont invalides (nombre trop grand, date ou format incorrect)."


def create_app(database_url: str | None = None) -> FastAPI:
    from backoffice import auth

    app = FastAPI(title="Back office de la mairie", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.database_url = database_url or config.database_url()
    app.state.tracker_url = config.tracker_database_url()
    schema.check(app.state.database_url)  # migrated at start-up (deploy.launcher), never here

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

    def error_response(request: Request, status_code: int, detail, headers=None):
        if _wants_html(request) and request.url.path.startswith(OWN_PAGE_PREFIXES) and "staff_session" in request.scope:
            return auth.render(request, "error.html", status_code=status_code, title="Impossible d'afficher la page",
                               message=str(detail))
        return JSONResponse({"detail": detail}, status_code=status_code, headers=headers)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        return error_response(request, exc.status_code, exc.detail, getattr(exc, "headers", None))

    def bad_request(request: Request, message: str):
        if request.url.path.startswith(OPEN311_PREFIX):  # Open311's own error format
            return JSONResponse([{"code": 400, "description": message}], status_code=400)
        return error_response(request, 400, message)

    @app.exception_handler(RequestValidationError)
    async def invalid_parameters(request: Request, exc: RequestValidationError):
        return bad_request(request, bad_request_message(_field_names(exc)))

    @app.exception_handler(DataError)
    @app.exception_handler(OverflowError)
    async def out_of_range(request: Request, exc: Exception):
        # A value the database cannot hold (e.g. an integer beyond 64 bits): the caller's mistake.
        logger.info("Refused a value out of range on %s: %s", request.url.path, type(exc).__name__)
        return bad_request(request, "Une valeur de la requête est hors limites. Vérifiez les nombres et les dates.")

    @app.exception_handler(ValueError)
    async def nul_character(request: Request, exc: ValueError):
        if "NUL" not in str(exc):  # PostgreSQL's driver refuses text with a NUL byte
            raise exc
        return bad_request(request, "La requête contient un caractère interdit (octet nul).")

    @app.exception_handler(StatementError)
    async def statement_error(request: Request, exc: StatementError):
        if isinstance(exc.orig, (OverflowError, ValueError)):
            return await out_of_range(request, exc)
        raise exc

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        if "\x00" in request.url.path or b"%00" in request.scope.get("query_string", b""):
            response = bad_request(request, "La requête contient un caractère interdit (octet nul).")
        else:
            response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.url.path.startswith(OWN_PAGE_PREFIXES):
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    # Added last, so it runs first: the session is available to everything above.
    app.add_middleware(StaffSessionMiddleware, secure=cookie_secure())
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    # Photos of incident reports (validated and renamed by townhall.incidents.photos).
    app.mount("/uploads/incidents", PhotoFiles(directory=str(photos.uploads_dir()), check_dir=False), name="uploads")

    for name in ROUTER_MODULES:
        app.include_router(importlib.import_module(name).router)
    return app
