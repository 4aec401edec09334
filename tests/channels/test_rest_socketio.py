"""REST and socket.io channels: body and message caps, bad bodies, same names as Rasa's.

Each channel's blueprint runs on a real Sanic server in the test's event loop
(tests/channels/sanic_server.py); ``on_new_message`` stands for Rasa and records what reaches it.
"""
from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import socketio
import yaml

from channels import limits
from channels.rest import RestChannel, parse_body
from channels.socketio import UNREADABLE, SocketIOChannel
from tests.channels.sanic_server import serve
from townhall import config

TOO_LONG = "Votre message est trop long (2 000 caractères au plus). Pouvez-vous le résumer en quelques phrases ?"


class FakeRasa:
    """Records the messages that reach Rasa and answers each with one text."""

    def __init__(self) -> None:
        self.messages = []

    async def __call__(self, message) -> None:
        self.messages.append(message)
        await message.output_channel.send_text_message(message.sender_id, f"Reçu : {message.text[:20]}")


def test_the_answer_is_the_one_citizens_are_promised():
    assert limits.too_long_answer(2000) == TOO_LONG
    assert limits.MAX_MESSAGE_CHARS == 2000
    assert limits.DEFAULT_MAX_BODY_BYTES == 64 * 1024


def test_limits_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("TOWNHALL_MAX_MESSAGE_CHARS", "500")
    monkeypatch.setenv("TOWNHALL_MAX_BODY_BYTES", "pas un nombre")
    assert RestChannel().max_message_chars == 500
    assert RestChannel().max_body_bytes == 64 * 1024
    assert "500 caractères au plus" in limits.too_long_answer()


def test_credentials_use_the_checked_channels_under_rasa_names():
    credentials = yaml.safe_load((config.PROJECT_ROOT / "credentials.yml").read_text())
    assert {"channels.rest.RestChannel", "channels.socketio.SocketIOChannel", "channels.facebook.FacebookChannel"} <= set(credentials)
    assert "rest" not in credentials and "socketio" not in credentials
    assert RestChannel.name() == "rest" and SocketIOChannel.name() == "socketio"
    channel = SocketIOChannel.from_credentials(credentials["channels.socketio.SocketIOChannel"])
    assert channel.socketio_path == "/socket.io" and channel.session_persistence
    assert channel.url_prefix() == "socketio" and RestChannel().url_prefix() == "rest"


# --------------------------------------------------------------------------- REST


@pytest.fixture
async def rest():
    rasa = FakeRasa()
    async with serve(RestChannel(), rasa) as url:
        async with httpx.AsyncClient(base_url=f"{url}/webhooks/rest", timeout=10) as client:
            yield client, rasa


async def test_rest_message_reaches_rasa_as_before(rest):
    client, rasa = rest
    answer = await client.post("/webhook", json={"sender": "citoyen-1", "message": "bonjour", "metadata": {"lang": "fr"}})
    assert answer.status_code == 200
    assert answer.json() == [{"recipient_id": "citoyen-1", "text": "Reçu : bonjour"}]
    (message,) = rasa.messages
    assert (message.sender_id, message.text, message.input_channel, message.metadata) == ("citoyen-1", "bonjour", "rest", {"lang": "fr"})
    assert (await client.get("/")).json() == {"status": "ok"}


async def test_rest_message_of_exactly_the_limit_is_passed_on(rest):
    client, rasa = rest
    answer = await client.post("/webhook", json={"sender": "s", "message": "é" * 2000})
    assert answer.status_code == 200 and len(rasa.messages) == 1


async def test_rest_too_long_message_is_not_passed_to_rasa(rest, caplog):
    client, rasa = rest
    text = "Bonjour, " + "j'ai un souci avec ma demande. " * 100 + "camille@example.org"
    answer = await client.post("/webhook", json={"sender": "citoyen-2", "message": text})
    assert answer.status_code == 200
    assert answer.json() == [{"recipient_id": "citoyen-2", "text": TOO_LONG}]
    assert rasa.messages == []
    assert "camille@example.org" not in caplog.text


@pytest.mark.parametrize("body", [
    b"null", b"[]", b'"x"', b"{}", b"42", b"", b"not json", b'{"sender": "s"', b"[" * 60000,
    b'{"message": "bonjour"}', b'{"sender": 12, "message": "bonjour"}', b'{"sender": "", "message": "bonjour"}',
    b'{"sender": ["s"], "message": "bonjour"}', b'{"sender": "s"}', b'{"sender": "s", "message": null}',
    b'{"sender": "s", "message": 3}', b'{"sender": "s", "message": {"text": "x"}}',
    b'{"sender": "s", "message": "ok", "metadata": "x"}', b'{"sender": "s", "message": "ok", "input_channel": 3}',
    b'{"sender": "s", "message": "caf\xe9"}', b"\xff\xfe\x00\x00", b'{"sender": "s", "message": "\\ud800"}',
    ('{"sender": "%s", "message": "ok"}' % ("s" * 256)).encode(),
], ids=lambda body: repr(body[:40]))
async def test_rest_bad_bodies_get_a_french_400(rest, body):
    client, rasa = rest
    answer = await client.post("/webhook", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400, answer.text
    error = answer.json()
    assert error["error"] == "invalid_body"
    assert "« sender »" in error["message"] or "JSON" in error["message"] or "« message »" in error["message"] \
        or "« metadata »" in error["message"] or "« input_channel »" in error["message"]
    assert rasa.messages == []


async def test_rest_body_over_64_kb_gets_413_before_parsing(rest):
    client, rasa = rest
    big = json.dumps({"sender": "s", "message": "x" * (70 * 1024)}).encode()
    answer = await client.post("/webhook", content=big)
    assert answer.status_code == 413
    assert answer.json() == {"error": "body_too_large", "message": "La requête est trop volumineuse (64 Ko au plus)."}

    async def chunks():  # no Content-Length: the cap holds while reading
        for _ in range(100):
            yield b"x" * 4096

    try:
        answer = await client.post("/webhook", content=chunks())
        assert answer.status_code == 413
    except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError):
        pass  # the server may close the connection while the client is still sending
    assert rasa.messages == []
    # The server still answers afterwards.
    assert (await client.post("/webhook", json={"sender": "s", "message": "encore là ?"})).status_code == 200


