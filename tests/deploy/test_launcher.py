"""deploy.launcher: one description of the processes, started, awaited and stopped together;
one "newest model" helper for every caller."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from deploy import launcher

ROOT = Path(__file__).resolve().parents[2]


def http_server(name: str, port: int) -> launcher.Process:
    return launcher.Process(name, [sys.executable, "-m", "http.server", "-b", "127.0.0.1", str(port)], port,
                            f"http://127.0.0.1:{port}/")


def test_processes_are_awaited_then_all_stopped(tmp_path):
    supervisor = launcher.Launcher(dict(os.environ), log_dir=tmp_path, startup_timeout=30)
    supervisor.start([http_server("a", launcher.free_port()), http_server("b", launcher.free_port())])
    try:
        assert all(p.alive() for p in supervisor.processes)
    finally:
        supervisor.stop()
    assert not any(p.alive() for p in supervisor.processes)
    for process in supervisor.processes:
        with pytest.raises(ProcessLookupError):
            os.killpg(process.pid, 0)  # nothing left in its process group
    assert oct((tmp_path / "a.log").stat().st_mode & 0o777) == "0o600"


def test_a_process_that_dies_at_start_up_stops_the_others(tmp_path):
    good = http_server("good", launcher.free_port())
    bad = launcher.Process("bad", [sys.executable, "-c", "import sys; print('boum'); sys.exit(3)"],
                           launcher.free_port(), "http://127.0.0.1:1/")
    supervisor = launcher.Launcher(dict(os.environ), log_dir=tmp_path, startup_timeout=30)
    with pytest.raises(launcher.StartError, match="bad exited") as error:
        supervisor.start([good, bad])
    assert "boum" in str(error.value)
    assert not good.alive()


def test_wait_returns_the_process_that_stopped(tmp_path):
    short = launcher.Process("short", [sys.executable, "-c", "import time; time.sleep(0.5)"], 0, "")
    supervisor = launcher.Launcher(dict(os.environ), log_dir=tmp_path)
    supervisor.spawn(short)
    try:
        assert supervisor.wait() is short
    finally:
        supervisor.stop()


def test_the_development_processes_are_the_three_of_run_sh():
    env = {"RASA_AUTH_TOKEN": "jeton", "RASA_PORT": "5105", "ACTIONS_PORT": "5155", "BACKOFFICE_PORT": "8100"}
    processes = {p.name: p for p in launcher.development_processes(env)}
    assert {name: p.health for name, p in processes.items()} == {
        "actions": "http://127.0.0.1:5155/health", "backoffice": "http://127.0.0.1:8100/healthz",
        "rasa": "http://127.0.0.1:5105/"}
    rasa = processes["rasa"].command
    assert rasa[1:4] == ["-m", "deploy.rasa_entry", "run"]  # the Rasa patches are applied explicitly
    assert rasa[rasa.index("--auth-token") + 1] == "jeton" and "--enable-api" in rasa
    assert rasa[rasa.index("--endpoints") + 1] == str(ROOT / "endpoints.yml")
    assert "--no-proxy-headers" in processes["backoffice"].command


def test_one_newest_model_helper_for_every_caller(tmp_path, monkeypatch):
    from deploy import cluster
    from scripts import evaluate_nlu
    from tests.e2e import stack
    from townhall.review import retrain

    assert launcher.newest_model(tmp_path) is None and retrain.latest_model(tmp_path) is None
    old, new = tmp_path / "mairie-1.tar.gz", tmp_path / "mairie-2.tar.gz"
    new.write_bytes(b"")
    old.write_bytes(b"")
    now = time.time()
    os.utime(old, (now - 60, now - 60))
    assert launcher.newest_model(tmp_path) == new
    assert cluster.newest_model(tmp_path) == new
    assert retrain.latest_model(tmp_path) == new
    assert evaluate_nlu.latest_model(tmp_path) == new and evaluate_nlu.latest_model(old) == old
    monkeypatch.delenv("TEST_RASA_MODEL", raising=False)
    monkeypatch.setattr(launcher, "newest_model", lambda folder=None: new)
    assert stack.newest_model() == new


def test_the_scripts_find_the_model_through_the_launcher():
    for script in ("scripts/train.sh", "scripts/test.sh"):
        text = (ROOT / script).read_text()
        assert "deploy.launcher newest-model" in text and "ls -t models/*.tar.gz | head" not in text
