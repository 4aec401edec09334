"""Booking and report through the widget with the REAL dialogue model and action server.

Keyboard only: the citizen Tabs to the buttons the bot offers and presses Enter, types the
other answers. The driver reads the bot's LAST message (the current question), recognises it
by its wording (domain/*.yml, actions/*.py) and answers it: with an offered button when the
bot offers a fixed choice, by typing otherwise. An unknown question fails the test with the
transcript (rather than pressing a random button such as "Oui, arrêter").

The model is ``TEST_RASA_MODEL`` or the newest ``models/*.tar.gz``; without one these tests
are skipped (they fail instead when ``CI`` is set).
"""
from __future__ import annotations

import os
import re
import time
import warnings
from dataclasses import dataclass
from typing import Callable, Optional, Sequence, Tuple, Union

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.browser.conftest import active, tab_until
from tests.browser.test_widget import open_with_keyboard, stored
from tests.e2e.stack import newest_model

pytestmark = [pytest.mark.browser, pytest.mark.rasa]

EMAIL = "camille.martin@example.org"
ANTS_NUMBER = "7A2B3C4D5E"
REFERENCE = r"[A-HJ-NP-Z2-9]{6}"
# Inside townhall.knowledge.streets.COMMUNE_BBOX (47.195, -1.625, 47.255, -1.525) and several
# kilometres away from the demo reports (around 47.224, -1.572), so no "join" offer.
INCIDENT_POSITION = {"latitude": 47.2051, "longitude": -1.6102}


@pytest.fixture(scope="module")
def real_stack():
    from tests.e2e.stack import Stack

    model = newest_model()
    if model is None or not model.exists():
        if os.environ.get("CI"):
            pytest.fail("No trained model: set TEST_RASA_MODEL or train into models/")
        pytest.skip("No trained model (TEST_RASA_MODEL or models/*.tar.gz)")
    with Stack(model, actions=True, demo_data=True) as running:
        yield running


# --------------------------------------------------------------------------- reading the widget


def bot_count(page) -> int:
    return page.locator("#thc-root .thc-bot").count()


def wait_answer(page, before: int, quiet_ms: int = 1500, timeout: float = 60) -> None:
    """Waits for at least one new bot message, then for the bot to stay quiet."""
    deadline = time.monotonic() + timeout
    while bot_count(page) <= before:
        if time.monotonic() > deadline:
            raise AssertionError("The assistant did not answer:\n" + transcript(page))
        page.wait_for_timeout(200)
    last, stable_since = bot_count(page), time.monotonic()
    while time.monotonic() - stable_since < quiet_ms / 1000:
        page.wait_for_timeout(200)
        if bot_count(page) != last:
            last, stable_since = bot_count(page), time.monotonic()


def transcript(page) -> str:
    return "\n".join(
        " ".join(t.split()) for t in page.locator("#thc-root .thc-msg").all_inner_texts()
    )


def bot_text_since(page, before: int) -> str:
    return "\n".join(page.locator("#thc-root .thc-bot").all_inner_texts()[before:])


def last_bot_text(page) -> str:
    """The bot's current question: the text of its last message (buttons are not in it)."""
    return " ".join(page.locator("#thc-root .thc-bot").last.inner_text().split())


def choices(page) -> list:
    return [" ".join(c.split()) for c in page.locator("#thc-root .thc-choice").all_inner_texts()]


def location_offered(page) -> bool:
    return page.locator("#thc-root .thc-location").is_visible()


# --------------------------------------------------------------------------- keyboard actions


def focus_input(page) -> None:
    """The widget puts the focus back in the message field after each message; make sure."""
    if active(page).get("id") != "thc-input":
        page.locator("#thc-input").focus()


def press_choice(page, title: str) -> None:
    """From the message field, Shift+Tab back to the offered button and press Enter."""
    focus_input(page)
    tab_until(page, lambda f: " ".join(f.get("text", "").split()) == title, backwards=True)
    page.keyboard.press("Enter")


def say(page, message: str) -> None:
    focus_input(page)
    page.keyboard.type(message)
    page.keyboard.press("Enter")


def share_position(page) -> None:
    focus_input(page)
    tab_until(page, lambda f: "thc-location" in f.get("cls", ""), backwards=True)
    page.keyboard.press("Enter")


# --------------------------------------------------------------------------- answers


@dataclass(frozen=True)
class Choose:
    """Press the first offered button matching ``pattern`` (not ``avoid``); else type ``typed``."""

    pattern: str
    typed: str
    avoid: Optional[str] = None


