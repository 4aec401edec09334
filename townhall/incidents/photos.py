"""Photos of reports: checked by content (magic bytes, Pillow), bounded in size, stored locally.

A photo is either an upload stored here (:func:`store`, under ``var/uploads/incidents/``,
published as ``/uploads/incidents/<name>``) or an ``http(s)`` URL on an allowed host (the
Messenger CDN by default; ``INCIDENT_PHOTO_HOSTS`` lists others, comma-separated). Nothing
else is accepted: no other site, no local path outside the uploads folder.
"""
from __future__ import annotations

import io
import os
import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from PIL import Image, UnidentifiedImageError

from townhall import config
from townhall.incidents.errors import InvalidPhoto

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_URL_CHARS = 500
FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}
DEFAULT_HOSTS = ("fbcdn.net", "fbsbx.com")
PUBLIC_PREFIX = "/uploads/incidents/"
_LOCAL = re.compile(r"^/?uploads/incidents/([a-f0-9]{32}\.(?:jpg|png|gif|webp))$")
# Magic bytes of the accepted formats, checked before Pillow parses anything.
_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")


def uploads_dir() -> Path:
    return Path(os.environ.get("TOWNHALL_UPLOADS_DIR", config.VAR_DIR / "uploads")) / "incidents"


def allowed_hosts() -> tuple[str, ...]:
    configured = os.environ.get("INCIDENT_PHOTO_HOSTS")
    if configured:
        return tuple(h.strip().lower().lstrip(".") for h in configured.split(",") if h.strip())
    return DEFAULT_HOSTS


def _has_image_magic(data: bytes) -> bool:
    return data.startswith(_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def check_image(data: bytes) -> str:
    """The file extension of an acceptable image, or InvalidPhoto with the reason."""
    if not data:
        raise InvalidPhoto("photo_empty")
    if len(data) > MAX_BYTES:
        raise InvalidPhoto("photo_too_heavy")
    if not _has_image_magic(data):
        raise InvalidPhoto("photo_not_an_image")
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt = image.format
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise InvalidPhoto("photo_unreadable") from None
    if fmt not in FORMATS:
        raise InvalidPhoto("photo_format")
    if width * height > MAX_PIXELS:
        raise InvalidPhoto("photo_too_large")
    return FORMATS[fmt]


def store(data: bytes) -> str:
    """Check and store an uploaded photo; returns its public path (``/uploads/incidents/<name>``)."""
    extension = check_image(data)
    folder = uploads_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{extension}"
    (folder / name).write_bytes(data)
    return PUBLIC_PREFIX + name


def _host_allowed(host: str) -> bool:
    host = host.lower().rstrip(".")
    return any(host == allowed or host.endswith("." + allowed) for allowed in allowed_hosts())


def accept(value: str | None) -> str:
    """The photo reference to keep for ``value`` (a stored upload or an allowed URL), or InvalidPhoto."""
    value = (value or "").strip()
    if not value:
        raise InvalidPhoto("photo_missing")
    if len(value) > MAX_URL_CHARS:
        raise InvalidPhoto("photo_link_too_long")
    local = _LOCAL.match(value)
    if local:
        path = uploads_dir() / local.group(1)
        if not path.is_file():
            raise InvalidPhoto("photo_lost")
        if path.stat().st_size > MAX_BYTES:
            raise InvalidPhoto("photo_too_heavy")
        check_image(path.read_bytes())
        return PUBLIC_PREFIX + local.group(1)
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.hostname and not parts.username and not parts.password:
        if _host_allowed(parts.hostname) and not re.search(r"[\s<>\"']", value):
            return value
        raise InvalidPhoto("photo_site_refused")
    raise InvalidPhoto("photo_not_a_photo")
