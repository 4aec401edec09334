"""Staff authentication: logins, roles, sessions, CSRF, and the account pages.

- ``require_staff``: the dependency of the staff JSON API (``/api/*``). It accepts a logged-in
  session of an ``admin`` or ``agent`` (unsafe methods then need the ``X-CSRF-Token`` header),
  or the bearer token ``STAFF_API_TOKEN``. Its value is the
  acting person's name (a ``str``), with ``.role`` and ``.user_id`` attributes.
- ``require_role("trainer", "admin")``: pages limited to some roles (sessions only).
- ``verify_csrf``: every unsafe request of the back-office pages carries the session's token
  (form field ``csrf_token`` or header ``X-CSRF-Token``).

Sessions are server-side (``townhall.accounts.StaffSession``); the cookie ``townhall_staff``
carries only a random id (``backoffice.sessions``). Logging out deletes the session. The CSRF
token is derived from the cookie's id. Logins are rate-limited per username and address and
per username; the address is the peer's, or the ``X-Forwarded-For`` client when the peer is
one of ``BACKOFFICE_TRUSTED_PROXIES`` (comma-separated addresses or networks, default none).
"""
from __future__ import annotations

import ipaddress
import os
import secrets
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from backoffice.deps import DatabaseId
from backoffice.sessions import SessionState, csrf_for
from townhall import accounts, config, db, french

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))  # autoescape on for .html
STAFF_API_ROLES = ("admin", "agent")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class StaffIdentity(str):
    """The acting person's username; ``role`` and ``user_id`` tell who it is."""

    role: str
    user_id: int | None

    def __new__(cls, username: str, role: str, user_id: int | None = None):
        value = super().__new__(cls, username)
        value.role = role
        value.user_id = user_id
        return value

    @property
    def masks_contacts(self) -> bool:
        return self.role == "trainer"


class LoginRequired(Exception):
    """Raised by the dependencies; app.py turns it into a redirect (pages) or a 401 (API)."""


class Forbidden(Exception):
    """Logged in, but the role does not allow this page."""


def _local(dt: datetime | None) -> str:
    if dt is None:
        return ""
    local = dt.astimezone(config.TIMEZONE)
    return f"{french.day(local.date())} à {french.clock(local.time())}"


templates.env.filters["moment"] = _local
templates.env.filters["day"] = lambda d: french.day(d) if d else ""
templates.env.globals["commune"] = config.commune
templates.env.globals["role_labels"] = accounts.ROLE_LABELS


def _state(request: Request) -> SessionState:
    state = request.scope.get("staff_session")
    if state is None:  # an application without StaffSessionMiddleware: nothing is remembered
        state = request.scope["staff_session"] = SessionState(None)
    return state


def _load(request: Request) -> SessionState:
    """Read this browser's session from the database (once per request)."""
    state = _state(request)
    if not state.loaded:
        state.loaded = True
        if state.cookie_id and not state.cleared and not state.new_id:
            with db.unit_of_work(request.app.state.database_url) as session:
                found = accounts.resume_session(session, state.cookie_id)
                if found is not None:
                    row, user = found
                    state.user = StaffIdentity(user.username, user.role, user.id)
                    state.logged_in_id = state.cookie_id
                    state.data = accounts.session_data(row)
    return state


def session_user(request: Request) -> StaffIdentity | None:
    """The logged-in, active user of this request (read from the database once per request)."""
    return _load(request).user


def _same_token(given: object, expected: str | None) -> bool:
    """Constant-time comparison that never raises (non-ASCII input compares as bytes)."""
    if not expected or not isinstance(given, str) or not given:
        return False
    return secrets.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def _expected_csrf(request: Request) -> str | None:
    current = _state(request).current_id()
    return csrf_for(current) if current else None


def _bearer(request: Request) -> StaffIdentity | None:
    expected = os.environ.get("STAFF_API_TOKEN")
    header = request.headers.get("authorization") or ""
    given = header[7:].strip() if header.lower().startswith("bearer ") else ""
    if expected and given and secrets.compare_digest(given.encode(), expected.encode()):
        return StaffIdentity("api-token", "agent")
    return None


