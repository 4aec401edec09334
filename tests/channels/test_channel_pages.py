"""Messenger's "Autres choix" pages (townhall.channel_pages), shared by every Rasa process.

nginx spreads webhooks over several Rasa processes: the page sent by one must be found by
another. Tested on SQLite and PostgreSQL: the store, two QuickReplyPages and two channels over
one database, two OS processes, and the retention purge.
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from channels.facebook import MAX_QUICK_REPLIES, MORE_CHOICES_PREFIX, FacebookOutput, GraphClient, QuickReplyPages
from tests.channels.fake_graph import FakeGraph
from tests.channels.test_facebook import PAGE_TOKEN, SECRET, VERIFY, choices
from townhall import channel_pages, db, retention
from townhall.channel_pages import ChoicePage
from townhall.config import PROJECT_ROOT


@pytest.fixture
def graph():
    with FakeGraph() as fake:
        yield fake


def rows(url: str) -> list:
    with db.unit_of_work(url) as session:
        return session.execute(select(ChoicePage)).scalars().all()


def more_token(message: dict) -> str | None:
    more = [r["payload"] for r in message["quick_replies"] if r["payload"].startswith(MORE_CHOICES_PREFIX)]
    return more[0][len(MORE_CHOICES_PREFIX):] if more else None


def payloads(message: dict) -> list:
    return [r["payload"] for r in message["quick_replies"] if not r["payload"].startswith(MORE_CHOICES_PREFIX)]


# --------------------------------------------------------------------------- the store


def test_a_page_is_given_once_to_its_sender_only(db_url):
    with db.unit_of_work(db_url) as session:
        token = channel_pages.keep(session, "facebook", "psid-1", choices(3))
    with db.unit_of_work(db_url) as session:
        assert channel_pages.take(session, "facebook", "psid-2", token) is None  # another citizen
        assert channel_pages.take(session, "autre", "psid-1", token) is None  # another channel
        assert channel_pages.take(session, "facebook", "psid-1", "inconnu") is None
    with db.unit_of_work(db_url) as session:
        assert channel_pages.take(session, "facebook", "psid-1", token) == choices(3)
    with db.unit_of_work(db_url) as session:
        assert channel_pages.take(session, "facebook", "psid-1", token) is None
    assert rows(db_url) == []


def test_only_titles_and_payloads_are_stored_and_no_sender_id(db_url):
    extra = [{"title": "Lundi 9 h", "payload": "/inform", "image_url": "https://x/y.png", "note": "secret"}]
    token = channel_pages.keep_page("facebook", "1234567890123456", extra, db_url)
    (row,) = rows(db_url)
    assert row.choices == [{"title": "Lundi 9 h", "payload": "/inform"}]
    assert row.token == token and len(token) == 16
    assert "1234567890123456" not in json.dumps([row.channel, row.sender_digest, row.token, row.choices])
    assert row.sender_digest == channel_pages.sender_digest("facebook", "1234567890123456")


def test_a_sender_keeps_one_page_the_one_on_screen(db_url):
    first = channel_pages.keep_page("facebook", "psid-1", choices(2), db_url)
    other = channel_pages.keep_page("facebook", "psid-2", choices(2), db_url)
    second = channel_pages.keep_page("facebook", "psid-1", choices(4), db_url)
    assert channel_pages.take_page("facebook", "psid-1", first, db_url) is None
    assert channel_pages.take_page("facebook", "psid-1", second, db_url) == choices(4)
    assert channel_pages.take_page("facebook", "psid-2", other, db_url) == choices(2)


def test_pages_expire_after_24_hours_and_are_purged_by_the_retention_job(db_url):
    now = db.utcnow()
    with db.unit_of_work(db_url) as session:
        old = channel_pages.keep(session, "facebook", "psid-old", choices(2), now=now - timedelta(hours=25))
        channel_pages.keep(session, "facebook", "psid-recent", choices(2), now=now - timedelta(hours=23))
        channel_pages.keep(session, "facebook", "psid-older", choices(2), now=now - timedelta(hours=30))
    with db.unit_of_work(db_url) as session:
        assert channel_pages.take(session, "facebook", "psid-old", old, now=now) is None  # expired
    with db.unit_of_work(db_url) as session:
        purged = retention.purge_records(session, now=now)
    assert purged.channel_pages == 1
    assert [r.sender_digest for r in rows(db_url)] == [channel_pages.sender_digest("facebook", "psid-recent")]


def test_two_processes_racing_for_a_page_get_it_once(db_url):
    token = channel_pages.keep_page("facebook", "psid-1", choices(3), db_url)
    results, barrier = [], threading.Barrier(6)

    def take():
        barrier.wait()
        results.append(channel_pages.take_page("facebook", "psid-1", token, db_url))

    threads = [threading.Thread(target=take) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results, key=lambda r: r is None) == [choices(3)] + [None] * 5


# --------------------------------------------------------------------------- the channel


async def test_two_stores_over_one_database_share_the_pages(graph, db_url):
    """Page 1 sent by one process's output channel, "Autres choix" answered by another's."""
    first = FacebookOutput(GraphClient(PAGE_TOKEN, graph.url), QuickReplyPages(db_url))
    second = FacebookOutput(GraphClient(PAGE_TOKEN, graph.url), QuickReplyPages(db_url))
    await first.send_text_with_buttons("u1", "Choisissez un créneau.", choices(30))
    seen, outputs = [], [second, first]
    message = graph.messages("u1")[-1]
    while True:
        assert len(message["quick_replies"]) <= MAX_QUICK_REPLIES
        seen += payloads(message)
        token = more_token(message)
        if token is None:
            break
        assert await outputs[0].send_more_choices("u1", token)  # the other process each time
        outputs.reverse()
        message = graph.messages("u1")[-1]
    assert seen == [c["payload"] for c in choices(30)]
    assert rows(db_url) == []  # nothing left once the last page is shown


async def test_two_channels_over_one_database_share_the_pages(graph, db_url):
    """Two FacebookChannel objects as two Rasa processes make them, on DATABASE_URL."""
    from channels.facebook import FacebookChannel

    one = FacebookChannel(VERIFY, SECRET, PAGE_TOKEN, graph.url)
    two = FacebookChannel(VERIFY, SECRET, PAGE_TOKEN, graph.url)
    assert one.pages is not two.pages
    reached_rasa = []

    async def rasa(message):  # stands for Rasa: answers with 15 choices
        reached_rasa.append(message.text)
        await message.output_channel.send_text_with_buttons(message.sender_id, "Choisissez.", choices(15))

    def webhook(mid: str, **message) -> dict:
        return {"object": "page", "entry": [{"id": "PAGE", "messaging": [
            {"sender": {"id": "psid-7"}, "recipient": {"id": "PAGE"}, "message": {"mid": mid, **message}}]}]}

    await one.handle_payload(webhook("m_1", text="créneaux"), rasa)
    first = [m for m in graph.messages("psid-7") if m.get("quick_replies")][0]
    token = more_token(first)
    await two.handle_payload(webhook("m_2", text="Autres choix", quick_reply={"payload": MORE_CHOICES_PREFIX + token}), rasa)
    pages = [m for m in graph.messages("psid-7") if m.get("quick_replies")]
    assert len(pages) == 2
    assert payloads(pages[0]) + payloads(pages[1]) == [c["payload"] for c in choices(15)]
    assert reached_rasa == ["créneaux"]  # the next page is the channel's business, not Rasa's
    assert "Ces choix ne sont plus disponibles" not in json.dumps(graph.messages("psid-7"), ensure_ascii=False)


def test_two_os_processes_share_the_pages(db_url):
    """No shared memory at all: the page is kept by one interpreter and taken by another."""
    def run(code: str) -> str:
        done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True,
                              text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT)})
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.strip().splitlines()[-1]

    keep = ("import json; from channels.facebook import QuickReplyPages; import asyncio; "
            f"print(asyncio.run(QuickReplyPages({db_url!r}).keep('psid-9', {choices(3)!r})))")
    token = run(keep)
    take = ("import json, asyncio; from channels.facebook import QuickReplyPages; "
            f"print(json.dumps(asyncio.run(QuickReplyPages({db_url!r}).take('psid-9', {token!r}))))")
    assert json.loads(run(take)) == choices(3)


async def test_the_database_is_called_outside_the_event_loop(graph, sqlite_url, monkeypatch):
    threads = []
    keep_page, take_page = channel_pages.keep_page, channel_pages.take_page

    def spy(function):
        def wrapper(*args):
            threads.append(threading.current_thread() is threading.main_thread())
            return function(*args)
        return wrapper

    monkeypatch.setattr(channel_pages, "keep_page", spy(keep_page))
    monkeypatch.setattr(channel_pages, "take_page", spy(take_page))
    output = FacebookOutput(GraphClient(PAGE_TOKEN, graph.url), QuickReplyPages(sqlite_url))
    await output.send_quick_replies("u2", "Lequel ?", choices(20))
    assert await output.send_more_choices("u2", more_token(graph.messages("u2")[-1]))
    assert threads == [False, False]


async def test_without_the_database_a_page_is_kept_in_the_process(graph, tmp_path, caplog):
    blocker = tmp_path / "fichier"
    blocker.write_text("")
    pages = QuickReplyPages(f"sqlite:///{blocker}/impossible.db")  # a folder that cannot exist
    output = FacebookOutput(GraphClient(PAGE_TOKEN, graph.url), pages)
    await output.send_quick_replies("u3", "Lequel ?", choices(20))
    assert await output.send_more_choices("u3", more_token(graph.messages("u3")[-1]))
    assert payloads(graph.messages("u3")[-1]) == [c["payload"] for c in choices(20)][12:]
    assert "Choice pages unavailable in the database" in caplog.text
    assert "u3" not in caplog.text and "Choix 13" not in caplog.text
