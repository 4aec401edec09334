"""Outgoing e-mail. Local mode by default: messages are written to an outbox folder.

With ``SMTP_HOST`` set, messages go through that server (``SMTP_PORT``, default 587 with
STARTTLS; ``SMTP_USER`` / ``SMTP_PASSWORD`` when it needs a login). ``MAIL_FROM`` names the
sender. Tests and the demo read what was "sent" in ``TOWNHALL_OUTBOX`` (``var/outbox``).
"""
from __future__ import annotations

import logging
import os
import smtplib
import uuid
from email.message import EmailMessage
from pathlib import Path

from townhall import config

logger = logging.getLogger(__name__)


def sender() -> str:
    return os.environ.get("MAIL_FROM") or f"Mairie de {config.commune().name} <{config.commune().main_email}>"


def send(to: str, subject: str, body: str) -> Path | None:
    """Send one plain-text e-mail; returns the outbox file in local mode."""
    message = EmailMessage()
    message["From"] = sender()
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid4().hex}@{config.commune().main_email.split('@')[-1]}>"
    message.set_content(body)
    host = os.environ.get("SMTP_HOST")
    if host:
        with smtplib.SMTP(host, int(os.environ.get("SMTP_PORT", "587")), timeout=10) as smtp:
            if os.environ.get("SMTP_STARTTLS", "1") == "1":
                smtp.starttls()
            if os.environ.get("SMTP_USER"):
                smtp.login(os.environ["SMTP_USER"], os.environ.get("SMTP_PASSWORD", ""))
            smtp.send_message(message)
        return None
    outbox = config.outbox_dir()
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"{uuid.uuid4().hex}.eml"
    path.write_bytes(bytes(message))
    return path
