"""The real servers for the fuzz suite, and the tally of the answers they gave.

One stack for the whole session, started as tests/e2e/stack.py starts it: the Rasa server with
the trained model (REST and Messenger channels, the latter talking to a local fake Graph API),
the guarded action server and the back office, on the demo commune's data, with an
administrator for the staff forms. Every request goes through ``tally.send``: the counts per
target (and every answer >= 500, with its request) are printed at the end of the session, in
pytest's terminal summary (and on stdout with ``-s``).
"""
from __future__ import annotations

import os
import secrets
import subprocess
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Callable, Dict, List

import httpx
import pytest

from tests.channels.fake_graph import FakeGraph
from tests.e2e.stack import VENV_BIN, Stack, newest_model
from townhall.config import PROJECT_ROOT

FACEBOOK_SECRET = "fuzz-app-secret"
FACEBOOK_VERIFY = "fuzz-verify-token"
OPEN311_KEY = "fuzz-open311-key"


@dataclass
class Failure:
    target: str
    request: str
    outcome: str

    def __str__(self) -> str:
        return f"[{self.target}] {self.request} -> {self.outcome}"


@dataclass
class Tally:
    """Answers per target, by status class; failures are answers >= 500 and dead connections."""

    counts: Dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    failures: List[Failure] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, target: str, request: str, call: Callable[[], httpx.Response]) -> httpx.Response | None:
        try:
            answer = call()
        except httpx.LocalProtocolError:  # our own client refused to send it: not the server's doing
            with self.lock:
                self.counts[target]["unsendable"] += 1
            return None
        except httpx.TimeoutException:
            self._record(target, "timeout", Failure(target, request, "timeout"))
            return None
        except httpx.HTTPError as error:  # connection reset, server gone
            self._record(target, "error", Failure(target, request, f"{type(error).__name__}: {error}"[:200]))
            return None
        status = answer.status_code
        failure = None
        if status >= 500:
            failure = Failure(target, request, f"{status} {answer.text[:200]!r}")
        self._record(target, f"{status // 100}xx", failure)
        return answer

    def _record(self, target: str, key: str, failure: Failure | None) -> None:
        with self.lock:
            self.counts[target][key] += 1
            self.counts[target]["total"] += 1
            if failure is not None:
                self.failures.append(failure)

    def failures_of(self, target: str) -> List[Failure]:
        return [f for f in self.failures if f.target == target]

    def assert_clean(self, target: str) -> None:
        found = self.failures_of(target)
        assert self.counts[target]["total"] > 0, f"nothing was sent to {target}"
        assert not found, f"{len(found)} answers >= 500 (or dead connections) on {target}:\n" + "\n".join(
            str(f) for f in found[:40])

    def summary(self) -> str:
        lines = ["Fuzz suite: answers per target"]
        for target in sorted(self.counts):
            c = self.counts[target]
            parts = ", ".join(f"{k} {c[k]}" for k in ("2xx", "3xx", "4xx", "5xx", "timeout", "error", "unsendable")
                          if c[k])
            lines.append(f"  {target}: {c['total']} requests ({parts}); >=500 or dead: {len(self.failures_of(target))}")
        lines += [f"  {note}" for note in self.notes]
        if self.failures:
            lines.append("Answers >= 500 (or dead connections):")
            lines += [f"  {f}" for f in self.failures[:200]]
        return "\n".join(lines)


TALLY = Tally()


@pytest.fixture(scope="session")
def tally() -> Tally:
    return TALLY


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if TALLY.counts:
        terminalreporter.write_sep("=", "fuzz suite")
        terminalreporter.write_line(TALLY.summary())


@pytest.fixture(scope="session")
def fake_graph():
    with FakeGraph() as fake:
        yield fake


@pytest.fixture(scope="session")
def fuzz_stack(fake_graph):
    model = newest_model()
    if model is None or not model.exists():
        if os.environ.get("CI"):
            pytest.fail("no trained model: scripts/test.sh trains one before pytest")
        pytest.skip("no trained model")
    env = {
        "FACEBOOK_VERIFY_TOKEN": FACEBOOK_VERIFY,
        "FACEBOOK_APP_SECRET": FACEBOOK_SECRET,
        "FACEBOOK_PAGE_ACCESS_TOKEN": "fuzz-page-token",
        "FACEBOOK_GRAPH_URL": fake_graph.url,
        "OPEN311_API_KEYS": OPEN311_KEY,
    }
    with Stack(model=model, demo_data=True, env=env) as stack:
        yield stack
        TALLY.notes.append(_log_excerpt(stack))
    print("\n" + TALLY.summary())


def _log_excerpt(stack: Stack) -> str:
    """How many tracebacks each process logged (the details stay in the logs)."""
    counts = {name: stack.log(name).count("Traceback") for name in ("rasa", "actions", "backoffice")}
    return "tracebacks in the logs: " + ", ".join(f"{k} {v}" for k, v in counts.items())


@dataclass
class StaffSession:
    client: httpx.Client
    csrf: str
    username: str
    password: str


def _csrf_from(html: str) -> str:
    import re

    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def login(base_url: str, username: str, password: str) -> StaffSession:
    client = httpx.Client(base_url=base_url, timeout=60, follow_redirects=False)
    page = client.get("/login", headers={"Accept": "text/html"})
    csrf = _csrf_from(page.text)
    answer = client.post("/login", data={"username": username, "password": password, "csrf_token": csrf})
    assert answer.status_code in (302, 303), (answer.status_code, answer.text[:300])
    landing = client.get(answer.headers["location"], headers={"Accept": "text/html"})
    # a page with a form gives this session's CSRF token
    for path in (landing.url.path, "/users", "/staff/alerts", "/review"):
        page = client.get(path, headers={"Accept": "text/html"})
        if 'name="csrf_token"' in page.text:
            return StaffSession(client, _csrf_from(page.text), username, password)
    raise AssertionError("no page with a CSRF token after login")


@pytest.fixture(scope="session")
def admin(fuzz_stack) -> StaffSession:
    password = secrets.token_urlsafe(18)
    subprocess.run(
        [str(VENV_BIN / "python"), "-m", "backoffice.users", "create", "--username", "fuzzadmin", "--role", "admin",
         "--password-stdin"],
        input=password + "\n", text=True, cwd=PROJECT_ROOT, env=fuzz_stack.environment(), check=True,
        capture_output=True, timeout=120,
    )
    session = login(fuzz_stack.backoffice_url, "fuzzadmin", password)
    yield session
    session.client.close()


def wait_until(condition: Callable[[], bool], timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False
