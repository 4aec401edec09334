"""Booking and report through the widget with the REAL dialogue model and action server.

Keyboard only: the citizen Tabs to the buttons the bot offers and presses Enter, types the
other answers. The driver recognises the bot's questions by their wording (domain/*.yml) and
otherwise takes the first choice offered, so the test follows the dialogue as it evolves.

The model is ``TEST_RASA_MODEL`` or the newest ``models/*.tar.gz``; without one these tests
are skipped (they fail instead when ``CI`` is set).
"""
from __future__ import annotations

import os
import re
import time

import pytest

from tests.browser.conftest import active, tab_until
from tests.browser.test_widget import open_with_keyboard, stored
from tests.e2e.stack import newest_model

pytestmark = [pytest.mark.browser, pytest.mark.rasa]

EMAIL = "camille.martin@example.org"


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
    return "\n".join(page.locator("#thc-root .thc-msg").all_inner_texts())


def bot_text_since(page, before: int) -> str:
    return "\n".join(page.locator("#thc-root .thc-bot").all_inner_texts()[before:])


def choices(page) -> list:
    return page.locator("#thc-root .thc-choice").all_inner_texts()


def press_choice(page, title: str) -> None:
    if active(page)["id"] != "thc-input":
        page.locator("#thc-input").focus()
    tab_until(page, lambda f: f["text"] == title, backwards=True)
    page.keyboard.press("Enter")


def say(page, text: str) -> None:
    page.locator("#thc-input").focus()
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def converse(page, opening: str, goal: str, answers: list, max_turns: int = 20) -> str:
    """Drives the conversation until ``goal`` (a regex) appears in the bot's messages."""
    before = bot_count(page)
    say(page, opening)
    start = before
    for _ in range(max_turns):
        wait_answer(page, before)
        said = bot_text_since(page, start)
        found = re.search(goal, said)
        if found:
            return found.group(0)
        question = bot_text_since(page, before)
        offered = choices(page)
        before = bot_count(page)
        for pattern, answer in answers:
            if re.search(pattern, question, re.IGNORECASE):
                if answer == "LOCATION" and page.locator("#thc-root .thc-location").is_visible():
                    tab_until(page, lambda f: f["text"] == "Partager ma position", backwards=True)
                    page.keyboard.press("Enter")
                elif answer.startswith("CHOICE:"):
                    wanted = [c for c in offered if re.search(answer[7:], c, re.IGNORECASE)]
                    press_choice(page, wanted[0]) if wanted else say(page, answer[7:].split("|")[0])
                elif answer == "LOCATION":
                    say(page, "12 avenue Jean Jaurès")
                else:
                    say(page, answer)
                break
        else:
            if not offered:
                raise AssertionError("Unexpected question, no choice offered:\n" + transcript(page))
            press_choice(page, offered[0])
    raise AssertionError(f"Goal {goal!r} not reached:\n" + transcript(page))


BOOKING_ANSWERS = [
    (r"quelle démarche", "CHOICE:passeport"),
    (r"pré-demande", "non"),
    (r"combien de personnes|combien serez", "1"),
    (r"Quel (autre )?jour|Donnez un jour|ce jour", "mardi prochain"),
    (r"horaire|heure|créneau", "CHOICE:."),
    (r"quel nom|prénom et votre nom", "Camille Martin"),
    (r"e-mail", EMAIL),
    (r"téléphone", "06 12 34 56 78"),
    (r"confirme|oui ou non|« oui »", "CHOICE:^oui"),
]

REPORT_ANSWERS = [
    (r"type de problème|catégorie", "CHOICE:voirie|chaussée|route"),
    (r"Où se trouve|adresse|rue de la commune", "LOCATION"),
    (r"Décrivez|décrire", "Un grand trou dans la chaussée, dangereux pour les vélos."),
    (r"photo", "CHOICE:pas de photo|non"),
    (r"e-mail", EMAIL),
    (r"signalement (proche|similaire|semblable)|déjà signalé", "CHOICE:^non|nouveau"),
    (r"confirm|récapitulatif|correct|j'envoie|je transmets", "CHOICE:^oui|envoyer|confirmer"),
]


def test_book_an_appointment_with_the_keyboard_then_reload(real_stack, page, screenshot):
    page.goto(f"{real_stack.backoffice_url}/demo")
    open_with_keyboard(page)
    reference = converse(page, "Bonjour, je voudrais un rendez-vous pour un passeport", r"RDV-[A-HJ-NP-Z2-9]{6}", BOOKING_ANSWERS)
    screenshot(page, "20-real-booking")
    page.reload()
    page.wait_for_selector("#thc-panel:not([hidden])")
    assert reference in transcript(page)
    assert stored(page)["sessionId"]


def test_file_a_report_with_the_keyboard(real_stack, page, screenshot):
    page.goto(f"{real_stack.backoffice_url}/demo")
    open_with_keyboard(page)
    converse(page, "Il y a un nid de poule énorme avenue Jean Jaurès", r"SIG-[A-HJ-NP-Z2-9]{6}", REPORT_ANSWERS)
    screenshot(page, "21-real-report")