def require_staff(request: Request) -> StaffIdentity:
    """Staff JSON API: a session of an admin or agent, or the bearer token STAFF_API_TOKEN."""
    token_user = _bearer(request)
    if token_user is not None:
        return token_user
    user = session_user(request)
    if user is None:
        raise LoginRequired()
    if user.role not in STAFF_API_ROLES:
        raise Forbidden()
    if request.method not in SAFE_METHODS:  # a browser session changing data: CSRF header required
        if not _same_token(request.headers.get("x-csrf-token"), _expected_csrf(request)):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="Jeton de sécurité (X-CSRF-Token) manquant.")
    return user


def require_role(*roles: str):
    """A dependency accepting a logged-in user whose role is one of ``roles`` (admin always)."""
    allowed = set(roles) | {"admin"}

    def dependency(request: Request) -> StaffIdentity:
        user = session_user(request)
        if user is None:
            raise LoginRequired()
        if user.role not in allowed:
            raise Forbidden()
        return user

    return dependency


require_login = require_role("admin", "trainer", "agent")


def csrf_token(request: Request) -> str:
    """This browser's CSRF token; a browser without a cookie gets one (an id stored nowhere)."""
    state = _state(request)
    current = state.current_id()
    if not current:
        current = accounts.new_session_id()
        state.issue(current)
    return csrf_for(current)


class _LazyCsrfToken:
    """Rendered as the CSRF token, created only if a template uses it (public pages set no cookie)."""

    def __init__(self, request: Request):
        self.request = request

    def __str__(self) -> str:
        return csrf_token(self.request)

    __html__ = __str__


async def verify_csrf(request: Request) -> None:
    """Refuse unsafe requests that do not carry this session's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    expected = _expected_csrf(request)
    given = request.headers.get("x-csrf-token")
    if not given:
        content_type = request.headers.get("content-type", "")
        if "form" in content_type:
            try:
                form = await request.form()
            except Exception:  # a malformed body (bad multipart, bad encoding): refused below
                form = {}
            given = form.get("csrf_token")
    if not _same_token(given, expected):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            detail="Jeton de sécurité manquant ou expiré : rechargez la page et recommencez.")


def render(request: Request, name: str, status_code: int = 200, **context) -> HTMLResponse:
    user = session_user(request)
    state = _state(request)
    flash = state.data.pop("flash", None) if user is not None else None
    if flash is not None:
        with db.unit_of_work(request.app.state.database_url) as session:
            accounts.set_session_data(session, state.logged_in_id, state.data)
    context.update(request=request, user=user, csrf_token=_LazyCsrfToken(request), flash=flash)
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    return response


def flash(request: Request, message: str, kind: str = "info") -> None:
    """A message shown once, on the next page of this session (kept with the session's row)."""
    state = _load(request)
    if state.logged_in_id is None:
        return
    state.data["flash"] = {"message": message, "kind": kind}
    with db.unit_of_work(request.app.state.database_url) as session:
        accounts.set_session_data(session, state.logged_in_id, state.data)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)


def landing_page(user: StaffIdentity) -> str:
    return "/staff/appointments" if user.role == "agent" else "/review"


def _safe_next(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@lru_cache(maxsize=8)
def _networks(setting: str) -> tuple:
    networks = []
    for item in setting.split(","):
        item = item.strip()
        if item:
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                pass  # a typo in the setting trusts nothing rather than everything
    return tuple(networks)


def _ip(text: str):
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def trusted_proxies() -> tuple:
    return _networks(os.environ.get("BACKOFFICE_TRUSTED_PROXIES", ""))


def client_ip(request: Request) -> str:
    """The client's address: the peer's, unless the peer is a trusted proxy (then X-Forwarded-For)."""
    peer = request.client.host if request.client else ""
    networks = trusted_proxies()

    def trusted(address) -> bool:
        return address is not None and any(address in n for n in networks)

    if not networks or not trusted(_ip(peer)):
        return peer or "inconnu"
    forwarded = ",".join(request.headers.getlist("x-forwarded-for"))
    client = peer
    for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
        address = _ip(hop)
        if address is None:
            break  # garbage: keep the last address a trusted proxy vouched for
        client = str(address)
        if not trusted(address):
            break
    return client


# --- routes ------------------------------------------------------------------------------

router = APIRouter(dependencies=[Depends(verify_csrf)])


@router.get("/", include_in_schema=False)
def home(request: Request):
    user = session_user(request)
    return redirect(landing_page(user) if user else "/login")


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request, next: str | None = None):
    return render(request, "login.html", next=_safe_next(next) or "", error=None)


