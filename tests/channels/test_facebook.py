"""Messenger channel: unit tests of the channel, then tests against a running Rasa server.

The running-server tests start Rasa (with the tiny channel-fixture bot of tests/e2e/stack.py)
with ``FACEBOOK_GRAPH_URL`` pointing at a local fake Graph API that records what is sent.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid

import httpx
import pytest

from channels.facebook import (
    MAX_QUICK_REPLIES,
    MORE_CHOICES_PREFIX,
    FacebookChannel,
    FacebookOutput,
    GraphClient,
    signature_is_valid,
)
from tests.channels.fake_graph import FakeGraph

SECRET = "app-secret-for-tests"
VERIFY = "verify-token-for-tests"
PAGE_TOKEN = "page-token-for-tests"


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------- unit tests


def test_signature_accepts_only_a_valid_sha256_hmac():
    body = b'{"object":"page"}'
    assert signature_is_valid(SECRET, body, sign(body))
    assert not signature_is_valid(SECRET, body, None)
    assert not signature_is_valid(SECRET, body, "")
    assert not signature_is_valid(SECRET, body, sign(body, "other-secret"))
    assert not signature_is_valid(SECRET, body + b" ", sign(body))
    assert not signature_is_valid(SECRET, body, "sha1=" + hashlib.sha1(body).hexdigest())
    assert not signature_is_valid("", body, sign(body, ""))


@pytest.mark.parametrize(
    "item, expected",
    [
        ({"message": {"text": "bonjour"}}, ["bonjour"]),
        ({"message": {"text": "Lundi", "quick_reply": {"payload": "/inform{\"day\": \"1\"}"}}}, ['/inform{"day": "1"}']),
        ({"postback": {"title": "Oui", "payload": "/affirm"}}, ["/affirm"]),
        ({"message": {"text": "écho", "is_echo": True}}, []),
        ({"read": {"watermark": 1}}, []),
        (
            {"message": {"attachments": [{"type": "location", "payload": {"coordinates": {"lat": 47.39, "long": 0.68}}}]}},
            ['/inform{"incident_latitude": 47.39, "incident_longitude": 0.68}'],
        ),
        (
            {"message": {"attachments": [{"type": "image", "payload": {"url": "https://cdn.example/p.jpg"}}]}},
            ['/inform{"incident_photo": "https://cdn.example/p.jpg"}'],
        ),
        (
            {"message": {"attachments": [
                {"type": "image", "payload": {"url": "https://cdn.example/1.jpg"}},
                {"type": "image", "payload": {"url": "https://cdn.example/2.jpg"}},
            ]}},
            ['/inform{"incident_photo": "https://cdn.example/1.jpg"}', '/inform{"incident_photo": "https://cdn.example/2.jpg"}'],
        ),
        ({"message": {"attachments": [{"type": "image", "payload": {"url": "https://x/s.png", "sticker_id": 369239263222822}}]}}, []),
        ({"message": {"attachments": [{"type": "location", "payload": {"coordinates": {"lat": "n'importe"}}}]}}, []),
    ],
)
def test_messaging_items_become_user_messages(item, expected):
    assert FacebookChannel.texts_of(item) == expected


def test_channel_reads_its_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("FACEBOOK_VERIFY_TOKEN", VERIFY)
    monkeypatch.setenv("FACEBOOK_APP_SECRET", SECRET)
    monkeypatch.setenv("FACEBOOK_PAGE_ACCESS_TOKEN", PAGE_TOKEN)
    monkeypatch.setenv("FACEBOOK_GRAPH_URL", "http://127.0.0.1:9/v19.0")
    channel = FacebookChannel.from_credentials(None)
    assert channel.enabled
    assert (channel.fb_verify, channel.fb_secret, channel.fb_access_token) == (VERIFY, SECRET, PAGE_TOKEN)
    assert channel.graph_url == "http://127.0.0.1:9/v19.0"
    assert channel.url_prefix() == "facebook"

    monkeypatch.delenv("FACEBOOK_APP_SECRET")
    monkeypatch.delenv("FACEBOOK_GRAPH_URL")
    channel = FacebookChannel.from_credentials({})
    assert not channel.enabled
    assert channel.graph_url.startswith("https://graph.facebook.com/")


@pytest.fixture
def graph():
    with FakeGraph() as fake:
        yield fake


def choices(count: int, title: str = "Choix {}"):
    return [{"title": title.format(n), "payload": f'/inform{{"n": {n}}}'} for n in range(1, count + 1)]


async def test_quick_replies_are_paged_and_no_choice_is_dropped(graph, pages):
    output = FacebookOutput(GraphClient(PAGE_TOKEN, graph.url), pages)
    await output.send_text_with_buttons("u1", "Choisissez un créneau.", choices(30))

    seen = []
    message = graph.messages("u1")[-1]
    pages = 1
    while True:
        replies = message["quick_replies"]
        assert len(replies) <= MAX_QUICK_REPLIES
        seen += [r["payload"] for r in replies if not r["payload"].startswith(MORE_CHOICES_PREFIX)]
        more = [r for r in replies if r["payload"].startswith(MORE_CHOICES_PREFIX)]
        if not more:
            break
        assert more[0]["title"] == "Autres choix"
        assert await output.send_more_choices("u1", more[0]["payload"][len(MORE_CHOICES_PREFIX):])
        message = graph.messages("u1")[-1]
        pages += 1
    assert seen == [c["payload"] for c in choices(30)]
    assert pages == 3
    assert graph.sent()[0]["message"]["text"] == "Choisissez un créneau."
    assert graph.requests[0]["token"] == PAGE_TOKEN and not graph.requests[0]["token_in_url"]
    assert graph.requests[0]["headers"]["Authorization"] == f"Bearer {PAGE_TOKEN}"
    assert graph.requests[0]["path"] == "/v19.0/me/messages"


async def test_thirteen_choices_fit_in_one_message(graph, pages):
    output = FacebookOutput(GraphClient(PAGE_TOKEN, graph.url), pages)
    await output.send_quick_replies("u2", "Lequel ?", choices(13))
    (message,) = graph.messages("u2")
    assert [r["payload"] for r in message["quick_replies"]] == [c["payload"] for c in choices(13)]


async def test_long_titles_are_numbered_and_written_in_full(graph, pages):
    output = FacebookOutput(GraphClient(PAGE_TOKEN, graph.url), pages)
    long = [{"title": "Mardi 3 décembre à 14 h 30", "payload": "/a"}, {"title": "Mercredi 4 décembre à 9 h", "payload": "/b"}]
    await output.send_text_with_buttons("u3", "Quel créneau ?", long)
    (message,) = graph.messages("u3")
    assert "1. Mardi 3 décembre à 14 h 30" in message["text"]
    assert "2. Mercredi 4 décembre à 9 h" in message["text"]
    assert all(len(r["title"]) <= 20 for r in message["quick_replies"])
    assert [r["title"][:2] for r in message["quick_replies"]] == ["1.", "2."]


async def test_link_buttons_go_in_templates_of_three(graph, pages):
    output = FacebookOutput(GraphClient(PAGE_TOKEN, graph.url), pages)
    links = [{"title": f"Lien {n}", "url": f"https://example.org/{n}", "type": "web_url"} for n in range(1, 6)]
    await output.send_text_with_buttons("u4", "Liens utiles.", links)
    templates = [m["attachment"]["payload"] for m in graph.messages("u4")]
    assert [len(t["buttons"]) for t in templates] == [3, 2]
    assert templates[0]["text"] == "Liens utiles."
    assert [b["url"] for t in templates for b in t["buttons"]] == [l["url"] for l in links]


async def test_share_location_buttons_are_left_to_the_web_widget(graph, pages):
    output = FacebookOutput(GraphClient(PAGE_TOKEN, graph.url), pages)
    await output.send_text_with_buttons("u6", "Où est-ce ?", [{"title": "Partager ma position", "payload": "/share_location"}])
    assert graph.messages("u6") == [{"text": "Où est-ce ?"}]
    await output.send_custom_json("u6", {"data": {"ask_location": True}})
    assert graph.messages("u6") == [{"text": "Où est-ce ?"}]


async def test_unknown_more_choices_token_is_refused(graph, pages):
    output = FacebookOutput(GraphClient(PAGE_TOKEN, graph.url), pages)
    assert not await output.send_more_choices("u5", "inconnu")
    assert graph.messages("u5") == []


class MemoryDedup:
    """Stands for townhall.channel_dedup.remember (tested on real databases in test_channel_dedup.py)."""

    def __init__(self) -> None:
        self.seen = set()

    def __call__(self, channel: str, message_id: str) -> bool:
        first = (channel, message_id) not in self.seen
        self.seen.add((channel, message_id))
        return first


class MemoryPages:
    """Stands for the database-backed QuickReplyPages (tested in test_channel_pages.py)."""

    def __init__(self) -> None:
        self.kept = {}

    async def keep(self, recipient_id: str, choices: list) -> str:
        token = uuid.uuid4().hex[:16]
        self.kept[(recipient_id, token)] = choices
        return token

    async def take(self, recipient_id: str, token: str):
        return self.kept.pop((recipient_id, token), None)


def offline_channel(graph) -> FacebookChannel:
    channel = FacebookChannel(VERIFY, SECRET, PAGE_TOKEN, graph.url)
    channel.remember = MemoryDedup()
    channel.pages = MemoryPages()
    return channel


async def test_a_failing_item_does_not_stop_the_others(graph):
    channel = offline_channel(graph)
    seen = []

    async def on_new_message(message):
        seen.append(message.text)
        if message.text == "boum":
            raise RuntimeError("boum")

    payload = {"object": "page", "entry": [
        {"messaging": [{"sender": {"id": "a"}, "message": {"text": "boum"}},
                       {"sender": {"id": "b"}, "message": {"text": "deux"}}]},
        {"messaging": [{"sender": {"id": "c"}, "message": {"text": "trois"}}, {"no": "sender"}]},
        None,
    ]}
    await channel.handle_payload(payload, on_new_message)
    assert seen == ["boum", "deux", "trois"]
    assert graph.actions("c") == ["mark_seen", "typing_on", "typing_off"]


# --------------------------------------------------------------------------- running server

@pytest.fixture(scope="module")
def messenger():
    """A Rasa server with the Messenger channel on, and the fake Graph API it sends to."""
    from tests.e2e.stack import Stack, fixture_model

    with FakeGraph() as fake:
        env = {
            "FACEBOOK_VERIFY_TOKEN": VERIFY,
            "FACEBOOK_APP_SECRET": SECRET,
            "FACEBOOK_PAGE_ACCESS_TOKEN": PAGE_TOKEN,
            "FACEBOOK_GRAPH_URL": fake.url,
        }
        with Stack(fixture_model(), actions=False, backoffice=False, env=env) as stack:
            yield stack, fake


def webhook_url(stack) -> str:
    return f"{stack.rasa_url}/webhooks/facebook/webhook"


def event(sender: str, **message) -> dict:
    return {"sender": {"id": sender}, "recipient": {"id": "PAGE"}, "timestamp": int(time.time() * 1000), "message": {"mid": uuid.uuid4().hex, **message}}


def post(stack, payload: dict, signature: str | None = "valid") -> httpx.Response:
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if signature == "valid":
        headers["X-Hub-Signature-256"] = sign(body)
    elif signature:
        headers["X-Hub-Signature-256"] = signature
    return httpx.post(webhook_url(stack), content=body, headers=headers, timeout=60)


def texts(fake: FakeGraph, sender: str) -> list:
    return [m.get("text") for m in fake.messages(sender) if m.get("text")]


def latest_entities(stack, sender: str) -> dict:
    tracker = httpx.get(
        f"{stack.rasa_url}/conversations/{sender}/tracker", params={"token": stack.auth_token}, timeout=30
    ).json()
    return {e["entity"]: e["value"] for e in tracker["latest_message"]["entities"]}


@pytest.mark.rasa
def test_verification_challenge(messenger):
    stack, _ = messenger
    ok = httpx.get(webhook_url(stack), params={"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"})
    assert (ok.status_code, ok.text) == (200, "1158201444")
    wrong = httpx.get(webhook_url(stack), params={"hub.mode": "subscribe", "hub.verify_token": "faux", "hub.challenge": "1"})
    assert wrong.status_code == 403
    assert "1" != wrong.text


@pytest.mark.rasa
@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, "sha1=abc", "n'importe quoi"])
def test_unsigned_or_badly_signed_webhooks_are_refused_and_not_processed(messenger, signature):
    stack, fake = messenger
    sender = f"intrus-{uuid.uuid4().hex[:6]}"
    answer = post(stack, {"object": "page", "entry": [{"id": "PAGE", "messaging": [event(sender, text="/greet")]}]}, signature)
    assert answer.status_code == 403
    time.sleep(1)
    assert fake.sent(sender) == []
    tracker = httpx.get(f"{stack.rasa_url}/conversations/{sender}/tracker", params={"token": stack.auth_token}).json()
    assert not [e for e in tracker.get("events", []) if e["event"] == "user"]


@pytest.mark.rasa
def test_signed_message_gets_an_answer_with_quick_replies(messenger):
    stack, fake = messenger
    sender = f"citoyen-{uuid.uuid4().hex[:6]}"
    answer = post(stack, {"object": "page", "entry": [{"id": "PAGE", "messaging": [event(sender, text="/greet")]}]})
    assert answer.status_code == 200
    assert fake.wait_for(lambda f: any(m.get("quick_replies") for m in f.messages(sender)))
    message = next(m for m in fake.messages(sender) if m.get("quick_replies"))
    assert message["text"].startswith("Bonjour")
    assert [(r["title"], r["payload"]) for r in message["quick_replies"]] == [
        ("Prendre rendez-vous", "/book"), ("Signaler un problème", "/report")]
    assert fake.actions(sender)[:2] == ["mark_seen", "typing_on"]
    assert fake.wait_for(lambda f: "typing_off" in f.actions(sender))


@pytest.mark.rasa
def test_fifteen_choices_are_paged_through_autres_choix(messenger):
    stack, fake = messenger
    sender = f"citoyen-{uuid.uuid4().hex[:6]}"
    post(stack, {"object": "page", "entry": [{"id": "PAGE", "messaging": [event(sender, text="/many")]}]})
    assert fake.wait_for(lambda f: any(m.get("quick_replies") for m in f.messages(sender)))
    first = next(m for m in fake.messages(sender) if m.get("quick_replies"))
    assert len(first["quick_replies"]) == 13
    more = first["quick_replies"][-1]
    assert more["title"] == "Autres choix"
    # The long title of the 15th choice is not on this page; the next page carries it.
    post(stack, {"object": "page", "entry": [{"id": "PAGE", "messaging": [
        event(sender, text="Autres choix", quick_reply={"payload": more["payload"]})]}]})
    assert fake.wait_for(lambda f: len([m for m in f.messages(sender) if m.get("quick_replies")]) == 2)
    second = [m for m in fake.messages(sender) if m.get("quick_replies")][1]
    payloads = [r["payload"] for r in first["quick_replies"][:-1] + second["quick_replies"]]
    assert payloads == [f'/inform{{"day": "{n}"}}' for n in range(1, 16)]
    assert "Vendredi 11 h 30, salle du conseil" in second["text"]
    # Choosing from the second page reaches the bot.
    post(stack, {"object": "page", "entry": [{"id": "PAGE", "messaging": [
        event(sender, text="3.", quick_reply={"payload": second["quick_replies"][2]["payload"]})]}]})
    assert fake.wait_for(lambda f: any("RDV-7K3F9Q" in t for t in texts(f, sender)))
    assert latest_entities(stack, sender) == {"day": "15"}


@pytest.mark.rasa
def test_link_buttons_become_button_templates(messenger):
    stack, fake = messenger
    sender = f"citoyen-{uuid.uuid4().hex[:6]}"
    post(stack, {"object": "page", "entry": [{"id": "PAGE", "messaging": [event(sender, text="/links")]}]})
    assert fake.wait_for(lambda f: len([m for m in f.messages(sender) if "attachment" in m]) == 2)
    templates = [m["attachment"]["payload"] for m in fake.messages(sender) if "attachment" in m]
    assert all(t["template_type"] == "button" and len(t["buttons"]) <= 3 for t in templates)
    assert sum(len(t["buttons"]) for t in templates) == 4


@pytest.mark.rasa
def test_location_attachment_becomes_the_incident_location(messenger):
    stack, fake = messenger
    sender = f"citoyen-{uuid.uuid4().hex[:6]}"
    location = {"type": "location", "title": "Position", "payload": {"coordinates": {"lat": 47.3941, "long": 0.6848}}}
    post(stack, {"object": "page", "entry": [{"id": "PAGE", "messaging": [event(sender, attachments=[location])]}]})
    assert fake.wait_for(lambda f: any("position est bien reçue" in t for t in texts(f, sender)))
    assert latest_entities(stack, sender) == {"incident_latitude": 47.3941, "incident_longitude": 0.6848}


@pytest.mark.rasa
def test_image_attachment_becomes_the_incident_photo(messenger):
    stack, fake = messenger
    sender = f"citoyen-{uuid.uuid4().hex[:6]}"
    image = {"type": "image", "payload": {"url": "https://scontent.example/nid-de-poule.jpg?x=1&y=2"}}
    post(stack, {"object": "page", "entry": [{"id": "PAGE", "messaging": [event(sender, attachments=[image])]}]})
    assert fake.wait_for(lambda f: any("SIG-4HX2PL" in t for t in texts(f, sender)))
    assert latest_entities(stack, sender) == {"incident_photo": "https://scontent.example/nid-de-poule.jpg?x=1&y=2"}


@pytest.mark.rasa
def test_every_entry_and_item_of_a_batched_webhook_is_handled(messenger):
    stack, fake = messenger
    senders = [f"lot-{n}-{uuid.uuid4().hex[:6]}" for n in range(4)]
    payload = {"object": "page", "entry": [
        {"id": "PAGE", "time": 1, "messaging": [event(senders[0], text="/greet"), event(senders[1], text="/book")]},
        {"id": "PAGE", "time": 2, "messaging": [event(senders[2], text="/image"),
                                               {"sender": {"id": senders[3]}, "recipient": {"id": "PAGE"},
                                                "postback": {"title": "Signaler", "payload": "/report"}}]},
    ]}
    assert post(stack, payload).status_code == 200
    assert fake.wait_for(lambda f: all(f.messages(s) for s in senders))
    assert texts(fake, senders[0])[0].startswith("Bonjour")
    assert texts(fake, senders[1]) == ["Quel jour vous convient ?"]
    assert any(m.get("attachment", {}).get("type") == "image" for m in fake.messages(senders[2]))
    assert texts(fake, senders[3])[0].startswith("Où se trouve le problème ?")


@pytest.mark.rasa
def test_html_and_junk_input_get_an_answer_or_are_ignored_never_a_crash(messenger):
    stack, fake = messenger
    sender = f"citoyen-{uuid.uuid4().hex[:6]}"
    for text in ["<script>alert(1)</script>", "x" * 10000, "🙂🙂", "' OR 1=1 --"]:
        assert post(stack, {"object": "page", "entry": [{"id": "PAGE", "messaging": [event(sender, text=text)]}]}).status_code == 200
    for junk in [b"not json", b"[]", b'{"entry": "x"}']:
        answer = httpx.post(webhook_url(stack), content=junk, headers={"X-Hub-Signature-256": sign(junk)})
        assert answer.status_code in (200, 400)
    assert httpx.get(f"{stack.rasa_url}/").status_code == 200


@pytest.mark.rasa
def test_channel_is_off_without_settings():
    from tests.e2e.stack import Stack, fixture_model

    env = {"FACEBOOK_VERIFY_TOKEN": "", "FACEBOOK_APP_SECRET": "", "FACEBOOK_PAGE_ACCESS_TOKEN": ""}
    with Stack(fixture_model(), actions=False, backoffice=False, env=env) as stack:
        body = b'{"object":"page","entry":[]}'
        assert httpx.post(webhook_url(stack), content=body, headers={"X-Hub-Signature-256": sign(body)}).status_code == 503
        assert httpx.get(webhook_url(stack), params={"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}).status_code == 503
        assert httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", json={"sender": "s", "message": "/greet"}).json()
