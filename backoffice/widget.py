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
from html import escape
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

from townhall import config

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


def embed_snippet(
    base_url: str, commune: str, server: str, color: str = DEFAULT_COLOR, transport: str = ""
) -> str:
    """The tag a commune pastes into its pages."""
    extra = f' data-transport="{escape(transport)}"' if transport else ""
    return (
        f'<script src="{escape(base_url)}/widget.js" data-commune="{escape(commune)}" '
        f'data-color="{escape(color)}" data-server="{escape(server)}"{extra} defer></script>'
    )


@router.get("/demo", response_class=HTMLResponse, include_in_schema=False)
def demo_page(couleur: str = "", transport: str = "") -> HTMLResponse:
    """The demo page; ``?couleur=%23RRGGBB`` and ``?transport=rest`` let a webmaster try settings."""
    commune = config.commune()
    base = backoffice_public_url()
    color = couleur if re.fullmatch(r"#[0-9a-fA-F]{6}", couleur) else DEFAULT_COLOR
    snippet = embed_snippet(
        base, commune.name, rasa_public_url(), color, transport if transport == "rest" else ""
    )
    name = escape(commune.name)
    page = f"""<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Mairie de {name} – Site officiel de la commune (démonstration)</title>
<style>
  body {{ margin: 0; font-family: Georgia, "Times New Roman", serif; color: #1b1b1b; background: #fbfaf7; line-height: 1.5; }}
  .skip {{ position: absolute; left: -999px; }}
  .skip:focus {{ left: 1rem; top: 1rem; background: #fff; padding: .5rem; z-index: 10; }}
  header {{ background: #2e4b3c; color: #fff; padding: 1rem 1.25rem; }}
  header p {{ margin: 0; }}
  header h1 {{ margin: .25rem 0 0; font-size: 1.6rem; }}
  nav ul {{ display: flex; flex-wrap: wrap; gap: 1rem; list-style: none; margin: .75rem 0 0; padding: 0; }}
  nav a, header a {{ color: #fff; }}
  main {{ max-width: 60rem; margin: 0 auto; padding: 1rem 1.25rem 6rem; }}
  .cards {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); gap: 1rem; }}
  .card {{ background: #fff; border: 1px solid #b9b9b9; border-radius: .5rem; padding: 1rem; }}
  .card h3 {{ margin-top: 0; }}
  a {{ color: #1f4f7a; }}
  .alert {{ border-left: .4rem solid #8a4b00; background: #fff4e5; padding: .75rem 1rem; }}
  code {{ display: block; white-space: pre-wrap; overflow-wrap: anywhere; background: #eee; padding: .5rem; font-size: .85rem; }}
  footer {{ background: #e8e6e1; padding: 1rem 1.25rem; }}
</style>
</head>
<body>
<a class="skip" href="#contenu">Aller au contenu</a>
<header>
  <p>Commune fictive – site de démonstration</p>
  <h1>Mairie de {name}</h1>
  <nav aria-label="Menu principal">
    <ul>
      <li><a href="#demarches">Démarches</a></li>
      <li><a href="#cadre-de-vie">Cadre de vie</a></li>
      <li><a href="#contact">Contact</a></li>
    </ul>
  </nav>
</header>
<main id="contenu">
  <p class="alert"><strong>Info travaux :</strong> la rue Pasteur est fermée à la circulation entre le n° 10 et le n° 30 pendant les travaux de voirie.</p>
  <h2>Bienvenue sur le site de la commune</h2>
  <p>Horaires, rendez-vous pour un passeport ou une carte d'identité, signalement d'un problème sur la voie publique :
     l'assistant de la mairie vous répond à toute heure. Ouvrez-le avec le bouton « Assistant de la mairie » en bas de la page.</p>
  <div class="cards">
    <section class="card" id="demarches">
      <h3>Démarches</h3>
      <p>Prenez rendez-vous pour votre passeport ou votre carte d'identité, demandez un acte d'état civil.</p>
    </section>
    <section class="card" id="cadre-de-vie">
      <h3>Cadre de vie</h3>
      <p>Collecte des déchets, encombrants, travaux en cours. Signalez un nid-de-poule ou un lampadaire en panne.</p>
    </section>
    <section class="card" id="contact">
      <h3>Contact</h3>
      <p>Mairie de {name}<br>place de la Mairie<br>Téléphone : 02 40 12 34 00</p>
    </section>
  </div>
  <h2>Ajouter l'assistant à un site</h2>
  <p>Une seule ligne suffit, à placer avant la fin de la page :</p>
  <code>{escape(snippet)}</code>
</main>
<footer>
  <p>© Mairie de {name} (commune fictive) – <a href="/confidentialite">Données personnelles</a></p>
</footer>
{snippet}
</body>
</html>"""
    return HTMLResponse(page)
