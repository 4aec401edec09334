"""What every citizen channel checks before a message reaches Rasa's NLU and tracker.

- A message longer than ``MAX_MESSAGE_CHARS`` characters (``TOWNHALL_MAX_MESSAGE_CHARS``,
  default 2000) is not passed to Rasa: nothing of it is parsed or stored, and the citizen is
  asked to sum it up (``too_long_answer``).
- A message holding several requests (« ... et aussi ... ») reaches Rasa as consecutive
  messages, one per request (``one_request_at_a_time``, ``townhall.splitting``).
- A request body larger than ``TOWNHALL_MAX_BODY_BYTES`` (default 64 KB; Messenger's batched
  webhooks ``TOWNHALL_MAX_WEBHOOK_BODY_BYTES``, default 1 MB) is refused with 413 before any
  JSON parsing (``read_body``).

Errors given to HTTP clients are JSON with a French sentence: ``{"error": code, "message": ...}``.
"""
from __future__ import annotations

import logging
import os
import re
from typing import Any, Awaitable, Callable, Optional, Tuple

from rasa.core.channels.channel import UserMessage

from sanic import response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse

from townhall import splitting

logger = logging.getLogger(__name__)

DEFAULT_MAX_MESSAGE_CHARS = 2000
DEFAULT_MAX_BODY_BYTES = 64 * 1024
DEFAULT_MAX_WEBHOOK_BODY_BYTES = 1024 * 1024


def _positive_int(name: str, default: int) -> int:
    try:
        value = int((os.environ.get(name) or "").strip() or default)
    except ValueError:
        logger.warning("%s is not a number; %d is used.", name, default)
        return default
    return value if value > 0 else default


def max_message_chars() -> int:
    return _positive_int("TOWNHALL_MAX_MESSAGE_CHARS", DEFAULT_MAX_MESSAGE_CHARS)


def max_body_bytes() -> int:
    return _positive_int("TOWNHALL_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)


def max_webhook_body_bytes() -> int:
    return _positive_int("TOWNHALL_MAX_WEBHOOK_BODY_BYTES", DEFAULT_MAX_WEBHOOK_BODY_BYTES)


MAX_MESSAGE_CHARS = max_message_chars()


def french_number(value: int) -> str:
    """2000 -> "2 000" (thousands separated by a space, as French writes them)."""
    return f"{value:,}".replace(",", " ")


def too_long_answer(limit: Optional[int] = None) -> str:
    limit = limit or max_message_chars()
    return (
        f"Votre message est trop long ({french_number(limit)} caractères au plus). "
        "Pouvez-vous le résumer en quelques phrases ?"
    )


_SURROGATE = re.compile("[\ud800-\udfff]")


def readable_text(text: str) -> str:
    """``text`` that spaCy, PostgreSQL and UTF-8 accept: NUL removed, lone surrogates (which
    cannot be encoded) replaced by U+FFFD."""
    return _SURROGATE.sub("\ufffd", text.replace("\x00", ""))


def is_too_long(text: str, limit: Optional[int] = None) -> bool:
    return len(text) > (limit or max_message_chars())


def json_error(status: int, code: str, message: str) -> HTTPResponse:
    return response.json({"error": code, "message": message}, status=status, ensure_ascii=False)


def body_too_large(limit: int) -> HTTPResponse:
    size = f"{french_number(limit // 1024)} Ko" if limit >= 1024 else f"{limit} octets"
    return json_error(413, "body_too_large", f"La requête est trop volumineuse ({size} au plus).")


async def read_body(request: Request, limit: int) -> Tuple[Optional[bytes], Optional[HTTPResponse]]:
    """The raw body of a streamed request, read up to ``limit`` bytes.

    Returns ``(body, None)``, or ``(None, 413 response)`` as soon as the body (or its announced
    Content-Length) goes beyond the limit; the rest of it is never kept in memory.
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                return None, body_too_large(limit)
        except ValueError:
            return None, json_error(400, "invalid_body", "La requête est mal formée.")
    stream = request.stream
    if request.body or stream is None or not getattr(stream, "request_body", None):
        # A non-streamed route (Sanic has already read the body), or nothing left to read.
        body = request.body or b""
        return (body, None) if len(body) <= limit else (None, body_too_large(limit))
    # Sanic stops reading (and closes the connection) past this size, even while draining.
    if hasattr(stream, "request_max_size"):
        stream.request_max_size = min(stream.request_max_size, limit)
    chunks, size = [], 0
    try:
        while True:
            chunk = await stream.read()
            if chunk is None:
                break
            size += len(chunk)
            if size > limit:
                return None, body_too_large(limit)
            chunks.append(chunk)
    except PayloadTooLarge:
        return None, body_too_large(limit)
    return b"".join(chunks), None


def one_request_at_a_time(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
) -> Callable[[UserMessage], Awaitable[None]]:
    """``on_new_message`` that hands each request of a message to Rasa in turn, with the same
    sender, output channel and metadata: the citizen gets the answers in order."""

    async def handle(message: UserMessage) -> None:
        parts = splitting.requests_in(message.text or "")
        if len(parts) == 1:  # the message as the channel made it (its id included)
            await on_new_message(message)
            return
        logger.info("Message of %d characters taken as %d requests.", len(message.text), len(parts))
        for part in parts:
            await on_new_message(
                UserMessage(
                    part, message.output_channel, message.sender_id,
                    input_channel=message.input_channel, metadata=message.metadata,
                )
            )

    return handle
