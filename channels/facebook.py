"""Facebook Messenger channel, answering at ``/webhooks/facebook/webhook``.

It extends Rasa's own Facebook channel where Messenger needs more than it does:

- every request is checked against ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body with
  the app secret, compared as bytes); a request without a valid signature gets 403 and is not
  processed; the raw body is read up to ``TOWNHALL_MAX_WEBHOOK_BODY_BYTES`` (1 MB, else 413);
- a replayed message (same message id ``mid``, e.g. Messenger's retries or a replayed signed
  request) is dropped: ids are remembered 24 h in ``townhall.channel_dedup``;
- a text longer than ``TOWNHALL_MAX_MESSAGE_CHARS`` (2000) characters is not passed to Rasa:
  the citizen is asked to sum it up;
- every entry and every messaging item of a batched webhook is handled (Rasa's stops at the
  first one);
- a location attachment becomes ``/inform{"incident_latitude": .., "incident_longitude": ..}``
  and an image attachment ``/inform{"incident_photo": "<url>"}``;
- buttons become quick replies (Messenger shows at most 13; more choices are paged with an
  "Autres choix" quick reply, titles longer than 20 characters are numbered and written in
  full in the message), link buttons become button templates of at most 3 buttons; the choices
  left are kept in the application database (``townhall.channel_pages``, 24 h), so that the
  Rasa process that gets the "Autres choix" webhook may be another one than the one that sent
  the first page (nginx spreads webhooks over several);
- messages are sent asynchronously (httpx) to the Graph API at ``FACEBOOK_GRAPH_URL``, so tests
  point it at a local fake that records what the bot sends; the page access token goes in an
  ``Authorization: Bearer`` header, never in the URL (httpx logs URLs at INFO).

Settings come from environment variables, read here so that nothing secret is written in
``credentials.yml``: ``FACEBOOK_VERIFY_TOKEN``, ``FACEBOOK_APP_SECRET``,
``FACEBOOK_PAGE_ACCESS_TOKEN`` (the channel is on when all three are set; otherwise its
routes answer 503) and ``FACEBOOK_GRAPH_URL``.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import re
import uuid
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Text

import httpx
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.facebook import FacebookInput, MessengerBot
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import limits
from townhall import channel_dedup, channel_pages

logger = logging.getLogger(__name__)

DEFAULT_GRAPH_URL = "https://graph.facebook.com/v19.0"

MAX_QUICK_REPLIES = 13
MAX_TEMPLATE_BUTTONS = 3
MAX_QUICK_REPLY_TITLE = 20
MAX_TEXT = 2000
MAX_TEMPLATE_TEXT = 640
MORE_CHOICES_TITLE = "Autres choix"
MORE_CHOICES_PREFIX = "__autres_choix__:"
MORE_LINKS_TEXT = "Autres liens :"
PAGES_KEPT_IN_MEMORY = 1000
SHARE_LOCATION = "/share_location"


def _env(name: str) -> str:
    return (os.environ.get(name) or "").strip()


def signature_is_valid(app_secret: str, body: bytes, header: Optional[str]) -> bool:
    """True when ``header`` is ``sha256=<hex HMAC-SHA256 of body with app_secret>``.

    Compared as bytes: ``hmac.compare_digest`` raises on non-ASCII strings, and a header with
    any character must give a refusal (403), not an error.
    """
    if not app_secret or not isinstance(header, str) or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest().encode("ascii")
    given = header[len("sha256="):].strip().lower().encode("utf-8", "backslashreplace")
    return hmac.compare_digest(expected, given)


def inform_payload(**values: Any) -> str:
    """A Rasa payload message ``/inform{...}`` carrying ``values`` as entities."""
    return "/inform" + json.dumps(values, ensure_ascii=False)


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _is_link(button: Dict[str, Any]) -> bool:
    return bool(button.get("url")) or button.get("type") == "web_url"


class QuickReplyPages:
    """Choices left to show after an "Autres choix" quick reply, for one channel.

    Messenger shows at most 13 quick replies, so a longer list is cut into pages; the last
    quick reply of a page asks for the next one, which the channel sends itself. The pages are
    kept in the application database (``townhall.channel_pages``: sender id hashed, titles and
    payloads only), which every Rasa process behind the load balancer reads; the database is
    called in a worker thread, never in the event loop. When it cannot be reached, a page is
    kept in this process's memory (bounded), as a last resort.
    """

    def __init__(self, database_url: Optional[str] = None, channel: str = "facebook",
                 capacity: int = PAGES_KEPT_IN_MEMORY) -> None:
        self.database_url = database_url  # None: DATABASE_URL, read at each call
        self.channel = channel
        self.capacity = capacity
        self._fallback: "OrderedDict[tuple, List[Dict[str, Any]]]" = OrderedDict()

    async def keep(self, recipient_id: str, choices: List[Dict[str, Any]]) -> str:
        try:
            return await asyncio.to_thread(
                channel_pages.keep_page, self.channel, recipient_id, choices, self.database_url
            )
        except Exception as exc:  # the class only: SQLAlchemy's messages quote the parameters
            logger.warning("Choice pages unavailable in the database (%s): page kept in this process.",
                           type(exc).__name__)
        token = "m" + uuid.uuid4().hex[:15]
        self._fallback[(recipient_id, token)] = choices
        while len(self._fallback) > self.capacity:
            self._fallback.popitem(last=False)
        return token

    async def take(self, recipient_id: str, token: str) -> Optional[List[Dict[str, Any]]]:
        kept = self._fallback.pop((recipient_id, token), None)
        if kept is not None:
            return kept
        try:
            return await asyncio.to_thread(
                channel_pages.take_page, self.channel, recipient_id, token, self.database_url
            )
        except Exception as exc:
            logger.warning("Choice pages unavailable in the database (%s).", type(exc).__name__)
            return None


class GraphClient:
    """Sends messages to the Graph API's Send API (``POST {graph}/me/messages``)."""

    def __init__(self, page_access_token: str, graph_url: str) -> None:
        self.page_access_token = page_access_token
        self.graph_url = graph_url.rstrip("/")

    async def post(self, body: Dict[str, Any]) -> None:
        url = f"{self.graph_url}/me/messages"
        if self.page_access_token and not re.fullmatch(r"[\x21-\x7e]+", self.page_access_token):
            # httpx and httpcore would quote the bad header, token included, in their errors.
            logger.warning("FACEBOOK_PAGE_ACCESS_TOKEN holds characters a token cannot have: message not sent.")
            return
        # The token in a header, not in the URL: httpx logs every request's URL at INFO.
        headers = {"Authorization": f"Bearer {self.page_access_token}"} if self.page_access_token else {}
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                answer = await client.post(url, headers=headers, json=body)
            if answer.status_code >= 400:
                logger.warning("Graph API refused a message: %s %s", answer.status_code, self._scrub(answer.text[:500]))
        except httpx.HTTPError as exc:
            # httpx's messages may quote a header value (e.g. "Illegal header value b'Bearer ...'").
            logger.warning("Graph API unreachable (%s): %s: %s", url, type(exc).__name__, self._scrub(str(exc)))

    def _scrub(self, text: str) -> str:
        return text.replace(self.page_access_token, "[jeton masqué]") if self.page_access_token else text

    async def send_message(self, recipient_id: str, message: Dict[str, Any]) -> None:
        await self.post(
            {"messaging_type": "RESPONSE", "recipient": {"id": recipient_id}, "message": message}
        )

    async def send_action(self, recipient_id: str, action: str) -> None:
        await self.post({"recipient": {"id": recipient_id}, "sender_action": action})


