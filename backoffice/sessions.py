"""The staff session cookie ``townhall_staff``: a random id, nothing else.

The session itself lives in the database (``townhall.accounts.StaffSession``, which stores
only the id's SHA-256). This ASGI middleware reads the cookie into a :class:`SessionState`
(``scope["staff_session"]``) and writes ``Set-Cookie`` only when that state asks for it: at
login, at logout, and when a not-logged-in browser first needs a CSRF token (the login page).
Public pages (privacy page, demo, widget, static files, Open311) therefore never set a cookie.

The cookie is HttpOnly and SameSite=Lax, and Secure when ``BACKOFFICE_PUBLIC_URL`` starts with
``https://`` or ``BACKOFFICE_COOKIE_SECURE=1``.
"""
from __future__ import annotations

import hashlib
import os
import re

from starlette.datastructures import MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE_NAME = "townhall_staff"
_VALID_ID = re.compile(r"[A-Za-z0-9_-]{20,128}")


def cookie_secure() -> bool:
    public_url = os.environ.get("BACKOFFICE_PUBLIC_URL", "").strip().lower()
    flag = os.environ.get("BACKOFFICE_COOKIE_SECURE") or os.environ.get("BACKOFFICE_SECURE_COOKIES") or ""
    return public_url.startswith("https://") or flag.strip().lower() in ("1", "true", "yes", "on")


def csrf_for(session_id: str) -> str:
    """The CSRF token of a browser: derived from its cookie id, which no other site can read."""
    return hashlib.sha256(b"townhall-csrf:" + session_id.encode("ascii")).hexdigest()


class SessionState:
    """What this request knows of its browser's session; filled lazily by ``backoffice.auth``."""

    def __init__(self, cookie_id: str | None):
        self.cookie_id = cookie_id  # the id the browser sent (well-formed), or None
        self.loaded = False
        self.user = None  # the StaffIdentity of a live session
        self.logged_in_id: str | None = None  # cookie_id, when it opens a live session
        self.data: dict = {}
        self.new_id: str | None = None  # an id to send back (login, or a first CSRF token)
        self.new_max_age: int | None = None
        self.cleared = False  # logout: delete the cookie

    def current_id(self) -> str | None:
        if self.new_id:
            return self.new_id
        return None if self.cleared else self.cookie_id

    def issue(self, session_id: str, max_age: int | None = None) -> None:
        self.new_id, self.new_max_age, self.cleared = session_id, max_age, False

    def clear(self) -> None:
        self.new_id, self.new_max_age, self.cleared = None, None, True
        self.user, self.logged_in_id, self.data = None, None, {}

    def cookie_header(self, name: str, secure: bool) -> str | None:
        if self.new_id:
            value = f"{name}={self.new_id}; Path=/"
            if self.new_max_age:
                value += f"; Max-Age={self.new_max_age}"
        elif self.cleared and self.cookie_id:
            value = f'{name}=""; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT'
        else:
            return None
        return value + "; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")


def _cookie_id(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == b"cookie":
            candidate = cookie_parser(value.decode("latin-1")).get(name)
            if candidate and _VALID_ID.fullmatch(candidate):
                return candidate
    return None


class StaffSessionMiddleware:
    def __init__(self, app: ASGIApp, secure: bool = False, cookie_name: str = COOKIE_NAME):
        self.app = app
        self.secure = secure
        self.cookie_name = cookie_name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = SessionState(_cookie_id(scope, self.cookie_name))
        scope["staff_session"] = state

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                header = state.cookie_header(self.cookie_name, self.secure)
                if header:
                    MutableHeaders(scope=message).append("set-cookie", header)
            await send(message)

        await self.app(scope, receive, send_with_cookie)