async def test_rest_failure_inside_rasa_logs_no_text(caplog):
    async def failing(message):
        raise RuntimeError("boum")

    async with serve(RestChannel(), failing) as url:
        async with httpx.AsyncClient() as client:
            answer = await client.post(f"{url}/webhooks/rest/webhook", json={"sender": "s", "message": "mon mail camille@example.org"})
    assert answer.status_code == 200 and answer.json() == []
    assert "could not be handled" in caplog.text
    assert "camille@example.org" not in caplog.text


def test_parse_body_strips_nul_characters():
    assert parse_body(b'{"sender": "s", "message": "a\\u0000b"}').text == "ab"


# --------------------------------------------------------------------------- socket.io


@pytest.fixture
async def widget():
    rasa = FakeRasa()
    channel = SocketIOChannel("user_uttered", "bot_uttered", session_persistence=True)
    async with serve(channel, rasa) as url:
        client = socketio.AsyncClient(reconnection=False)
        received = []
        client.on("bot_uttered", lambda data: received.append(data))
        confirmed = asyncio.get_running_loop().create_future()
        client.on("session_confirm", lambda sid: confirmed.done() or confirmed.set_result(sid))
        await client.connect(url, socketio_path="/socket.io", transports=["websocket"])
        await client.emit("session_request", {"session_id": "session-widget-1"})
        assert await asyncio.wait_for(confirmed, 10) == "session-widget-1"
        try:
            yield client, received, rasa
        finally:
            await client.disconnect()


async def wait_until(condition, timeout=10.0):
    for _ in range(int(timeout / 0.05)):
        if condition():
            return True
        await asyncio.sleep(0.05)
    return condition()


async def test_socketio_message_reaches_rasa_as_before(widget):
    client, received, rasa = widget
    await client.emit("user_uttered", {"message": "bonjour", "session_id": "session-widget-1", "metadata": {"page": "/demo"}})
    assert await wait_until(lambda: received)
    assert received == [{"text": "Reçu : bonjour"}]
    (message,) = rasa.messages
    assert (message.sender_id, message.text, message.input_channel, message.metadata) == (
        "session-widget-1", "bonjour", "socketio", {"page": "/demo"})


async def test_socketio_too_long_message_is_not_passed_to_rasa(widget):
    client, received, rasa = widget
    await client.emit("user_uttered", {"message": "a" * 2001, "session_id": "session-widget-1"})
    assert await wait_until(lambda: received)
    assert received == [{"text": TOO_LONG}]
    assert rasa.messages == []


@pytest.mark.parametrize("data", ["juste du texte", None, 12, ["x"], {"session_id": "session-widget-1", "message": {"a": 1}},
                                  {"session_id": "session-widget-1", "message": None}])
async def test_socketio_junk_events_never_reach_rasa(widget, data):
    client, received, rasa = widget
    await client.emit("user_uttered", data)
    assert await wait_until(lambda: received)
    assert received == [{"text": UNREADABLE}]
    assert rasa.messages == []


async def test_socketio_packet_over_64_kb_is_refused_by_the_server(widget):
    client, received, rasa = widget
    await client.emit("user_uttered", {"message": "a" * (70 * 1024), "session_id": "session-widget-1"})
    await asyncio.sleep(1)
    assert rasa.messages == [] and received == []


async def test_socketio_message_without_session_is_ignored(widget):
    client, received, rasa = widget
    await client.emit("user_uttered", {"message": "bonjour"})
    await client.emit("user_uttered", {"message": "bonjour", "session_id": ["x"]})
    await asyncio.sleep(0.5)
    assert rasa.messages == [] and received == []


# --------------------------------------------------------------------------- several requests

TWO_REQUESTS = "Quels sont les horaires de la piscine et aussi où se trouve la médiathèque ?"


async def test_rest_two_requests_reach_rasa_one_at_a_time(rest):
    client, rasa = rest
    answer = await client.post("/webhook", json={"sender": "citoyen-2", "message": TWO_REQUESTS})
    assert [m.text for m in rasa.messages] == ["Quels sont les horaires de la piscine", "où se trouve la médiathèque ?"]
    assert {(m.sender_id, m.input_channel) for m in rasa.messages} == {("citoyen-2", "rest")}
    assert [r["text"] for r in answer.json()] == ["Reçu : Quels sont les horai", "Reçu : où se trouve la médi"]


async def test_socketio_two_requests_reach_rasa_one_at_a_time(widget):
    client, received, rasa = widget
    await client.emit("user_uttered", {"message": TWO_REQUESTS, "session_id": "session-widget-1"})
    assert await wait_until(lambda: len(received) == 2)
    assert [m.text for m in rasa.messages] == ["Quels sont les horaires de la piscine", "où se trouve la médiathèque ?"]
    assert received == [{"text": "Reçu : Quels sont les horai"}, {"text": "Reçu : où se trouve la médi"}]
