"""Rasa socket.io channel (web widget, path ``/socket.io``) with checked input.

Same events, rooms and ``input_channel`` ("socketio") as Rasa's ``SocketIOInput``, plus:

- an Engine.IO packet larger than ``TOWNHALL_MAX_BODY_BYTES`` (64 KB) is refused by the
  socket.io server itself (``max_http_buffer_size``) before it is decoded;
- a ``user_uttered`` event that is not an object, or whose ``message`` is not a string, is
  ignored (logged without its content), never an error inside Rasa;
- a message longer than ``TOWNHALL_MAX_MESSAGE_CHARS`` (2000) characters is not passed to
  Rasa (nothing parsed, nothing stored): the citizen is asked to sum it up;
- a message holding several requests is handed to Rasa one request at a time
  (``limits.one_request_at_a_time``).
"""
from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from channels import limits

logger = logging.getLogger(__name__)

MAX_SESSION_ID_CHARS = 255  # the tracker store's sender_id column
UNREADABLE = "Votre message n'a pas pu être lu. Pouvez-vous le renvoyer ?"


class SocketIOChannel(SocketIOInput):
    """Rasa's socket.io channel with the checks above; ``channels.socketio.SocketIOChannel``."""

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("namespace"),
            credentials.get("session_persistence", False),
            credentials.get("socketio_path", "/socket.io"),
            credentials.get("jwt_key"),
            credentials.get("jwt_method", "HS256"),
            credentials.get("metadata_key", "metadata"),
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_message_chars = limits.max_message_chars()
        self.max_body_bytes = limits.max_body_bytes()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None
        # Engine.IO refuses larger packets (HTTP long-polling: 413; websocket: closed).
        sio.eio.max_http_buffer_size = self.max_body_bytes

        each_request = limits.one_request_at_a_time(on_new_message)

        async def handle_message(sid: Text, data: Any = None) -> None:
            await self.handle_user_message(sid, data, each_request)

        # Replaces the handler Rasa registered for the same event and namespace.
        sio.on(self.user_message_evt, handler=handle_message, namespace=self.namespace)
        return webhook

    async def handle_user_message(
        self, sid: Text, data: Any, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        sio = self.sio
        assert sio is not None
        output = SocketIOOutput(sio, self.bot_message_evt)
        if not isinstance(data, dict):
            logger.warning("socket.io event ignored: not an object (%s).", type(data).__name__)
            await output.send_text_message(sid, UNREADABLE)
            return
        if self.session_persistence:
            sender_id = data.get("session_id")
            if not isinstance(sender_id, str) or not sender_id or len(sender_id) > MAX_SESSION_ID_CHARS:
                logger.warning("socket.io message without a valid session_id ignored.")
                return
        else:
            sender_id = sid
        text = data.get("message", "")
        if isinstance(text, str):
            try:
                text.encode("utf-8")  # lone surrogates cannot be stored
            except UnicodeEncodeError:
                text = None
        if not isinstance(text, str):
            logger.warning("socket.io message ignored: its text is a %s.", type(text).__name__)
            await output.send_text_message(sender_id, UNREADABLE)
            return
        text = text.replace("\x00", "")
        if limits.is_too_long(text, self.max_message_chars):
            logger.info(
                "socket.io message of %d characters not passed to Rasa (limit %d).",
                len(text), self.max_message_chars,
            )
            await output.send_text_message(sender_id, limits.too_long_answer(self.max_message_chars))
            return
        metadata = data.get(self.metadata_key) or {}
        if isinstance(metadata, str):
            try:
                metadata = json.loads(metadata)
            except ValueError:
                metadata = {}
        if not isinstance(metadata, dict):
            metadata = {}
        await on_new_message(
            UserMessage(text, output, sender_id, input_channel=self.name(), metadata=metadata)
        )
