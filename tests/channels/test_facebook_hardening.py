"""Messenger hardening: replays dropped, non-ASCII signatures refused, long messages and big
bodies capped, the page token never in a URL or a log line.

The webhook runs on a real Sanic server in the test's event loop (tests/channels/sanic_server.py)
with the local fake Graph API; ``on_new_message`` stands for Rasa.
"""
from __future__ import annotations

import json
import logging
import uuid

import httpx
import pytest

from channels.facebook import FacebookChannel, FacebookOutput, GraphClient, signature_is_valid
from tests.channels.fake_graph import FakeGraph
from tests.channels.sanic_server import serve
from tests.channels.test_facebook import PAGE_TOKEN, SECRET, VERIFY, MemoryDedup, offline_channel, sign

TOO_LONG = "Votre message est trop long (2 000 caractères au plus). Pouvez-vous le résumer en quelques phrases ?"


@pytest.fixture
def graph():
    with FakeGraph() as fake:
        yield fake


def event(sender: str, mid: str | None = None, **message) -> dict:
    return {"sender": {"id": sender}, "recipient": {"id": "PAGE"}, "timestamp": 1733220000000,
            "message": {"mid": mid or f"m_{uuid.uuid4().hex}", **message}}


def webhook(*items) -> dict:
    return {"object": "page", "entry": [{"id": "PAGE", "time": 1, "messaging": list(items)}]}


class Recorder:
    def __init__(self) -> None:
        self.texts = []

    async def __call__(self, message) -> None:
        self.texts.append((message.sender_id, message.text, message.input_channel))


# --------------------------------------------------------------------------- signature


@pytest.mark.parametrize("header", [
    "sha256=é", "sha256=" + "é" * 64, "sha256=" + "\u202e" * 10, "sha256=\udcff", "sha256=" + "0" * 63 + "é", "sha256=🙂",
])
def test_non_ascii_signatures_are_refused_not_an_error(header):
    assert signature_is_valid(SECRET, b"{}", header) is False


def test_signature_still_accepts_the_right_one_in_any_case():
    body = b'{"object":"page"}'
    assert signature_is_valid(SECRET, body, sign(body).upper().replace("SHA256=", "sha256="))
    assert signature_is_valid(SECRET, body, sign(body) + " ")


# --------------------------------------------------------------------------- replays


async def test_a_replayed_message_is_handled_once(graph):
    channel, rasa = offline_channel(graph), Recorder()
    item = event("citoyen-1", mid="m_replay_1", text="bonjour")
    await channel.handle_payload(webhook(item), rasa)
    await channel.handle_payload(webhook(item), rasa)
    await channel.handle_payload(webhook(dict(item)), rasa)
    assert rasa.texts == [("citoyen-1", "bonjour", "facebook")]
    await channel.handle_payload(webhook(event("citoyen-1", mid="m_replay_2", text="bonjour")), rasa)
    assert len(rasa.texts) == 2


async def test_postbacks_and_items_without_mid_are_deduplicated_too(graph):
    channel, rasa = offline_channel(graph), Recorder()
    postback = {"sender": {"id": "c"}, "recipient": {"id": "PAGE"}, "timestamp": 1, "postback": {"title": "Oui", "payload": "/affirm", "mid": "m_pb"}}
    old_style = {"sender": {"id": "c"}, "recipient": {"id": "PAGE"}, "timestamp": 2, "postback": {"title": "Non", "payload": "/deny"}}
    later = {**old_style, "timestamp": 3}
    for _ in range(2):
        await channel.handle_payload(webhook(postback, old_style, later), rasa)
    assert [t for _, t, _ in rasa.texts] == ["/affirm", "/deny", "/deny"]
    assert FacebookChannel.message_id_of(postback) == "m_pb"
    assert FacebookChannel.message_id_of(old_style).startswith("item:")


async def test_when_the_store_is_down_messages_are_still_answered(graph, caplog):
    channel, rasa = FacebookChannel(VERIFY, SECRET, PAGE_TOKEN, graph.url), Recorder()

    def broken(channel_name, message_id):
        raise RuntimeError("database unreachable")

    channel.remember = broken
    await channel.handle_payload(webhook(event("c", text="bonjour")), rasa)
    assert rasa.texts == [("c", "bonjour", "facebook")]
    assert "de-duplication unavailable" in caplog.text


async def test_unencodable_text_reaches_rasa_readable(graph):
    """A lone surrogate (valid JSON, not UTF-8) or a NUL must not make NLU fail silently."""
    channel, rasa = offline_channel(graph), Recorder()
    postback = {"sender": {"id": "p"}, "recipient": {"id": "PAGE"}, "timestamp": 1,
                "postback": {"title": "x", "payload": "/affirm\ud800", "mid": "m_sur_pb"}}
    await channel.handle_payload(webhook(event("s", text="bon\ud800jour\x00"), postback), rasa)
    assert rasa.texts == [("s", "bon\ufffdjour", "facebook"), ("p", "/affirm\ufffd", "facebook")]
    for _, text, _ in rasa.texts:
        text.encode("utf-8")


# --------------------------------------------------------------------------- long messages