@dataclass(frozen=True)
class Type:
    message: str


@dataclass(frozen=True)
class Locate:
    """Share the device position if the widget offers it; else type ``address``."""

    address: str


Answer = Union[Choose, Type, Locate]


def answer(page, reply: Answer) -> str:
    """Gives ``reply`` with the keyboard; returns what was done (for the failure messages)."""
    offered = choices(page)
    if isinstance(reply, Choose):
        wanted = [
            c for c in offered
            if re.search(reply.pattern, c, re.IGNORECASE)
            and not (reply.avoid and re.search(reply.avoid, c, re.IGNORECASE))
        ]
        if wanted:
            press_choice(page, wanted[0])
            return f"[button] {wanted[0]}"
        say(page, reply.typed)
        return f"[typed, no button among {offered}] {reply.typed}"
    if isinstance(reply, Locate):
        if location_offered(page):
            share_position(page)
            return "[button] Partager ma position"
        say(page, reply.address)
        return f"[typed] {reply.address}"
    say(page, reply.message)
    return f"[typed] {reply.message}"


def converse(
    page, opening: str, goal: str, answers: Sequence[Tuple[str, Answer]], max_turns: int = 20,
    on_question: Optional[Callable[[str], None]] = None,
) -> str:
    """Drives the conversation until ``goal`` (a regex, group 1 = reference) is said.

    Each turn answers the bot's LAST message with the first (pattern, answer) that matches it.
    """
    start = before = bot_count(page)
    say(page, opening)
    for _ in range(max_turns):
        wait_answer(page, before)
        found = re.search(goal, bot_text_since(page, start))
        if found:
            return found.group(1)
        question = last_bot_text(page)
        if on_question:
            on_question(question)
        before = bot_count(page)
        for pattern, reply in answers:
            if re.search(pattern, question, re.IGNORECASE):
                answer(page, reply)
                break
        else:
            raise AssertionError(
                f"Unexpected question {question!r} (choices {choices(page)}):\n" + transcript(page)
            )
    raise AssertionError(f"Goal {goal!r} not reached:\n" + transcript(page))


BOOKING_ANSWERS = [
    (r"quelle démarche|Choisissez une démarche", Choose(r"carte d'identité", "carte d'identité")),
    (r"pré-demande ANTS|numéro de pré-demande|Quel est ce numéro", Type(ANTS_NUMBER)),
    (r"combien de personnes|Combien serez-vous|nombre de personnes", Choose(r"^1$", "1")),
    (r"horaires? (libres|encore libres)|plus proches|Lequel vous convient|Choisissez un horaire|l'horaire",
     Choose(r".", "9 h", avoid=r"autre jour")),
    (r"Quel (autre )?jour|Donnez un jour|ce jour|autre jour|vérifier le jour", Choose(r".", "mardi prochain")),
    (r"quel nom|prénom et votre nom", Type("Camille Martin")),
    (r"adresse e-mail", Type(EMAIL)),
    (r"numéro de téléphone|numéro français", Type("06 12 34 56 78")),
    (r"Confirmez-vous ce rendez-vous|Je confirme ce rendez-vous|oui ou non|« oui »", Choose(r"^Oui", "oui")),
]

REPORT_ANSWERS = [
    (r"type de problème|catégorie", Choose(r"voirie|chaussée|route", "voirie")),
    (r"Où se trouve|rue de la commune", Locate("12 rue Pasteur")),
    (r"Décrivez|décrire|Une phrase suffit", Type("Un grand trou dans la chaussée, dangereux pour les vélos.")),
    (r"photo", Choose(r"Pas de photo", "non")),
    (r"e-mail", Choose(r"anonyme|^Non", "non")),
    (r"associer|autre problème", Choose(r"^Non", "non")),
    (r"Je l'enregistre|confirm", Choose(r"^Oui", "oui")),
]

BOOKED = rf"Votre référence : (RDV-{REFERENCE})"
FILED = rf"sous la référence (SIG-{REFERENCE})"


# --------------------------------------------------------------------------- checks


