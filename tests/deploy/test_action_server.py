"""The guarded action server (deploy/action_server.py) as scripts/run.sh starts it, and the
endpoint files that make Rasa send its token."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from deploy import action_server, nginx
from deploy.launcher import free_port
from townhall import schema

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "test-token-Zx81-qP"


def test_only_the_exact_bearer_token_is_accepted():
    assert action_server.is_authorized(f"Bearer {TOKEN}", TOKEN)
    for header in [None, "", TOKEN, f"bearer {TOKEN}", f"Bearer {TOKEN} ", f"Bearer {TOKEN}x", "Bearer ",
                   f"Basic {TOKEN}", "Bearer é\udcff"]:
        assert not action_server.is_authorized(header, TOKEN), header
    assert not action_server.is_authorized("Bearer ", "")


def test_the_app_is_not_built_without_a_token():
    with pytest.raises(action_server.MissingTokenError):
        action_server.create_app("", "actions")


def _listening_addresses(port: int) -> set[str]:
    """Local addresses in LISTEN state on ``port`` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if int(hex_port, 16) == port and fields[3] == "0A":
                found.add(address)
    return found


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    url = f"sqlite:///{tmp_path_factory.mktemp('actions') / 'townhall.db'}"
    schema.upgrade(url)  # the start-up's migration step: the server only checks it
    env = {**os.environ, "ACTION_SERVER_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1", "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
           "DATABASE_URL": url}
    env.pop("ACTIONS_HOST", None)
    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"action-server-test-{port}.log", "w+b")
    process = subprocess.Popen([sys.executable, "-m", "deploy.action_server", "-p", str(port)], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, Path(log.name).read_text(errors="replace")[-3000:]
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        pytest.fail("action server not ready")
    yield base, port, log
    process.terminate()
    process.wait(timeout=20)
    log.close()
    os.unlink(log.name)


def test_health_is_open_but_nothing_else(server):
    base, _, _ = server
    assert httpx.get(base + "/health").json() == {"status": "ok"}
    for method, path in [("GET", "/actions"), ("POST", "/webhook"), ("OPTIONS", "/webhook"), ("POST", "/health")]:
        for headers in [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}]:
            answer = httpx.request(method, base + path, headers=headers, json={"next_action": "action_listen"})
            assert answer.status_code == 401, (method, path, headers, answer.status_code)
            assert "Accès refusé" in answer.json()["error"]
            assert answer.headers.get("access-control-allow-origin") is None


def test_the_token_opens_the_action_routes(server):
    base, _, _ = server
    auth = {"Authorization": f"Bearer {TOKEN}"}
    names = [a["name"] for a in httpx.get(base + "/actions", headers=auth).json()]
    assert names
    unknown = httpx.post(base + "/webhook", headers=auth, json={"next_action": "no_such_action", "tracker": {}})
    assert unknown.status_code == 404


def test_an_error_does_not_echo_the_conversation(server):
    base, _, log = server
    auth = {"Authorization": f"Bearer {TOKEN}"}
    names = [a["name"] for a in httpx.get(base + "/actions", headers=auth).json()]
    secret = "gwen.kerbrat@exemple-mail.fr"
    answer = httpx.post(base + "/webhook", headers=auth,
                        json={"next_action": names[0], "sender_id": secret, "tracker": {"sender_id": secret, "slots": 3},
                              "domain": "x"})
    assert answer.status_code in (400, 500), answer.text
    assert secret not in answer.text and "request_body" not in answer.text
    bad_json = httpx.post(base + "/webhook", headers={**auth, "Content-Type": "application/json"}, content=b"{\xff")
    assert bad_json.status_code == 400 and secret not in bad_json.text
    log.flush()
    assert secret not in Path(log.name).read_text(errors="replace")


def test_it_listens_on_the_loopback_interface_only(server):
    _, port, _ = server
    addresses = _listening_addresses(port)
    assert addresses == {"0100007F"}, addresses  # 127.0.0.1, not 0.0.0.0 nor ::


def test_it_refuses_to_start_without_a_token():
    env = {k: v for k, v in os.environ.items() if k != "ACTION_SERVER_TOKEN"}
    done = subprocess.run([sys.executable, "-m", "deploy.action_server", "-p", str(free_port())], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "ACTION_SERVER_TOKEN" in done.stderr


def test_it_refuses_to_start_on_a_database_that_is_not_migrated(tmp_path):
    env = {**os.environ, "ACTION_SERVER_TOKEN": TOKEN, "DATABASE_URL": f"sqlite:///{tmp_path / 'vide.db'}"}
    done = subprocess.run([sys.executable, "-m", "deploy.action_server", "-p", str(free_port())], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "python -m townhall.schema upgrade" in done.stderr
    assert not schema.current_revisions(env["DATABASE_URL"])  # it did not migrate on its own


@pytest.mark.parametrize("name", ["endpoints.yml", "endpoints.production.yml"])
def test_rasa_sends_the_token_to_the_action_server(monkeypatch, name):
    from rasa.core.utils import AvailableEndpoints

    monkeypatch.setenv("ACTION_SERVER_TOKEN", TOKEN)
    for key, value in {"ACTION_ENDPOINT_URL": "http://localhost:5055/webhook", "TRACKER_DB_HOST": "h",
                       "TRACKER_DB_PORT": "5432", "TRACKER_DB_NAME": "d", "TRACKER_DB_USER": "u",
                       "TRACKER_DB_PASSWORD": "p", "REDIS_HOST": "r", "REDIS_PORT": "6379", "REDIS_DB": "1"}.items():
        monkeypatch.setenv(key, value)
    endpoints = AvailableEndpoints.read_endpoints(str(ROOT / name))
    assert endpoints.action.headers == {"Authorization": f"Bearer {TOKEN}"}


def test_nginx_keeps_the_action_servers_on_the_loopback_interface(tmp_path):
    conf = nginx.render(["127.0.0.1:1"], ["127.0.0.1:2"], listen_rasa=5005, listen_actions=5055,
                        runtime_dir=tmp_path, listen_host="0.0.0.0", temp_dir=tmp_path / "t")
    assert "listen 0.0.0.0:5005 " in conf
    assert "listen 127.0.0.1:5055 " in conf and "0.0.0.0:5055" not in conf
    assert f"client_body_temp_path {tmp_path / 't'}/body;" in conf
    # the citizens' front port never leads to an action server
    rasa_server = conf.split("listen 0.0.0.0:5005")[1].split("server {")[0]
    assert "http://actions" not in rasa_server


def test_the_launcher_starts_the_guarded_action_server():
    from deploy import launcher

    assert "deploy.launcher run" in (ROOT / "scripts" / "run.sh").read_text()
    processes = {p.name: p for p in launcher.development_processes(
        {"RASA_AUTH_TOKEN": "t", "RASA_HOST": "0.0.0.0", "RASA_CORS_ORIGINS": "https://a.fr https://b.fr"})}
    actions = processes["actions"].command
    assert actions[1:3] == ["-m", "deploy.action_server"] and "rasa" not in actions
    assert actions[actions.index("-i") + 1] == "127.0.0.1"
    rasa = processes["rasa"].command
    assert rasa[rasa.index("-i") + 1] == "0.0.0.0"
    assert rasa[rasa.index("--cors") + 1: rasa.index("--cors") + 3] == ["https://a.fr", "https://b.fr"]
