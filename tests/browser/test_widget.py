"""The chat widget in headless Chromium, against the real stack (back office + Rasa socket.io).

Rasa runs the tiny channel-fixture bot of tests/e2e/stack.py so that these tests check the
widget, not the dialogue model: keyboard-only booking and report, persistence across reload
and tabs, restart, typing indicator, location sharing, XSS, 320 px, 200 % zoom and axe-core.
"""
from __future__ import annotations

import re

import httpx
import pytest

from tests.browser.conftest import POSITION, active, dump, run_axe, serious, tab_until

pytestmark = pytest.mark.browser

STORE_PREFIX = "townhall-chat:"


@pytest.fixture(scope="module")
def stack():
    from tests.e2e.stack import Stack, fixture_model

    with Stack(fixture_model(), actions=False) as running:
        yield running


@pytest.fixture
def demo(stack, page):
    page.goto(f"{stack.backoffice_url}/demo")
    page.wait_for_selector("#thc-root .thc-launcher")
    return page


def bot_texts(page) -> list:
    return page.locator("#thc-root .thc-bot .thc-text").all_inner_texts()


def wait_bot(page, pattern: str, timeout: float = 20_000) -> None:
    page.wait_for_function(
        """(p) => Array.from(document.querySelectorAll('#thc-root .thc-bot .thc-text'))
                 .some(e => new RegExp(p).test(e.textContent))""",
        arg=pattern, timeout=timeout,
    )


def open_with_keyboard(page) -> None:
    tab_until(page, lambda f: "thc-launcher" in f["cls"])
    page.keyboard.press("Enter")
    page.wait_for_selector("#thc-panel:not([hidden])")


def type_and_send(page, text: str) -> None:
    assert active(page)["id"] == "thc-input", active(page)
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def choose_with_keyboard(page, title: str) -> None:
    """From the message field, Shift+Tab back to the offered choice and press Enter."""
    page.wait_for_selector(f"#thc-root .thc-choice:text-is('{title}')")
    tab_until(page, lambda f: f["text"] == title, backwards=True)
    page.keyboard.press("Enter")


def stored(page) -> dict:
    return page.evaluate(
        """(prefix) => { const k = Object.keys(sessionStorage).find(k => k.startsWith(prefix));
                         return k ? JSON.parse(sessionStorage.getItem(k)) : null; }""",
        STORE_PREFIX,
    )


# --------------------------------------------------------------------------- tests


def test_nothing_is_stored_or_contacted_before_the_chat_is_opened(stack, page, screenshot):
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{stack.backoffice_url}/demo")
    page.wait_for_selector("#thc-root .thc-launcher")
    page.wait_for_timeout(500)
    assert page.evaluate("() => [document.cookie, localStorage.length, sessionStorage.length]") == ["", 0, 0]
    assert page.context.cookies() == []
    assert not [u for u in requests if stack.rasa_url in u or "socket.io" in u], requests
    launcher = page.locator("#thc-root .thc-launcher")
    assert launcher.evaluate("e => e.tagName") == "BUTTON"
    assert launcher.get_attribute("aria-label") == "Ouvrir la discussion avec l'assistant de la mairie"
    assert launcher.get_attribute("aria-expanded") == "false"
    assert page.locator("#thc-panel").is_hidden()
    screenshot(page, "01-demo-page-closed")

    launcher.click()
    page.wait_for_function("() => sessionStorage.length === 1 && localStorage.length === 0")
    page.wait_for_function(
        "(url) => performance.getEntriesByType('resource').some(e => e.name.includes('socket.io'))", arg=stack.rasa_url
    )
    assert page.context.cookies() == []


def test_keyboard_opens_focuses_and_escape_closes_back_to_the_button(demo, screenshot):
    page = demo
    open_with_keyboard(page)
    assert active(page)["id"] == "thc-input"
    assert page.locator("#thc-root .thc-launcher").get_attribute("aria-expanded") == "true"
    log = page.locator("#thc-root [role=log]")
    assert log.get_attribute("aria-live") == "polite"
    assert page.locator("#thc-panel").get_attribute("role") == "dialog"
    assert page.locator("#thc-panel").get_attribute("aria-labelledby") == "thc-title"
    assert "Villeneuve-sur-Loire" in page.locator("#thc-title").inner_text()
    assert page.locator("label[for=thc-input]").inner_text() == "Écrivez votre message"
    assert page.locator("#thc-root .thc-send").inner_text() == "Envoyer"
    privacy = page.locator("#thc-root .thc-privacy a")
    assert privacy.get_attribute("href").endswith("/confidentialite")
    screenshot(page, "02-open-focused")

    page.keyboard.press("Escape")
    page.wait_for_selector("#thc-panel", state="hidden")
    assert "thc-launcher" in active(page)["cls"]
    assert page.locator("#thc-root .thc-launcher").get_attribute("aria-expanded") == "false"

    # The close button works from the keyboard too.
    page.keyboard.press("Enter")
    page.wait_for_selector("#thc-panel:not([hidden])")
    tab_until(page, lambda f: "thc-close" in f["cls"], backwards=True)
    page.keyboard.press("Enter")
    page.wait_for_selector("#thc-panel", state="hidden")
    assert "thc-launcher" in active(page)["cls"]
    assert page.js_errors == []