class FacebookOutput(MessengerBot):
    """Messenger output: text, quick replies (paged), button templates, images, files."""

    @classmethod
    def name(cls) -> Text:
        return "facebook"

    def __init__(self, client: GraphClient, pages: Optional[QuickReplyPages] = None) -> None:
        OutputChannel.__init__(self)
        self.client = client
        self.pages = pages if pages is not None else QuickReplyPages()

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        for part in (text or "").strip().split("\n\n"):
            if part.strip():
                await self.client.send_message(recipient_id, {"text": _truncate(part, MAX_TEXT)})

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self.client.send_message(
            recipient_id,
            {"attachment": {"type": "image", "payload": {"url": image, "is_reusable": True}}},
        )

    async def send_attachment(self, recipient_id: Text, attachment: Any, **kwargs: Any) -> None:
        """A file (e.g. the appointment's .ics): sent as a file when it has a URL."""
        url = attachment.get("url") if isinstance(attachment, dict) else attachment
        if isinstance(url, str) and url.startswith(("http://", "https://")):
            await self.client.send_message(
                recipient_id, {"attachment": {"type": "file", "payload": {"url": url}}}
            )
        elif isinstance(url, str):
            await self.send_text_message(recipient_id, url)

    async def send_action(self, recipient_id: Text, sender_action: Text) -> None:
        await self.client.send_action(recipient_id, sender_action)

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        # "/share_location" buttons are for the web widget (navigator.geolocation); Messenger
        # citizens send a location attachment instead, which the channel maps the same way.
        buttons = [b for b in buttons if not str(b.get("payload", "")).startswith(SHARE_LOCATION)]
        links = [button for button in buttons if _is_link(button)]
        choices = [button for button in buttons if not _is_link(button)]
        if links:
            await self._send_link_templates(recipient_id, text if not choices else "", links)
        if choices:
            await self.send_quick_replies(recipient_id, text, choices)
        elif not links:
            await self.send_text_message(recipient_id, text)

    async def _send_link_templates(
        self, recipient_id: str, text: str, links: List[Dict[str, Any]]
    ) -> None:
        """Link buttons, three per button template (Messenger's limit)."""
        for start in range(0, len(links), MAX_TEMPLATE_BUTTONS):
            chunk = links[start : start + MAX_TEMPLATE_BUTTONS]
            heading = text if start == 0 and text.strip() else MORE_LINKS_TEXT if start else "Liens utiles :"
            await self.client.send_message(
                recipient_id,
                {
                    "attachment": {
                        "type": "template",
                        "payload": {
                            "template_type": "button",
                            "text": _truncate(heading, MAX_TEMPLATE_TEXT),
                            "buttons": [
                                {
                                    "type": "web_url",
                                    "url": button.get("url") or button.get("payload"),
                                    "title": _truncate(str(button.get("title", "Ouvrir")), MAX_QUICK_REPLY_TITLE),
                                }
                                for button in chunk
                            ],
                        },
                    }
                },
            )

    async def send_quick_replies(
        self, recipient_id: Text, text: Text, quick_replies: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        """At most 13 quick replies a message; more choices are paged, none is dropped."""
        choices = [
            {"title": str(choice.get("title", "")), "payload": str(choice.get("payload", ""))}
            for choice in quick_replies
        ]
        await self._send_choice_page(recipient_id, text, choices, first=True)

    async def _send_choice_page(
        self, recipient_id: str, text: str, choices: List[Dict[str, Any]], first: bool
    ) -> None:
        if len(choices) > MAX_QUICK_REPLIES:
            page, rest = choices[: MAX_QUICK_REPLIES - 1], choices[MAX_QUICK_REPLIES - 1 :]
        else:
            page, rest = choices, []
        long_titles = any(len(choice["title"]) > MAX_QUICK_REPLY_TITLE for choice in page)
        parts = (text or "").strip().split("\n\n") if first else []
        body = parts[-1] if parts else ("Autres choix :" if not first else "Choisissez :")
        for part in parts[:-1]:
            await self.send_text_message(recipient_id, part)
        quick_replies = []
        if long_titles:
            # Full titles in the message, numbered; the quick replies repeat the numbers.
            lines = [f"{number}. {choice['title']}" for number, choice in enumerate(page, 1)]
            body = body + "\n" + "\n".join(lines)
        for number, choice in enumerate(page, 1):
            title = choice["title"] or str(number)
            if long_titles:
                title = f"{number}. {title}"
            quick_replies.append(
                {
                    "content_type": "text",
                    "title": _truncate(title, MAX_QUICK_REPLY_TITLE),
                    "payload": choice["payload"] or choice["title"],
                }
            )
        if rest:
            token = await self.pages.keep(recipient_id, rest)
            quick_replies.append(
                {
                    "content_type": "text",
                    "title": MORE_CHOICES_TITLE,
                    "payload": MORE_CHOICES_PREFIX + token,
                }
            )
        await self.client.send_message(
            recipient_id, {"text": _truncate(body, MAX_TEXT), "quick_replies": quick_replies}
        )

    async def send_more_choices(self, recipient_id: str, token: str) -> bool:
        """Sends the next page of choices; False when they are no longer known."""
        rest = await self.pages.take(recipient_id, token)
        if rest is None:
            return False
        await self._send_choice_page(recipient_id, "", rest, first=False)
        return True

    async def send_elements(
        self, recipient_id: Text, elements: Iterable[Dict[str, Any]], **kwargs: Any
    ) -> None:
        elements = list(elements)
        for element in elements:
            for button in element.get("buttons", []):
                button.setdefault("type", "postback")
        await self.client.send_message(
            recipient_id,
            {"attachment": {"type": "template", "payload": {"template_type": "generic", "elements": elements}}},
        )

    async def send_custom_json(self, recipient_id: Text, json_message: Any, **kwargs: Any) -> None:
        """Messenger-shaped custom payloads are passed on; widget-only ones are skipped."""
        messages = json_message if isinstance(json_message, list) else [json_message]
        for message in messages:
            if not isinstance(message, dict):
                continue
            message = dict(message)
            target = (message.pop("sender", None) or {}).get("id", recipient_id)
            if {"text", "attachment"} & message.keys():
                await self.client.send_message(target, message)
            else:
                logger.debug("Custom payload not meant for Messenger skipped: %s", list(message))


class FacebookChannel(FacebookInput):
    """Messenger input channel; see the module docstring."""

    @classmethod
    def name(cls) -> Text:
        return "facebook"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        # Secrets are read from the environment, never from credentials.yml.
        return cls(
            _env("FACEBOOK_VERIFY_TOKEN"),
            _env("FACEBOOK_APP_SECRET"),
            _env("FACEBOOK_PAGE_ACCESS_TOKEN"),
            _env("FACEBOOK_GRAPH_URL") or DEFAULT_GRAPH_URL,
        )

    def __init__(
        self,
        fb_verify: Text,
        fb_secret: Text,
        fb_access_token: Text,
        graph_url: Text = DEFAULT_GRAPH_URL,
    ) -> None:
        super().__init__(fb_verify, fb_secret, fb_access_token)
        self.graph_url = graph_url
        self.max_message_chars = limits.max_message_chars()
        self.max_body_bytes = limits.max_webhook_body_bytes()
        # (channel, message id) -> True the first time; replaced in tests.
        self.remember: Callable[[str, str], bool] = channel_dedup.remember
        # The "Autres choix" pages, in DATABASE_URL; replaced in tests.
        self.pages = QuickReplyPages(channel=self.name())

    @property
    def enabled(self) -> bool:
        return bool(self.fb_verify and self.fb_secret and self.fb_access_token)

    def get_output_channel(self) -> OutputChannel:
        return FacebookOutput(GraphClient(self.fb_access_token, self.graph_url), self.pages)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        fb_webhook = Blueprint("townhall_facebook_webhook", __name__)
        on_new_message = limits.one_request_at_a_time(on_new_message)
        not_configured = "Messenger n'est pas configuré sur ce serveur."

        @fb_webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.enabled else "disabled"})

        @fb_webhook.route("/webhook", methods=["GET"])
        async def token_verification(request: Request) -> HTTPResponse:
            if not self.enabled:
                return response.text(not_configured, status=503)
            token = request.args.get("hub.verify_token") or ""
            if request.args.get("hub.mode") == "subscribe" and hmac.compare_digest(
                token.encode(), self.fb_verify.encode()
            ):
                return response.text(request.args.get("hub.challenge") or "")
            logger.warning("Messenger webhook verification with a wrong verify token.")
            return response.text("Jeton de vérification invalide.", status=403)

        @fb_webhook.route("/webhook", methods=["POST"], stream=True)
        async def webhook(request: Request) -> HTTPResponse:
            if not self.enabled:
                return response.text(not_configured, status=503)
            body, too_large = await limits.read_body(request, self.max_body_bytes)
            if too_large is not None:
                logger.warning("Messenger webhook refused: body over %d bytes.", self.max_body_bytes)
                return too_large
            body = body or b""
            header = request.headers.get("X-Hub-Signature-256")
            if not signature_is_valid(self.fb_secret, body, header):
                logger.warning("Messenger webhook refused: missing or invalid X-Hub-Signature-256.")
                return response.text("Signature invalide.", status=403)
            try:
                payload = json.loads(body or b"{}")
            except (ValueError, RecursionError):
                return response.text("Corps JSON invalide.", status=400)
            if not isinstance(payload, dict):
                return response.text("Corps JSON invalide.", status=400)
            metadata = self.get_metadata(request)
            await self.handle_payload(payload, on_new_message, metadata)
            return response.text("success")

        return fb_webhook

    async def handle_payload(
        self,
        payload: Dict[str, Any],
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        metadata: Optional[Dict[str, Any]] = None,
    ) -> None:
        """Handles every entry and every messaging item of a (batched) webhook."""
        entries = payload.get("entry")
        for entry in entries if isinstance(entries, list) else []:
            items = entry.get("messaging") if isinstance(entry, dict) else None
            for item in items if isinstance(items, list) else []:
                if not isinstance(item, dict):
                    continue
                try:
                    await self._handle_item(item, on_new_message, metadata)
                except Exception:  # one bad item must not lose the others
                    logger.exception("Messenger item could not be handled.")

    async def _handle_item(
        self,
        item: Dict[str, Any],
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        metadata: Optional[Dict[str, Any]],
    ) -> None:
        sender = item.get("sender")
        sender_id = str((sender if isinstance(sender, dict) else {}).get("id") or "")
        if not sender_id:
            return
        texts = [limits.readable_text(text) for text in self.texts_of(item)]
        if not texts:
            return
        if not await self._first_sighting(item):
            logger.info("Messenger message already handled (replay or retry): ignored.")
            return
        output = self.get_output_channel()
        for text in texts:
            if limits.is_too_long(text, self.max_message_chars):
                logger.info(
                    "Messenger message of %d characters not passed to Rasa (limit %d).",
                    len(text), self.max_message_chars,
                )
                await output.send_text_message(sender_id, limits.too_long_answer(self.max_message_chars))
                continue
            if text.startswith(MORE_CHOICES_PREFIX):
                if await output.send_more_choices(sender_id, text[len(MORE_CHOICES_PREFIX):]):
                    continue
                await output.send_text_message(
                    sender_id, "Ces choix ne sont plus disponibles. Pouvez-vous répondre par écrit ?"
                )
                continue
            await output.send_action(sender_id, "mark_seen")
            await output.send_action(sender_id, "typing_on")
            try:
                await on_new_message(
                    UserMessage(text, output, sender_id, input_channel=self.name(), metadata=metadata)
                )
            except Exception:
                logger.exception("Messenger message could not be handled.")
            finally:
                await output.send_action(sender_id, "typing_off")

    @staticmethod
    def message_id_of(item: Dict[str, Any]) -> str:
        """Messenger's message id (``mid``) of a messaging item; for an item without one, a
        digest of the whole item (its timestamp makes two genuine postbacks differ)."""
        for key in ("message", "postback"):
            part = item.get(key)
            if isinstance(part, dict) and isinstance(part.get("mid"), str) and part["mid"]:
                return part["mid"]
        canonical = json.dumps(item, sort_keys=True, ensure_ascii=False, default=str)
        return "item:" + hashlib.sha256(canonical.encode("utf-8", "backslashreplace")).hexdigest()

    async def _first_sighting(self, item: Dict[str, Any]) -> bool:
        """True unless the item was already handled; True too when the store is unreachable
        (answering twice is better than not answering)."""
        try:
            return await asyncio.to_thread(self.remember, self.name(), self.message_id_of(item))
        except Exception:
            logger.warning("Messenger de-duplication unavailable: the message is handled.", exc_info=True)
            return True

    @staticmethod
    def texts_of(item: Dict[str, Any]) -> List[str]:
        """The user messages carried by one messaging item (none for echoes, reads...)."""
        if item.get("postback"):
            payload = item["postback"].get("payload") or item["postback"].get("title")
            return [str(payload)] if payload else []
        message = item.get("message")
        if not isinstance(message, dict) or message.get("is_echo"):
            return []
        quick_reply = message.get("quick_reply") or {}
        if quick_reply.get("payload"):
            return [str(quick_reply["payload"])]
        texts = []
        if message.get("text"):
            texts.append(str(message["text"]))
        for attachment in message.get("attachments") or []:
            text = FacebookChannel._text_of_attachment(attachment or {})
            if text:
                texts.append(text)
        return texts

    @staticmethod
    def _text_of_attachment(attachment: Dict[str, Any]) -> Optional[str]:
        kind = attachment.get("type")
        payload = attachment.get("payload") or {}
        if kind == "location":
            coordinates = payload.get("coordinates") or {}
            try:
                latitude = float(coordinates["lat"])
                longitude = float(coordinates.get("long", coordinates.get("lng")))
            except (KeyError, TypeError, ValueError):
                return None
            return inform_payload(incident_latitude=latitude, incident_longitude=longitude)
        url = payload.get("url")
        if not url or payload.get("sticker_id"):
            return None  # stickers (the "like" thumb...) carry nothing the bot can use
        if kind == "image":
            return inform_payload(incident_photo=url)
        # audio, video, file: the link, as Rasa's own channel does.
        return str(url)
