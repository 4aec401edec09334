"""The citizens' chat widget, served by the back office (public routes).

- ``GET /widget.js``: the one-line embed (settings in ``data-*`` attributes of the tag);
- ``GET /widget/{file}``: its stylesheet and the vendored socket.io client;
- ``GET /demo``: the home page of the fictional commune, which embeds the widget.

The Rasa server the widget talks to is ``RASA_PUBLIC_URL`` (default http://localhost:5005), as
seen from the citizen's browser; the widget's own address is ``BACKOFFICE_PUBLIC_URL`` (default
http://localhost:8000). Neither is ever taken from the request (its Host header is the
client's to choose). These routes set no cookie.

Embed settings (``data-*`` on the script tag): ``data-server`` (Rasa, required in production),
``data-commune``, ``data-color`` (#RRGGBB; darkened automatically where needed for 4.5:1),
``data-logo`` (http(s) URL), ``data-welcome``, ``data-lang`` (fr, en), ``data-transport``
(``socketio`` by default, ``rest`` to use ``POST /webhooks/rest/webhook``),
``data-privacy-url`` (default: this back office's ``/confidentialite``).

What the widget renders from the bot (domain responses):

- ``text`` (URLs, ``mailto:``/``tel:`` and ``[title](url)`` become links; the rest is text);
- ``buttons`` (choices; a button whose payload is an http(s) URL is shown as a link);
- ``image`` (http(s) or relative URL);
- ``attachment: {type: file, payload: {url, title}}`` (e.g. the appointment's .ics) or a
  plain ``.ics`` URL in the text;
- a location request, which shows "Partager ma position" (navigator.geolocation) and sends
  ``/inform{"incident_latitude": LAT, "incident_longitude": LON}``: either
  ``custom: {data: {ask_location: true}}`` in the response (Rasa's socket.io channel emits the
  ``data`` object itself), or a button whose payload starts with ``/share_location`` (never
  sent to the bot; Messenger drops it, its citizens send a location attachment instead).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

from backoffice.auth import templates  # autoescape on for .html
from townhall import config, french

router = APIRouter(tags=["widget"])

STATIC = Path(__file__).resolve().parent / "static" / "widget"
MEDIA_TYPES = {
    ".js": "application/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
    ".LICENSE": "text/plain; charset=utf-8",
}
HEADERS = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}
DEFAULT_COLOR = "#1f5a96"


def _configured_url(name: str, default: str) -> str:
    value = (os.environ.get(name) or "").strip().rstrip("/")
    if not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+(/[^\s\"'<>]*)?", value):
        return default  # unset or not an http(s) URL
    return value


def rasa_public_url() -> str:
    return _configured_url("RASA_PUBLIC_URL", "http://localhost:5005")


def backoffice_public_url() -> str:
    return _configured_url("BACKOFFICE_PUBLIC_URL", "http://localhost:8000")


def _static_file(name: str) -> FileResponse:
    try:
        path = (STATIC / name).resolve()
        found = STATIC in path.parents and path.is_file() and path.suffix != ".map"
    except (ValueError, OSError):  # NUL byte, name too long
        found = False
    if not found:
        raise HTTPException(status_code=404)
    media_type = MEDIA_TYPES.get(path.suffix, "application/octet-stream")
    return FileResponse(path, media_type=media_type, headers=HEADERS)


@router.get("/widget.js", include_in_schema=False)
def widget_script() -> FileResponse:
    return _static_file("widget.js")


@router.get("/widget/{name:path}", include_in_schema=False)
def widget_file(name: str) -> FileResponse:
    return _static_file(name)


@router.get("/demo", response_class=HTMLResponse, include_in_schema=False)
def demo_page(couleur: str = "", transport: str = "") -> HTMLResponse:
    """The demo page (templates/demo.html, which also holds the embed tag a commune pastes into
    its pages); ``?couleur=%23RRGGBB`` and ``?transport=rest`` let a webmaster try settings."""
    commune = config.commune()
    return HTMLResponse(templates.get_template("demo.html").render(
        commune=commune,
        phone=french.phone(commune.main_phone),
        base_url=backoffice_public_url(),
        server=rasa_public_url(),
        color=couleur if re.fullmatch(r"#[0-9a-fA-F]{6}", couleur) else DEFAULT_COLOR,
        transport=transport if transport == "rest" else "",
    ))