def test_booking_with_the_keyboard_only(demo, stack, screenshot):
    page = demo
    open_with_keyboard(page)
    type_and_send(page, "bonjour")
    wait_bot(page, "Que souhaitez-vous faire")
    choose_with_keyboard(page, "Prendre rendez-vous")
    wait_bot(page, "Quel jour vous convient")
    assert active(page)["id"] == "thc-input"  # focus back in the field after a choice
    assert page.locator("#thc-root .thc-user .thc-text").last.inner_text() == "Prendre rendez-vous"
    choose_with_keyboard(page, "Lundi")
    wait_bot(page, "RDV-7K3F9Q")
    ics = page.locator("#thc-root a.thc-file")
    assert ics.inner_text() == "Ajouter à mon agenda (.ics)"
    assert ics.get_attribute("href") == "http://localhost/rendez-vous.ics"
    assert ics.get_attribute("download") is not None
    # The confirmation is inside the polite live log, so screen readers announce it.
    assert page.locator("#thc-root [role=log][aria-live=polite] .thc-bot", has_text="RDV-7K3F9Q").count() == 1
    screenshot(page, "03-booking-confirmed")
    assert page.js_errors == []


def test_report_with_the_keyboard_and_the_device_position(demo, stack, screenshot):
    page = demo
    open_with_keyboard(page)
    type_and_send(page, "signaler")
    wait_bot(page, "Où se trouve le problème")
    location = page.locator("#thc-root .thc-location")
    location.wait_for(state="visible")
    assert location.inner_text() == "Partager ma position"
    assert page.locator("#thc-root .thc-bot").count() == 2  # welcome + question, no empty bubble
    screenshot(page, "04-report-location-asked")
    tab_until(page, lambda f: f["text"] == "Partager ma position", backwards=True)
    page.keyboard.press("Enter")
    wait_bot(page, "SIG-4HX2PL")
    assert location.is_hidden()
    session = stored(page)["sessionId"]
    tracker = httpx.get(f"{stack.rasa_url}/conversations/{session}/tracker", params={"token": stack.auth_token}).json()
    entities = {e["entity"]: e["value"] for e in tracker["latest_message"]["entities"]}
    assert entities == {"incident_latitude": POSITION["latitude"], "incident_longitude": POSITION["longitude"]}
    screenshot(page, "05-report-filed")


def test_share_location_button_becomes_the_location_button(demo):
    page = demo
    open_with_keyboard(page)
    type_and_send(page, "position")
    wait_bot(page, "Où se trouve le problème")
    location = page.locator("#thc-root .thc-location")
    location.wait_for(state="visible")
    assert page.locator("#thc-root .thc-choice").count() == 0  # "/share_location" is never sent
    location.click()
    wait_bot(page, "SIG-4HX2PL")
    assert page.locator("#thc-root .thc-user .thc-text").last.inner_text() == "Ma position"


def test_conversation_survives_reload_and_new_tab_and_can_be_restarted(demo, stack, screenshot):
    page = demo
    open_with_keyboard(page)
    type_and_send(page, "bonjour")
    wait_bot(page, "Que souhaitez-vous faire")
    session = stored(page)["sessionId"]

    page.reload()
    page.wait_for_selector("#thc-panel:not([hidden])")
    wait_bot(page, "Que souhaitez-vous faire")
    assert "bonjour" in page.locator("#thc-root .thc-user").all_inner_texts()[0]
    assert page.locator("#thc-root .thc-choice").all_inner_texts() == ["Prendre rendez-vous", "Signaler un problème"]
    screenshot(page, "06-after-reload")

    # The conversation lives in this tab only (sessionStorage): it goes on after the reload...
    page.locator("#thc-input").fill("rendez-vous")
    page.keyboard.press("Enter")
    wait_bot(page, "Quel jour vous convient")
    assert stored(page)["sessionId"] == session
    tracker = httpx.get(f"{stack.rasa_url}/conversations/{session}/tracker", params={"token": stack.auth_token}).json()
    said = [e["text"] for e in tracker["events"] if e["event"] == "user"]
    assert said == ["bonjour", "rendez-vous"]
    # ...and a new tab (another person on a shared computer, maybe) starts with nothing of it.
    other = page.context.new_page()
    other.goto(f"{stack.backoffice_url}/demo")
    other.wait_for_selector("#thc-root .thc-launcher")
    assert other.locator("#thc-panel").is_hidden()
    assert other.evaluate("() => [localStorage.length, sessionStorage.length]") == [0, 0]
    other.close()

    # Restart: a new conversation (new session), only the welcome message left.
    tab_until(page, lambda f: "thc-restart" in f["cls"], backwards=True)
    page.keyboard.press("Enter")
    assert active(page)["id"] == "thc-input"
    assert page.locator("#thc-root .thc-user").count() == 0
    assert len(bot_texts(page)) == 1
    assert stored(page)["sessionId"] != session
    type_and_send(page, "bonjour")
    wait_bot(page, "Que souhaitez-vous faire")
    screenshot(page, "07-restarted")


