"""Start-up checks: a service that is down is reported within seconds, with its URL."""
from __future__ import annotations

import os
import socket
import time

import pytest

from deploy import preflight
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