@router.post("/login", include_in_schema=False)
def login(request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("")):
    with db.unit_of_work(request.app.state.database_url) as session:
        result = accounts.authenticate(session, username[:200], password[:1000], client_ip(request))
        user = (StaffIdentity(result.user.username, result.user.role, result.user.id)
                if result.user is not None else None)
    if result.rate_limited:
        return render(request, "login.html", status_code=429, next=_safe_next(next) or "",
                      error="Trop de tentatives échouées. Patientez quinze minutes avant de réessayer.")
    if user is None:
        return render(request, "login.html", status_code=401, next=_safe_next(next) or "",
                      error="Identifiant ou mot de passe incorrect.")
    state = _load(request)
    with db.unit_of_work(request.app.state.database_url) as session:
        accounts.end_session(session, state.logged_in_id)  # this browser's previous session, if any
        session_id = accounts.start_session(session, user.user_id)
    # A fresh id (and so a fresh CSRF token) at each login: an id planted before login opens nothing.
    state.clear()
    state.issue(session_id, int(accounts.SESSION_LIFETIME.total_seconds()))
    state.user, state.logged_in_id, state.loaded = user, session_id, True
    return redirect(_safe_next(next) or landing_page(user))


@router.post("/logout", include_in_schema=False)
def logout(request: Request):
    state = _state(request)
    with db.unit_of_work(request.app.state.database_url) as session:
        accounts.end_session(session, state.current_id())
    state.clear()
    return redirect("/login")


@router.get("/confidentialite", response_class=HTMLResponse, include_in_schema=False)
def privacy(request: Request):
    from townhall import retention

    return render(request, "privacy.html", days=retention.default_days())


@router.get("/privacy", include_in_schema=False)
def privacy_alias():
    return redirect("/confidentialite")


@router.get("/users", response_class=HTMLResponse, include_in_schema=False)
def users_page(request: Request, user: StaffIdentity = Depends(require_role("admin"))):
    with db.unit_of_work(request.app.state.database_url) as session:
        users = accounts.all_users(session)
    return render(request, "users.html", users=users, roles=accounts.ROLES, error=None)


@router.post("/users", include_in_schema=False)
def create_user(request: Request, username: str = Form(""), password: str = Form(""), role: str = Form(""),
                user: StaffIdentity = Depends(require_role("admin"))):
    try:
        with db.unit_of_work(request.app.state.database_url) as session:
            accounts.create_user(session, username, password, role)
    except accounts.AccountError as exc:
        with db.unit_of_work(request.app.state.database_url) as session:
            users = accounts.all_users(session)
        return render(request, "users.html", status_code=400, users=users, roles=accounts.ROLES, error=str(exc))
    flash(request, f"Le compte {accounts.normalise_username(username)} a été créé.")
    return redirect("/users")


@router.post("/users/{user_id}/active", include_in_schema=False)
def set_user_active(request: Request, user_id: DatabaseId, active: str = Form("0"),
                    user: StaffIdentity = Depends(require_role("admin"))):
    if user_id == user.user_id:
        flash(request, "Vous ne pouvez pas désactiver votre propre compte.", "error")
        return redirect("/users")
    with db.unit_of_work(request.app.state.database_url) as session:
        accounts.set_active(session, user_id, active == "1")
    flash(request, "Le compte a été mis à jour.")
    return redirect("/users")


def login_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login?next=" + quote(target, safe="")
