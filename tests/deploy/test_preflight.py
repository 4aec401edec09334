"""Start-up checks: a service that is down is reported within seconds, with its URL."""
from __future__ import annotations

import os
import socket
import threading
import time

import pytest

from deploy import preflight
from townhall import db
from tests.conftest import POSTGRES_ADMIN_URL


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again once the socket is released


def test_down_services_are_reported_quickly_and_clearly():
    port = closed_port()
    env = {"DATABASE_URL": f"postgresql://postgres:s3cret@127.0.0.1:{port}/townhall",
           "REDIS_URL": f"redis://127.0.0.1:{port}/1"}
    started = time.monotonic()
    problems = preflight.check_environment(env, timeout=2)
    assert time.monotonic() - started < 10
    assert [p.service for p in problems] == ["application database (DATABASE_URL)", "Redis (lock store)"]
    assert all(str(port) in p.url for p in problems)
    assert "s3cret" not in str(problems[0]) and ":***@" in problems[0].url
    assert all(p.reason for p in problems)


def test_the_embedded_default_needs_no_service():
    assert preflight.check_environment({"DATABASE_URL": "sqlite:///var/townhall.db"}) == []
    assert preflight.check_environment({}) == []


def test_the_command_exits_with_an_error(monkeypatch, capsys):
    port = closed_port()
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:{port}/townhall")
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{port}/1")
    assert preflight.main() == 1
    err = capsys.readouterr().err
    assert f"127.0.0.1:{port}" in err and "ERROR" in err


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2):
            return True
    except OSError:
        return False


def test_running_services_pass(postgres_server):
    if not _redis_up():
        if os.environ.get("CI"):
            pytest.fail("Redis is required in CI and is not reachable at 127.0.0.1:6379")
        pytest.skip("Redis not reachable")
    env = {"DATABASE_URL": POSTGRES_ADMIN_URL, "REDIS_URL": "redis://127.0.0.1:6379/1"}
    assert preflight.check_environment(env) == []


@pytest.mark.parametrize("url,shown", [
    ("postgresql://postgres:s3cret@db:5432/townhall", "postgresql://postgres:***@db:5432/townhall"),
    ("postgresql+psycopg2://rasa:p%40ss%3Aw0rd@db/townhall", "postgresql+psycopg2://rasa:***@db/townhall"),
    ("redis://:s3cret@cache:6380/1", "redis://:***@cache:6380/1"),
    ("redis://cache:6379/1", "redis://cache:6379/1"),
    ("sqlite:///var/townhall.db", "sqlite:///var/townhall.db"),
])
def test_passwords_are_never_shown(url, shown):
    assert db.redacted_url(url) == shown


class FakeRedis:
    """A TCP server that answers every command with ``reply`` (or never, when it is None)."""

    def __init__(self, reply):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.reply = reply
        self.clients = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            self.clients.append(client)
            if self.reply is not None:
                client.recv(1024)
                client.sendall(self.reply)

    def close(self):
        for client in self.clients:
            client.close()
        self.sock.close()


def test_redis_refusing_the_password_is_reported():
    server = FakeRedis(b"-WRONGPASS invalid username-password pair or user is disabled.\r\n")
    try:
        problem = preflight.check_redis(f"redis://:s3cret@127.0.0.1:{server.port}/1", timeout=2)
    finally:
        server.close()
    assert problem is not None and problem.service == "Redis (lock store)"
    assert "s3cret" not in str(problem) and f"127.0.0.1:{server.port}" in problem.url
    assert "invalid username-password" in problem.reason


def test_redis_that_never_answers_is_reported_after_the_timeout():
    server = FakeRedis(None)
    started = time.monotonic()
    try:
        problem = preflight.check_redis(f"redis://127.0.0.1:{server.port}/1", timeout=1)
    finally:
        server.close()
    assert 0.9 < time.monotonic() - started < 5
    assert problem is not None and problem.reason


def test_a_redis_url_without_its_scheme_is_reported():
    problem = preflight.check_redis("127.0.0.1:6379")
    assert problem is not None and "redis://" in problem.reason
