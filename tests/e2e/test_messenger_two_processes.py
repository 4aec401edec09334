"""Messenger's "Autres choix" pages across two Rasa processes (as nginx spreads webhooks).

Two Rasa servers run the trained model over one migrated database and one tracker store, with
one action server and the Facebook channel pointed at the fake Graph API. A citizen asks for an
appointment on process A and names a procedure that cannot be booked: the bot lists every
bookable procedure, more than Messenger's 13 quick replies, so the first page ends with
"Autres choix". That quick reply goes to process B, which must send the remaining choices: it
can only find them in the database (``channel_choice_pages``), since process A kept them. The
citizen's pick from that second page then goes to process A again, and the form goes on.

Needs a trained model (``TEST_RASA_MODEL`` or the newest ``models/*.tar.gz``); skipped without
one unless ``CI`` is set.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import time
import uuid

import httpx
import pytest

from channels.facebook import MAX_QUICK_REPLIES, MORE_CHOICES_PREFIX, MORE_CHOICES_TITLE
from tests.channels.fake_graph import FakeGraph
from tests.e2e.stack import Stack, model_or_skip
from townhall import channel_pages

pytestmark = pytest.mark.rasa

SECRET = "app-secret-for-two-processes"
EXTRA_PROCEDURES = 10  # added to the demo commune's, so that the list needs two pages


@pytest.fixture(scope="module")
def graph():
    with FakeGraph() as fake:
        yield fake


@pytest.fixture(scope="module")
def stack(graph):
    model = model_or_skip()
    env = {
        "FACEBOOK_VERIFY_TOKEN": "verify-token-for-two-processes",
        "FACEBOOK_APP_SECRET": SECRET,
        "FACEBOOK_PAGE_ACCESS_TOKEN": "page-token-for-two-processes",
        "FACEBOOK_GRAPH_URL": graph.url,
    }
    with Stack(model=model, demo_data=True, backoffice=False, rasa_count=2, env=env,
               startup_timeout=480) as running:
        add_bookable_procedures(running.database_url, EXTRA_PROCEDURES)
        yield running


def add_bookable_procedures(url: str, count: int) -> None:
    """More bookable procedures at the demo commune's first place (short labels, short codes)."""
    with sqlite3.connect(url[len("sqlite:///"):]) as db:
        place_id = db.execute("SELECT id FROM booking_places ORDER BY id LIMIT 1").fetchone()[0]
        for number in range(1, count + 1):
            db.execute(
                "INSERT INTO booking_motifs (code, label, place_id, minutes_per_person, max_party_size,"
                " min_notice_minutes, max_notice_days, needs_ants, documents, active)"
                " VALUES (?, ?, ?, 15, 1, 120, 90, 0, '[]', 1)",
                (f"essai_{number}", f"Démarche {number}", place_id),
            )


def bookable_payloads(url: str) -> list[str]:
    """The procedure buttons' payloads, in the order the bot lists them (``motifs.bookable_labels``)."""
    with sqlite3.connect(url[len("sqlite:///"):]) as db:
        codes = [row[0] for row in db.execute("SELECT code FROM booking_motifs WHERE active = 1 ORDER BY id")]
    return ['/inform{"procedure":"%s"}' % code for code in codes]


def kept_pages(url: str, sender: str) -> list[tuple[str, list]]:
    """(token, choices) of the pages kept for ``sender`` in the database."""
    digest = channel_pages.sender_digest("facebook", sender)
    with sqlite3.connect(url[len("sqlite:///"):]) as db:
        rows = db.execute(
            "SELECT token, choices FROM channel_choice_pages WHERE channel = 'facebook' AND sender_digest = ?",
            (digest,),
        ).fetchall()
    return [(token, json.loads(choices)) for token, choices in rows]


def messenger(rasa_url: str, sender: str, message: dict) -> None:
    """One signed webhook POST from Messenger, as the citizen ``sender`` sends ``message``."""
    item = {
        "sender": {"id": sender},
        "recipient": {"id": "PAGE-ID"},
        "timestamp": int(time.time() * 1000),
        "message": {"mid": f"m_{uuid.uuid4().hex}", **message},
    }
    body = json.dumps({"object": "page", "entry": [{"id": "PAGE-ID", "time": item["timestamp"],
                                                    "messaging": [item]}]}).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    answer = httpx.post(f"{rasa_url}/webhooks/facebook/webhook", content=body, timeout=180,
                        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature})
    assert answer.status_code == 200, answer.text


def quick_reply(reply: dict) -> dict:
    return {"text": reply["title"], "quick_reply": {"payload": reply["payload"]}}


def test_more_choices_sent_by_another_process_than_the_first_page(stack, graph):
    rasa_a, rasa_b = stack.rasa_urls
    citizen = f"psid-{uuid.uuid4().hex[:12]}"
    expected = bookable_payloads(stack.database_url)
    assert len(expected) > MAX_QUICK_REPLIES, "the list must need a second page"

    # Process A: the appointment, then a procedure that cannot be booked: every bookable one is listed.
    messenger(rasa_a, citizen, {"text": "Je voudrais prendre rendez-vous"})
    graph.clear()
    messenger(rasa_a, citizen, {"text": "une carte grise"})
    pages = [m for m in graph.messages(citizen)
             if any(r["title"] == MORE_CHOICES_TITLE for r in m.get("quick_replies") or [])]
    assert len(pages) == 1, f"no paged choices: {graph.messages(citizen)} / {stack.log('rasa')[-3000:]}"
    first = pages[0]["quick_replies"]
    assert len(first) == MAX_QUICK_REPLIES
    assert [r["payload"] for r in first[:-1]] == expected[: MAX_QUICK_REPLIES - 1]
    more = first[-1]
    assert more["title"] == MORE_CHOICES_TITLE and more["payload"].startswith(MORE_CHOICES_PREFIX)
    token = more["payload"][len(MORE_CHOICES_PREFIX):]

    # The rest is in the database, under the quick reply's token: not in process A's memory
    # (whose fallback tokens start with "m"), which process B could not read.
    kept = kept_pages(stack.database_url, citizen)
    assert [t for t, _ in kept] == [token]
    assert [c["payload"] for c in kept[0][1]] == expected[MAX_QUICK_REPLIES - 1:]

    # Process B: "Autres choix" gets the second page, read (and removed) from the database.
    graph.clear()
    messenger(rasa_b, citizen, quick_reply(more))
    second = [m for m in graph.messages(citizen) if m.get("quick_replies")]
    assert len(second) == 1, f"{graph.messages(citizen)} / {stack.log('rasa-2')[-3000:]}"
    assert [r["payload"] for r in second[0]["quick_replies"]] == expected[MAX_QUICK_REPLIES - 1:]
    assert "plus disponibles" not in json.dumps(graph.messages(citizen), ensure_ascii=False)
    assert kept_pages(stack.database_url, citizen) == []

    # Process A again: the citizen's pick from the second page goes on with the booking.
    pick = second[0]["quick_replies"][-1]
    graph.clear()
    messenger(rasa_a, citizen, quick_reply(pick))
    answers = graph.messages(citizen)
    assert any(m.get("text") for m in answers), f"no answer: {stack.log('rasa')[-3000:]}"
    tracker = httpx.get(f"{rasa_a}/conversations/{citizen}/tracker", params={"token": stack.auth_token},
                        timeout=60).json()
    assert tracker["slots"]["procedure"] == json.loads(pick["payload"][len("/inform"):])["procedure"]
    assert tracker["active_loop"].get("name") == "booking_form"
