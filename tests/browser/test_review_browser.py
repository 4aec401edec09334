"""The trainer's path in headless Chromium: log in, open a conversation, correct an intent,
select an entity in the text, export, and find the example in the training data folder (and on a
review branch of the training-data git repository)."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import uvicorn
import yaml

from deploy.cluster import free_port
from townhall.config import PROJECT_ROOT
from tests.browser.conftest import AXE, dump, run_axe, serious
from tests.core.training_data_fixtures import git, training_dir, training_git  # noqa: F401
from tests.backoffice.test_review_fixtures import (PASSWORD, app, project_root, tracker_template,  # noqa: F401
                                                   tracker_url)

SHOTS = PROJECT_ROOT / "test-results" / "review"


@pytest.fixture
def server(app):
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="none")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    _accessible(page)


def _accessible(page) -> None:
    """No serious axe-core violation. Our pages forbid inline scripts (CSP), so axe is evaluated
    through the DevTools protocol instead of a script tag."""
    if not page.evaluate("() => !!window.axe"):
        page.evaluate("(source) => { (0, eval)(source); }", AXE.read_text(encoding="utf-8"))
    assert page.evaluate("() => typeof window.axe.run") == "function"
    violations = serious(run_axe(page))
    assert not violations, dump(violations)


@pytest.mark.browser
def test_trainer_corrects_an_intent_and_exports_it(server, page, project_root, training_dir, training_git):
    page.goto(server + "/review")
    assert "/login" in page.url
    page.get_by_label("Identifiant").fill("camille")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(server + "/review")
    _shot(page, "01-inbox")

    page.get_by_role("link", name="jveu un truc pr mon gamin a l ecole").click()
    page.wait_for_url("**/review/conversation?sender=demo-confus")
    assert page.get_by_role("heading", name="Conversation", exact=True).is_visible()
    turn = page.locator("li.turn.user").first
    if not turn.locator("details.annotate").get_attribute("open"):
        turn.locator("summary").click()
    # Select "ecole" in the message as a trainer would with the mouse; review.js fills the fields.
    page.evaluate("""() => {
        const p = document.querySelector('li.turn.user p.text');
        const node = p.firstChild;
        const start = node.textContent.indexOf('ecole');
        const range = document.createRange();
        range.setStart(node, start); range.setEnd(node, start + 5);
        const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
        p.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
    }""")
    form = turn.locator("form.annotation-form")
    assert form.locator("[name=new_text]").input_value() == "ecole"
    form.locator("[name=new_entity]").select_option("procedure")
    form.locator("[name=new_value]").select_option("inscription_scolaire")
    form.get_by_label("Bonne intention").select_option("ask_procedure")
    _shot(page, "02-annotation")
    form.get_by_role("button", name="Enregistrer l'annotation").click()
    page.wait_for_load_state()
    assert page.get_by_text("L'annotation est enregistrée.").is_visible()
    assert page.get_by_text("Annotée par camille").is_visible()
    _shot(page, "03-annotated")

    page.get_by_role("link", name="Données d'entraînement").click()
    page.get_by_label("Écrire aussi le jeu de test réservé").uncheck()
    page.get_by_role("button", name="Exporter", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_text("Export terminé : 1 exemple(s) d'entraînement").is_visible()
    branch = git(training_git, "for-each-ref", "--format=%(refname:short)", "refs/heads/review/")
    assert branch.startswith("review/")
    assert page.get_by_text(f"branche {branch}, commit {git(training_git, 'rev-parse', branch)[:12]}").is_visible()
    _shot(page, "04-exported")
    page.get_by_role("link", name="Tableau de bord").click()
    assert page.get_by_role("heading", name="Questions sans réponse").is_visible()
    _shot(page, "05-dashboard")
    assert not page.js_errors  # type: ignore[attr-defined]

    exported = (training_dir / "nlu" / "review_corrections.yml").read_text(encoding="utf-8")
    assert git(training_git, "show", f"{branch}:nlu/review_corrections.yml") + "\n" == exported
    assert not (project_root / "data" / "nlu" / "review_corrections.yml").exists()
    data = yaml.safe_load(exported)
    assert data["nlu"] == [{"intent": "ask_procedure", "examples":
                            '- jveu un truc pr mon gamin a l [ecole]{"entity": "procedure", "value": '
                            '"inscription_scolaire"}\n'}]


def _login(page, server: str) -> None:
    page.goto(server + "/login")
    page.get_by_label("Identifiant").fill("camille")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(server + "/review")


def _luminance(rgb: str) -> float:
    channels = [int(c) / 255 for c in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


FOCUS = """(selector) => {
    const el = document.querySelector(selector);
    el.focus();
    const style = getComputedStyle(el);
    let bg = el.parentElement;
    while (bg && getComputedStyle(bg).backgroundColor === 'rgba(0, 0, 0, 0)') bg = bg.parentElement;
    return {outline: style.outlineColor, width: style.outlineWidth, style: style.outlineStyle,
            background: bg ? getComputedStyle(bg).backgroundColor : 'rgb(255, 255, 255)'};
}"""


@pytest.mark.browser
def test_focus_ring_contrast_and_reflow_at_320_px(server, page):
    _login(page, server)
    for selector in ("table.inbox a", "header.top nav a"):
        ring = page.evaluate(FOCUS, selector)
        assert ring["style"] == "solid" and ring["width"] == "3px", ring
        assert _contrast(ring["outline"], ring["background"]) >= 3, (selector, ring)  # was 1.64:1 on white
    page.set_viewport_size({"width": 320, "height": 640})
    for path in ("/review", "/review/conversation?sender=demo-rdv", "/review/training", "/review/dashboard"):
        page.goto(server + path)
        for details in page.locator("details.annotate").all():
            if not details.get_attribute("open"):
                details.locator("summary").click()
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 320, (path, width)  # the inbox was 898 px wide
        _shot(page, "320-" + (path.strip("/").split("?")[0].replace("/", "-") or "inbox"))
    assert not page.js_errors  # type: ignore[attr-defined]