def test_typing_indicator_is_shown_while_waiting(demo):
    page = demo
    open_with_keyboard(page)
    shown = page.evaluate(
        """() => { const input = document.getElementById('thc-input'); input.value = 'bonjour';
                   input.form.requestSubmit();
                   return document.querySelector('#thc-root .thc-typing').textContent; }"""
    )
    assert shown == "L'assistant écrit…"
    wait_bot(page, "Que souhaitez-vous faire")
    page.wait_for_function("() => document.querySelector('#thc-root .thc-typing').textContent === ''")


def test_bot_and_citizen_text_is_never_html(demo):
    page = demo
    open_with_keyboard(page)
    type_and_send(page, '<img src=x onerror="window.__xss=9"> piège')
    wait_bot(page, "gras")
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.__xss") is None
    log = page.locator("#thc-root [role=log]")
    assert log.locator("img, script, b").count() == 0
    assert '<img src=x onerror="window.__xss=9"> piège' in page.locator("#thc-root .thc-user .thc-text").last.inner_text()
    text = bot_texts(page)[-1]
    assert '<img src=x onerror="window.__xss=1"><b>gras</b> <script>window.__xss=2</script>' in text
    hrefs = log.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert hrefs == ["https://www.example.org/page?a=1"]
    assert not any(h.startswith("javascript") for h in hrefs)
    button = page.locator("#thc-root .thc-choice")
    assert button.inner_text() == '<img src=x onerror="window.__xss=4">Bouton'
    assert button.locator("img").count() == 0


def test_bad_input_gets_a_clear_answer(demo):
    page = demo
    open_with_keyboard(page)
    page.keyboard.press("Enter")  # empty message
    notice = page.locator("#thc-root .thc-notice")
    assert notice.inner_text() == "Merci d'écrire un message avant de l'envoyer."
    assert page.locator("#thc-root .thc-user").count() == 0
    assert active(page)["id"] == "thc-input"
    page.keyboard.type("   ")
    page.keyboard.press("Enter")
    assert page.locator("#thc-root .thc-user").count() == 0
    page.locator("#thc-input").fill("x" * 10_000)
    assert len(page.locator("#thc-input").input_value()) == 2000
    assert "limité à 2 000 caractères" in notice.inner_text()
    page.locator("#thc-input").fill("🙂🙂 bonjour")
    page.keyboard.press("Enter")
    assert notice.inner_text() == ""
    wait_bot(page, "Que souhaitez-vous faire")
    assert page.locator("#thc-root .thc-user .thc-text").last.inner_text() == "🙂🙂 bonjour"
    assert page.js_errors == []


def test_images_and_link_buttons(demo):
    page = demo
    open_with_keyboard(page)
    type_and_send(page, "plan")
    page.wait_for_selector("#thc-root img.thc-image")
    image = page.locator("#thc-root img.thc-image")
    assert image.get_attribute("src") == "http://localhost/plan.png"
    assert image.get_attribute("alt")
    type_and_send(page, "liens")
    wait_bot(page, "Voici les liens utiles")
    page.wait_for_selector("#thc-root .thc-bot a[href='https://ants.gouv.fr/']")
    ants = page.locator("#thc-root .thc-bot a[href='https://ants.gouv.fr/']")
    assert ants.get_attribute("rel") == "noopener noreferrer"
    assert "(nouvel onglet)" in ants.inner_text()


def test_usable_at_320_px_wide(stack, page, screenshot):
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(f"{stack.backoffice_url}/demo")
    page.wait_for_selector("#thc-root .thc-launcher")
    open_with_keyboard(page)
    type_and_send(page, "bonjour")
    wait_bot(page, "Que souhaitez-vous faire")
    box = page.locator("#thc-panel").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 320
    for selector in ["#thc-input", "#thc-root .thc-send", "#thc-root .thc-close", "#thc-root .thc-choice >> nth=0"]:
        element = page.locator(selector).bounding_box()
        assert element and element["x"] >= 0 and element["x"] + element["width"] <= 320, selector
    assert page.evaluate("() => document.querySelector('#thc-panel').scrollWidth <= 320")
    screenshot(page, "08-320px")
    assert serious(run_axe(page, "#thc-root")) == []