async def test_a_too_long_message_is_not_passed_to_rasa(graph, caplog):
    channel, rasa = offline_channel(graph), Recorder()
    long_text = "Bonjour, " + "il y a un souci rue Pasteur. " * 80 + "camille@example.org"
    await channel.handle_payload(webhook(event("long", text=long_text), event("court", text="x" * 2000)), rasa)
    assert rasa.texts == [("court", "x" * 2000, "facebook")]
    assert graph.messages("long") == [{"text": TOO_LONG}]
    assert "camille@example.org" not in caplog.text


# --------------------------------------------------------------------------- Graph token


async def test_page_token_goes_in_a_header_and_in_no_log_line(graph, caplog, pages):
    caplog.set_level(logging.DEBUG)
    output = FacebookOutput(GraphClient(PAGE_TOKEN, graph.url), pages)
    await output.send_text_message("u1", "Bonjour")
    await output.send_quick_replies("u1", "Oui ?", [{"title": "Oui", "payload": "/affirm"}])
    await output.send_action("u1", "typing_on")
    assert len(graph.requests) == 3
    for request in graph.requests:
        assert request["headers"]["Authorization"] == f"Bearer {PAGE_TOKEN}"
        assert request["query"] == {} and not request["token_in_url"]
    assert any("HTTP Request: POST" in r.getMessage() for r in caplog.records)  # httpx did log the URLs
    assert not [r for r in caplog.records if PAGE_TOKEN in r.getMessage() or PAGE_TOKEN in str(r.args)]
    assert PAGE_TOKEN not in caplog.text


async def test_graph_refusals_and_outages_log_no_token(caplog):
    caplog.set_level(logging.DEBUG)
    with FakeGraph() as fake:
        await GraphClient("", fake.url).post({"recipient": {"id": "u"}, "message": {"text": "x"}})
    assert "Graph API refused a message: 400" in caplog.text
    await GraphClient(PAGE_TOKEN, "http://127.0.0.1:9/v19.0").post({"recipient": {"id": "u"}, "message": {"text": "x"}})
    assert "Graph API unreachable" in caplog.text
    assert PAGE_TOKEN not in caplog.text
    # A token that is not a valid header value is not sent: httpcore would log it in its error.
    with FakeGraph() as fake:
        await GraphClient(PAGE_TOKEN + "\n", fake.url).post({"recipient": {"id": "u"}, "message": {"text": "x"}})
        assert fake.requests == []
    assert "characters a token cannot have" in caplog.text
    assert PAGE_TOKEN not in caplog.text


# --------------------------------------------------------------------------- the webhook over HTTP


@pytest.fixture
async def messenger(graph):
    channel, rasa = offline_channel(graph), Recorder()
    async with serve(channel, rasa) as url:
        async with httpx.AsyncClient(base_url=f"{url}/webhooks/facebook", timeout=10) as client:
            yield client, rasa, channel


def signed(payload: dict) -> tuple[bytes, dict]:
    body = json.dumps(payload).encode()
    return body, {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body)}


async def test_webhook_replay_is_answered_200_and_handled_once(messenger):
    client, rasa, _ = messenger
    body, headers = signed(webhook(event("citoyen-http", mid="m_http_1", text="bonjour")))
    for _ in range(3):
        answer = await client.post("/webhook", content=body, headers=headers)
        assert (answer.status_code, answer.text) == (200, "success")
    assert rasa.texts == [("citoyen-http", "bonjour", "facebook")]


@pytest.mark.parametrize("header", ["sha256=é".encode("utf-8"), ("sha256=" + "é" * 64).encode("utf-8"), b"sha256=\xff\xfe", "sha256=ü".encode("latin-1")])
async def test_webhook_with_a_non_ascii_signature_gets_403(messenger, header):
    client, rasa, _ = messenger
    body, headers = signed(webhook(event("intrus", text="bonjour")))
    headers["X-Hub-Signature-256"] = header
    answer = await client.post("/webhook", content=body, headers=headers)
    assert answer.status_code == 403
    assert rasa.texts == []


async def test_webhook_body_over_the_cap_gets_413_before_the_signature(messenger):
    client, rasa, channel = messenger
    channel.max_body_bytes = 4096
    body, headers = signed(webhook(*[event(f"lot-{n}", text="bonjour " * 10) for n in range(40)]))
    assert len(body) > 4096
    answer = await client.post("/webhook", content=body, headers=headers)
    assert answer.status_code == 413
    assert answer.json()["error"] == "body_too_large"
    assert rasa.texts == []
    body, headers = signed(webhook(event("ok", text="bonjour")))
    assert (await client.post("/webhook", content=body, headers=headers)).status_code == 200
    assert rasa.texts == [("ok", "bonjour", "facebook")]


def test_default_caps_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("TOWNHALL_MAX_MESSAGE_CHARS", "300")
    monkeypatch.setenv("TOWNHALL_MAX_WEBHOOK_BODY_BYTES", "200000")
    channel = FacebookChannel.from_credentials(None)
    assert (channel.max_message_chars, channel.max_body_bytes) == (300, 200000)
    monkeypatch.delenv("TOWNHALL_MAX_MESSAGE_CHARS")
    monkeypatch.delenv("TOWNHALL_MAX_WEBHOOK_BODY_BYTES")
    channel = FacebookChannel.from_credentials(None)
    assert (channel.max_message_chars, channel.max_body_bytes) == (2000, 1024 * 1024)
