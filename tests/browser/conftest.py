"""Headless Debian Chromium (Playwright, ``executable_path``) and helpers for the widget tests.

Screenshots go to ``test-results/widget/`` (or ``$WIDGET_SCREENSHOTS``).
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Iterator

import pytest

from townhall.config import PROJECT_ROOT

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
AXE = PROJECT_ROOT / "tests" / "browser" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(os.environ.get("WIDGET_SCREENSHOTS", PROJECT_ROOT / "test-results" / "widget"))
# Where the demo page lets the widget think the citizen is (place de la Mairie, fictional).
POSITION = {"latitude": 47.39412, "longitude": 0.68481}


def pytest_collection_modifyitems(config, items):
    if Path(CHROMIUM).exists() or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} not installed")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def browser_context():
    """A fresh Chromium profile (no cookie, no storage) for each test."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="widget-chromium-")
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                locale="fr-FR",
                viewport={"width": 1280, "height": 800},
                geolocation=POSITION,
                permissions=["geolocation"],
            )
            context.set_default_timeout(20_000)
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser_context):
    page = browser_context.pages[0] if browser_context.pages else browser_context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors  # type: ignore[attr-defined]
    return page


@pytest.fixture
def screenshot() -> Callable:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=False)
        return path

    return take


def active(page) -> dict:
    """What has the keyboard focus: tag, id, classes, text."""
    return page.evaluate(
        """() => { const e = document.activeElement; return e ? {tag: e.tagName.toLowerCase(),
        id: e.id, cls: e.className || '', text: (e.innerText || e.value || '').trim(),
        label: e.getAttribute('aria-label') || ''} : {}; }"""
    )


def tab_until(page, predicate: Callable[[dict], bool], *, backwards: bool = False, limit: int = 60) -> dict:
    """Presses Tab (or Shift+Tab) until the focused element satisfies ``predicate``."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        focused = active(page)
        if predicate(focused):
            return focused
    raise AssertionError(f"Keyboard focus never reached the expected element (last: {active(page)})")


def run_axe(page, selector: str | None = None) -> list:
    """axe-core violations (WCAG 2.0/2.1 A and AA) for the page or one element."""
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async (selector) => {
            const context = selector ? document.querySelector(selector) : document;
            const r = await axe.run(context, {runOnly: {type: 'tag',
                values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
        }""",
        selector,
    )
    return result


def serious(violations: list) -> list:
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def dump(violations: list) -> str:
    return json.dumps(violations, ensure_ascii=False, indent=1)