def test_usable_at_200_percent_zoom(stack, page, screenshot):
    # 1280 x 720 at 200 % zoom is a 640 x 360 CSS-pixel viewport.
    page.set_viewport_size({"width": 640, "height": 360})
    page.goto(f"{stack.backoffice_url}/demo")
    page.wait_for_selector("#thc-root .thc-launcher")
    open_with_keyboard(page)
    type_and_send(page, "bonjour")
    wait_bot(page, "Que souhaitez-vous faire")
    for selector in ["#thc-input", "#thc-root .thc-send", "#thc-root .thc-close"]:
        box = page.locator(selector).bounding_box()
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= 360, selector
        assert box["x"] >= 0 and box["x"] + box["width"] <= 640, selector
    choose_with_keyboard(page, "Prendre rendez-vous")
    wait_bot(page, "Quel jour vous convient")
    screenshot(page, "09-200-percent-zoom")


def test_axe_audit_has_no_serious_or_critical_violation(demo, screenshot):
    page = demo
    closed = run_axe(page)
    assert serious(closed) == [], dump(closed)
    open_with_keyboard(page)
    for text, expected in [("bonjour", "Que souhaitez-vous faire"), ("liens", "liens utiles"),
                           ("signaler", "Où se trouve"), ("rendez-vous", "Quel jour")]:
        type_and_send(page, text)
        wait_bot(page, expected)
    opened = run_axe(page, "#thc-root")
    assert serious(opened) == [], dump(opened)
    whole = run_axe(page)
    assert serious(whole) == [], dump(whole)
    screenshot(page, "10-axe-audited")


@pytest.mark.parametrize("color", ["#ffdd00", "#00a0e0", "#202020"])
def test_any_commune_colour_keeps_4_5_to_1_contrast(stack, page, color, screenshot):
    page.goto(f"{stack.backoffice_url}/demo?couleur={color.replace('#', '%23')}")
    assert page.locator("script[data-color]").get_attribute("data-color") == color
    page.locator("#thc-root .thc-launcher").click()
    page.locator("#thc-input").fill("bonjour")
    page.keyboard.press("Enter")
    wait_bot(page, "Que souhaitez-vous faire")
    violations = [v for v in run_axe(page, "#thc-root") if v["id"] == "color-contrast"]
    assert violations == [], dump(violations)
    screenshot(page, f"11-colour-{color[1:]}")


def test_rest_transport_fallback(stack, page):
    page.goto(f"{stack.backoffice_url}/demo?transport=rest")
    page.locator("#thc-root .thc-launcher").click()
    page.locator("#thc-input").fill("rendez-vous")
    page.keyboard.press("Enter")
    wait_bot(page, "Quel jour vous convient")
    page.locator("#thc-root .thc-choice", has_text="Mardi").click()
    wait_bot(page, "RDV-7K3F9Q")
    assert page.evaluate("() => typeof window.io") == "undefined"  # socket.io never loaded


def test_unreachable_server_gives_a_clear_message(stack, page):
    page.route(f"{stack.rasa_url}/**", lambda route: route.abort())
    page.goto(f"{stack.backoffice_url}/demo?transport=rest")
    page.locator("#thc-root .thc-launcher").click()
    page.locator("#thc-input").fill("bonjour")
    page.keyboard.press("Enter")
    notice = page.locator("#thc-root .thc-notice")
    notice.wait_for(state="visible")
    assert notice.inner_text() == "Le service de discussion est momentanément indisponible. Merci de réessayer plus tard."
    assert notice.get_attribute("role") == "alert"
    assert page.locator("#thc-root .thc-user .thc-text").last.inner_text() == "bonjour"


def test_demo_page_shows_the_one_line_embed(stack):
    html = httpx.get(f"{stack.backoffice_url}/demo").text
    tags = re.findall(r'<script src="[^"]+/widget\.js"[^>]*></script>', html)
    assert len(tags) == 1
    assert 'data-commune="Villeneuve-sur-Loire"' in tags[0] and f'data-server="{stack.rasa_url}"' in tags[0]
    assert "&lt;script src=" in html  # shown to webmasters as text
    assert "marianne" not in html.lower()
    script = httpx.get(f"{stack.backoffice_url}/widget.js")
    assert script.status_code == 200 and "innerHTML" not in script.text
    assert httpx.get(f"{stack.backoffice_url}/widget/vendor/socket.io.min.js").status_code == 200
    assert httpx.get(f"{stack.backoffice_url}/widget/../widget.py").status_code == 404
