"""Shared fixtures of the back-office tests (imported by the test modules; holds no test).

A real application database (SQLite) and a real Rasa tracker store written with Rasa's own
``SQLTrackerStore`` (``townhall.review.sample``), three users (admin, trainer, agent), and a
copy of the project's domain so exports never touch the real ``data/``.
"""
from __future__ import annotations

import asyncio
import re
import shutil
import time

import pytest
from fastapi.testclient import TestClient

from conversation_store import dispose
from conversation_store import sample as sample_store
from townhall import accounts, config, db
from townhall.review import sample

PASSWORD = "un-mot-de-passe-solide"
USERS = {"admin": "admin", "camille": "trainer", "dominique": "agent"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def write_tracker(url: str, extra: dict | None = None, now: float | None = None) -> None:
    conversations = sample.demo_conversations(now)
    conversations.update(extra or {})
    asyncio.run(sample_store.write(url, conversations))


@pytest.fixture
def project_root(tmp_path):
    """A scratch project: the real domain, empty data folders (exports land here)."""
    root = tmp_path / "project"
    shutil.copytree(config.PROJECT_ROOT / "domain", root / "domain")
    (root / "data" / "nlu").mkdir(parents=True)
    (root / "tests" / "nlu").mkdir(parents=True)
    (root / "data" / "nlu" / "handwritten.yml").write_text(
        'version: "3.1"\nnlu:\n  - intent: greet\n    examples: |\n      - bonjour\n      - salut\n'
        '  - intent: ask_opening_hours\n    examples: |\n      - la [piscine](facility) est ouverte dimanche ?\n',
        encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def tracker_template(tmp_path_factory):
    """Rasa's tracker store written once per test session (Rasa is slow to start), copied per test."""
    path = tmp_path_factory.mktemp("tracker") / "rasa_tracker.db"
    hostile = {"demo-hostile": ("rest", time.time() - 7200, [
        sample.Said("<script>alert('x')</script> et la mairie ?", "ask_address", 0.3),
        "Je n'ai pas compris.",
    ])}
    write_tracker(f"sqlite:///{path}", hostile)
    return path


@pytest.fixture
def tracker_url(tmp_path, monkeypatch, tracker_template):
    target = tmp_path / "rasa_tracker.db"
    shutil.copy(tracker_template, target)
    url = f"sqlite:///{target}"
    monkeypatch.setenv("TRACKER_DATABASE_URL", url)
    yield url
    dispose(url)


@pytest.fixture
def app(sqlite_url, tracker_url, project_root, monkeypatch):
    from backoffice import app as app_module
    from backoffice import review

    monkeypatch.setenv("BACKOFFICE_SECRET_KEY", "test-secret-key-0123456789")
    monkeypatch.setenv("STAFF_API_TOKEN", "staff-token-for-tests")
    monkeypatch.setattr(review, "_vocabulary", None)
    application = app_module.create_app(sqlite_url)
    application.state.project_root = project_root
    with db.unit_of_work(sqlite_url) as session:
        for username, role in USERS.items():
            accounts.create_user(session, username, PASSWORD, role)
    return application


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD):
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       follow_redirects=False)


def client_for(app, username: str | None = None) -> TestClient:
    client = TestClient(app, headers={"Accept": "text/html"})
    if username:
        response = login(client, username)
        assert response.status_code == 303, response.text
    return client


def token_of(client: TestClient, path: str = "/review") -> str:
    return csrf_of(client.get(path).text)