def model_offers_position(stack) -> bool:
    """Whether the SERVED model's "Où se trouve le problème ?" carries {"ask_location": true}.

    A model trained before domain/incidents.yml gained that custom payload cannot make the
    widget offer "Partager ma position"; the test then says so instead of failing on the widget.
    """
    domain = httpx.get(
        f"{stack.rasa_url}/domain", params={"token": stack.auth_token},
        headers={"Accept": "application/json"}, timeout=30,
    ).json()
    variations = domain.get("responses", {}).get("utter_ask_incident_location", [])
    return any(
        (v.get("custom") or {}).get("ask_location") is True
        or ((v.get("custom") or {}).get("data") or {}).get("ask_location") is True
        for v in variations
    )


def in_database(stack, table: str, reference: str) -> Optional[dict]:
    """The row of ``table`` with this reference in the stack's database, or None."""
    engine = create_engine(stack.database_url)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                text(f"SELECT * FROM {table} WHERE reference = :reference"), {"reference": reference}
            ).mappings().first()
    finally:
        engine.dispose()
    return dict(row) if row else None


def assert_conversation_kept(page, stack, reference: str, screenshot, name: str) -> None:
    """After a reload, the widget shows the same conversation (kept in this tab only)."""
    session = stored(page)["sessionId"]
    assert session
    page.reload()
    page.wait_for_selector("#thc-panel:not([hidden])")
    assert reference in transcript(page)
    assert stored(page)["sessionId"] == session
    screenshot(page, f"{name}-reloaded")


# --------------------------------------------------------------------------- tests


def test_book_an_appointment_with_the_keyboard_then_reload(real_stack, page, screenshot):
    page.goto(f"{real_stack.backoffice_url}/demo")
    open_with_keyboard(page)
    reference = converse(page, "je voudrais un rendez-vous pour une carte d'identité", BOOKED, BOOKING_ANSWERS)
    screenshot(page, "20-real-booking")

    assert reference in " ".join(page.locator("#thc-root .thc-bot").all_inner_texts())
    assert in_database(real_stack, "booking_appointments", reference), reference
    calendar = page.locator(f'#thc-root .thc-bot a[href*="{reference}"][href$=".ics"]')
    calendar.first.wait_for(timeout=10_000)
    assert calendar.count() == 1, transcript(page)
    assert not page.js_errors

    assert_conversation_kept(page, real_stack, reference, screenshot, "20-real-booking")
    assert page.locator(f'#thc-root .thc-bot a[href*="{reference}"][href$=".ics"]').count() == 1


def test_file_a_report_with_the_keyboard_and_the_position(real_stack, page, screenshot):
    """No place in the first message: the bot asks where, the citizen shares the position."""
    offers_position = model_offers_position(real_stack)
    page.context.set_geolocation(INCIDENT_POSITION)
    page.goto(f"{real_stack.backoffice_url}/demo")
    open_with_keyboard(page)
    asked, offered = [], []

    def note(question: str) -> None:
        asked.append(question)
        offered.append(location_offered(page))

    reference = converse(
        page, "il y a un nid de poule énorme sur la chaussée", FILED, REPORT_ANSWERS, on_question=note
    )
    screenshot(page, "21-real-report")

    where = [i for i, q in enumerate(asked) if re.search(r"Où se trouve", q)]
    assert where, asked
    report = in_database(real_stack, "incident_reports", reference)
    assert report, reference
    assert not page.js_errors
    assert_conversation_kept(page, real_stack, reference, screenshot, "21-real-report")

    if not offers_position:
        warnings.warn(pytest.PytestWarning(
            "The served model's utter_ask_incident_location has no custom {ask_location: true} "
            "(trained before domain/incidents.yml got it): position sharing NOT tested; the address was typed."
        ))
        assert report["address"] and "Pasteur" in report["address"], report
        return
    assert offered[where[0]], "The widget did not offer « Partager ma position »:\n" + transcript(page)
    users = page.locator("#thc-root .thc-user").all_inner_texts()
    assert any("Ma position" in t for t in users), transcript(page)
    assert report["latitude"] == pytest.approx(INCIDENT_POSITION["latitude"], abs=1e-5), report
    assert report["longitude"] == pytest.approx(INCIDENT_POSITION["longitude"], abs=1e-5), report


def test_file_a_report_that_names_the_street(real_stack, page, screenshot):
    """The place in the first message: the bot goes straight to the description."""
    page.goto(f"{real_stack.backoffice_url}/demo")
    open_with_keyboard(page)
    reference = converse(page, "il y a un nid de poule énorme rue Pasteur", FILED, REPORT_ANSWERS)
    screenshot(page, "22-real-report-street")
    assert in_database(real_stack, "incident_reports", reference), reference
