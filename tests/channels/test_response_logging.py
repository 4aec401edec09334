"""Buttons carrying ``/inform{...}`` payloads reach the channels intact and log nothing.

Rasa's response templating (rasa/core/nlg/interpolator.py) reads ``{...}`` in a domain response
as a slot name; ``/inform{"facility":"mairie"}`` then fails as a template, and the failure is
logged at ERROR with a traceback whose locals hold every slot value: the citizen's e-mail
address and phone number. The domain doubles the braces of such payloads; buttons built by
actions are not templated at all. These tests render responses the way the Rasa server does,
with the server's own log set-up (structlog to the standard logging, JSON, tracebacks with
locals), and check that no log line carries a contact.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

import pytest
import structlog

from actions.booking import ActionAskBookingConfirmed
from tests.trackers import run, tracker
from townhall import config, db
from townhall.booking import availability, loader


pytestmark = pytest.mark.usefixtures("clock")  # demo data relative to one frozen day, never today

EMAIL = "camille.secretnom@example.org"
PHONE = "+33698765432"
NAME = "Camille Secretnom"
CONTACT_SLOTS = {"citizen_email": EMAIL, "citizen_phone": PHONE, "citizen_name": NAME}


@pytest.fixture
def server_logging(caplog, monkeypatch):
    """The Rasa server's structlog configuration (as when it runs without a terminal), at DEBUG."""
    from rasa.utils import log_utils

    monkeypatch.setattr(log_utils, "FORCE_JSON_LOGGING", "1")
    log_utils.configure_structlog(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    yield caplog
    structlog.reset_defaults()


@pytest.fixture(scope="module")
def rasa_domain():
    from rasa.shared.core.domain import Domain

    return Domain.load(str(config.PROJECT_ROOT / "domain"))


def rasa_tracker(domain, slots):
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    return DialogueStateTracker.from_events(
        "citoyen", [SlotSet(name, value) for name, value in slots.items()], domain.slots
    )


def leaked(caplog) -> list[str]:
    lines = [record.getMessage() for record in caplog.records]
    lines += [caplog.text]
    secrets = (EMAIL, PHONE, NAME, "698765432", "secretnom")
    return [line for line in lines if any(secret.lower() in line.lower() for secret in secrets)]


def inform_payloads(messages) -> list[str]:
    return [b["payload"] for m in messages for b in (m.get("buttons") or []) if b["payload"].startswith("/inform")]


def assert_canonical(payload: str) -> None:
    """``/inform{...}`` with one JSON object, as Rasa's payload parser reads it."""
    assert payload.startswith("/inform{") and not payload.startswith("/inform{{"), payload
    assert isinstance(json.loads(payload[len("/inform"):]), dict), payload


async def test_domain_buttons_render_intact_and_log_no_slot_value(server_logging, rasa_domain):
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator

    nlg = TemplatedNaturalLanguageGenerator(rasa_domain.responses)
    state = rasa_tracker(rasa_domain, {**CONTACT_SLOTS, "procedure": "passeport", "facility": "mairie"})
    rendered = []
    for name, variations in rasa_domain.responses.items():
        if any(v.get("buttons") for v in variations):
            rendered.append(await nlg.generate(name, state, "rest"))
    payloads = inform_payloads(rendered)
    assert len(payloads) >= 20
    for payload in payloads:
        assert_canonical(payload)
    assert '/inform{"facility":"mairie"}' in payloads
    assert '/inform{"procedure":"passeport"}' in payloads
    assert not [r for r in server_logging.records if r.levelno >= logging.WARNING]
    assert leaked(server_logging) == []


@pytest.fixture
def commune(sqlite_url):
    with db.unit_of_work(sqlite_url) as session:
        loader.load_demo(session, datetime.now(config.TIMEZONE).date(), with_appointments=False)
        day = availability.next_free_days(session, "passeport")[0]
        start = availability.free_slots(session, "passeport", day)[0]
    return start


async def test_booking_recap_with_buttons_logs_no_contact(server_logging, rasa_domain, commune):
    """The recap and its Oui / Non buttons, the day buttons built by the action, and a
    choice of procedure, sent by the Rasa server as it does an action's messages."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator

    slots = {
        **CONTACT_SLOTS, "procedure": "passeport", "party_size": 1,
        "appointment_date": commune.date().isoformat(), "appointment_slot": commune.astimezone(timezone.utc).isoformat(),
    }
    _, dispatcher = await run(ActionAskBookingConfirmed(), tracker("oui", intent="affirm", slots=slots))
    responses = list(dispatcher.messages) + [
        {"response": "utter_ask_appointment_date",
         "buttons": [{"title": "Lundi 7 décembre", "payload": '/inform{"date":"lundi 7 décembre"}'}]},
        {"response": "utter_ask_procedure"},
    ]
    responses = [{**{"text": None, "buttons": [], "custom": None, "attachment": None, "image": None,
                     "elements": [], "quick_replies": []}, **r} for r in responses]
    output = CollectingOutputChannel()
    nlg = TemplatedNaturalLanguageGenerator(rasa_domain.responses)
    uttered = await RemoteAction._utter_responses(responses, output, nlg, rasa_tracker(rasa_domain, slots))

    texts = [u.text or "" for u in uttered]
    assert texts[0].startswith("Je récapitule votre demande") and EMAIL in texts[0]
    buttons = [b for u in uttered for b in (u.data.get("buttons") or [])]
    assert [b["payload"] for b in buttons[:2]] == ["/affirm", "/deny"]
    assert '/inform{"date":"lundi 7 décembre"}' in [b["payload"] for b in buttons]
    for payload in inform_payloads([u.data for u in uttered]):
        assert_canonical(payload)
    assert not [r for r in server_logging.records if r.levelno >= logging.WARNING]
    assert leaked(server_logging) == []


def test_no_domain_response_holds_a_brace_rasa_would_read_as_a_template(rasa_domain):
    """Any ``{...}`` in a response must name a slot or an action argument; a payload's JSON
    must have its braces doubled."""
    import re

    template = re.compile(r"(?<!\{)\{([^\n{}]+?)\}(?!\})")
    names = set(rasa_domain.as_dict().get("slots", {}))
    bad = []
    for name, variations in rasa_domain.responses.items():
        for variation in variations:
            strings = [variation.get("text") or ""] + [b.get("payload", "") for b in variation.get("buttons") or []]
            for text in strings:
                for found in template.findall(text):
                    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", found):
                        bad.append((name, text))
    assert bad == []
    assert names  # the domain was read
