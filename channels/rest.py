"""Rasa REST channel (``POST /webhooks/rest/webhook``) with checked input.

Same routes, same answers and same ``input_channel`` ("rest") as Rasa's ``RestInput``, plus:

- the raw body is read up to ``TOWNHALL_MAX_BODY_BYTES`` (64 KB) before any JSON parsing;
  a larger one gets 413;
- a body that is not UTF-8, not JSON, not an object, or without a string ``sender`` and a
  string ``message`` gets a clear 400 with a French JSON error, never a 500;
- a message longer than ``TOWNHALL_MAX_MESSAGE_CHARS`` (2000) characters is not passed to
  Rasa (nothing parsed, nothing stored): the citizen is asked to sum it up;
- a message holding several requests is handed to Rasa one request at a time
  (``limits.one_request_at_a_time``);
- a failure inside Rasa is logged without the citizen's text (it may hold an e-mail address).
"""
from __future__ import annotations

import json
import logging
from asyncio import CancelledError
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, Optional, Text, Tuple, Union

import rasa.utils.endpoints
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from channels import limits

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 255  # the tracker store's sender_id column
MAX_INPUT_CHANNEL_CHARS = 32

NOT_UTF8 = "Le corps de la requête doit être du JSON encodé en UTF-8."
NOT_JSON = "Le corps de la requête n'est pas du JSON valide."
NOT_OBJECT = "Le corps de la requête doit être un objet JSON avec les champs « sender » et « message »."
BAD_SENDER = "Le champ « sender » (identifiant de la conversation) est obligatoire : une chaîne de 1 à 255 caractères."
BAD_MESSAGE = "Le champ « message » est obligatoire et doit être une chaîne de caractères."
BAD_METADATA = "Le champ « metadata » doit être un objet JSON."
BAD_INPUT_CHANNEL = "Le champ « input_channel » doit être une chaîne de 1 à 32 caractères."


@dataclass(frozen=True)
class RestMessage:
    sender: str
    text: str
    metadata: Optional[Dict[str, Any]]
    input_channel: Optional[str]


class BadBody(ValueError):
    """A request body the channel cannot turn into a message; ``str()`` is the French reason."""


def _clean_text(text: str) -> str:
    # NUL characters cannot be stored by PostgreSQL; lone surrogates cannot be encoded.
    text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadBody(NOT_UTF8) from None
    return text


def parse_body(body: bytes) -> RestMessage:
    """The message a REST body carries; raises ``BadBody`` with a French reason otherwise."""
    try:
        decoded = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadBody(NOT_UTF8) from None
    try:
        payload = json.loads(decoded)
    except (ValueError, RecursionError):
        raise BadBody(NOT_JSON) from None
    if not isinstance(payload, dict):
        raise BadBody(NOT_OBJECT)
    sender, text = payload.get("sender"), payload.get("message")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
        raise BadBody(BAD_SENDER)
    if not isinstance(text, str):
        raise BadBody(BAD_MESSAGE)
    metadata = payload.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise BadBody(BAD_METADATA)
    channel = payload.get("input_channel")
    if channel is not None and (
        not isinstance(channel, str) or not channel or len(channel) > MAX_INPUT_CHANNEL_CHARS
    ):
        raise BadBody(BAD_INPUT_CHANNEL)
    return RestMessage(_clean_text(sender), _clean_text(text), metadata, channel)


class RestChannel(RestInput):
    """Rasa's REST channel with the checks above; ``credentials.yml``: ``channels.rest.RestChannel``."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls()

    def __init__(
        self, max_message_chars: Optional[int] = None, max_body_bytes: Optional[int] = None
    ) -> None:
        self.max_message_chars = max_message_chars or limits.max_message_chars()
        self.max_body_bytes = max_body_bytes or limits.max_body_bytes()

    async def read_message(self, request: Request) -> Tuple[Optional[RestMessage], Optional[HTTPResponse]]:
        """``(message, None)``, or ``(None, error response)`` for a body too large or invalid."""
        body, error = await limits.read_body(request, self.max_body_bytes)
        if error is not None:
            return None, error
        try:
            return parse_body(body or b""), None
        except BadBody as exc:
            return None, limits.json_error(400, "invalid_body", str(exc))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = Blueprint("townhall_rest_webhook", __name__)
        on_new_message = limits.one_request_at_a_time(on_new_message)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> Union[ResponseStream, HTTPResponse]:
            message, error = await self.read_message(request)
            if error is not None:
                return error
            assert message is not None
            if limits.is_too_long(message.text, self.max_message_chars):
                logger.info(
                    "REST message of %d characters not passed to Rasa (limit %d).",
                    len(message.text), self.max_message_chars,
                )
                return response.json(
                    [{"recipient_id": message.sender, "text": limits.too_long_answer(self.max_message_chars)}],
                    ensure_ascii=False,
                )
            input_channel = message.input_channel or self.name()
            if rasa.utils.endpoints.bool_arg(request, "stream", default=False):
                return response.stream(
                    self.stream_response(
                        on_new_message, message.text, message.sender, input_channel, message.metadata
                    ),
                    content_type="text/event-stream",
                )
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        message.text, collector, message.sender,
                        input_channel=input_channel, metadata=message.metadata,
                    )
                )
            except CancelledError:
                logger.error("REST message timed out (%d characters).", len(message.text))
            except Exception:
                # No text in the log: it may hold the citizen's e-mail address or phone number.
                logger.error("REST message could not be handled (%d characters).", len(message.text), exc_info=True)
            return response.json(collector.messages)

        return webhook
