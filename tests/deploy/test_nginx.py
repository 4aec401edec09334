"""The nginx load balancer, for real: Debian's nginx with the rendered configuration in front
of small HTTP servers standing in for the Rasa and action servers."""
from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from deploy import nginx
from deploy.cluster import free_port


NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


class Backend:
    """An HTTP server that answers every request with its own name (and counts them)."""

    def __init__(self, name: str, status: int = 200) -> None:
        self.name, self.status, self.hits = name, status, 0
        backend = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                backend.hits += 1
                body = json.dumps({"served_by": backend.name}).encode()
                self.send_response(backend.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def balancer(tmp_path):
    if NGINX is None:
        pytest.skip("nginx is not installed (scripts/setup.sh --test installs it)")
    rasa = [Backend("rasa-1"), Backend("rasa-2")]
    actions = [Backend("actions-1"), Backend("actions-2")]
    ports = {"rasa": free_port(), "actions": free_port()}
    (tmp_path / "tmp").mkdir()
    (tmp_path / "tmp").chmod(0o777)
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx.render([b.address for b in rasa], [b.address for b in actions],
                                 listen_rasa=ports["rasa"], listen_actions=ports["actions"], runtime_dir=tmp_path))
    check = subprocess.run([NGINX, "-t", "-e", str(tmp_path / "error.log"), "-c", str(conf)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen([NGINX, "-e", str(tmp_path / "error.log"), "-c", str(conf)])
    base = {k: f"http://127.0.0.1:{v}" for k, v in ports.items()}
    for _ in range(100):
        try:
            httpx.get(base["actions"] + "/health", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    yield base, rasa, actions
    process.terminate()
    process.wait(timeout=10)
    for b in rasa + actions:
        b.stop()


def test_messages_are_spread_over_the_rasa_processes(balancer):
    base, rasa, _ = balancer
    served = {httpx.post(base["rasa"] + "/webhooks/rest/webhook", json={"sender": "a", "message": "bonjour"}).json()["served_by"]
              for _ in range(20)}
    assert served == {"rasa-1", "rasa-2"}


def test_a_rasa_process_that_is_gone_is_skipped_even_for_posts(balancer):
    base, rasa, _ = balancer
    rasa[0].stop()
    answers = [httpx.post(base["rasa"] + "/webhooks/rest/webhook", json={"sender": "a", "message": "bonjour"})
               for _ in range(10)]
    assert [a.status_code for a in answers] == [200] * 10
    assert {a.json()["served_by"] for a in answers} == {"rasa-2"}


def test_when_no_action_server_answers_the_citizen_gets_a_polite_french_message(balancer):
    base, _, actions = balancer
    assert httpx.post(base["actions"] + "/webhook", json={"next_action": "x"}).json()["served_by"].startswith("actions-")
    for backend in actions:
        backend.stop()
    answer = httpx.post(base["actions"] + "/webhook", json={"next_action": "action_opening_hours"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["events"] == []
    assert body["responses"] == [{"text": nginx.unavailable_message()}]
    assert "momentanément indisponible" in body["responses"][0]["text"]
    # The health route is not faked: a monitoring probe sees that the action servers are down.
    assert httpx.get(base["actions"] + "/health").status_code == 502


def test_an_action_server_error_is_not_silence(balancer):
    base, _, actions = balancer
    for backend in actions:
        backend.status = 500
    body = httpx.post(base["actions"] + "/webhook", json={"next_action": "x"}).json()
    assert body["responses"][0]["text"] == nginx.unavailable_message()


def test_a_rejected_form_validation_reaches_rasa_unchanged(balancer):
    """400 means 'action rejected' to Rasa's forms: it must not be replaced."""
    base, _, actions = balancer
    for backend in actions:
        backend.status = 400
    answer = httpx.post(base["actions"] + "/webhook", json={"next_action": "x"})
    assert answer.status_code == 400


# --- the rendered text (no nginx needed) -----------------------------------------------------------


def test_every_server_is_listed_in_its_upstreams(tmp_path):
    conf = nginx.render(["10.0.0.1:5101", "10.0.0.2:5102"], ["10.0.0.3:5201"], runtime_dir=tmp_path)
    for upstream in ("rasa", "rasa_socketio"):
        block = conf.split(f"upstream {upstream} {{", 1)[1].split("}", 1)[0]
        assert "        server 10.0.0.1:5101 max_fails=1 fail_timeout=5s;\n" in block
        assert "        server 10.0.0.2:5102 max_fails=1 fail_timeout=5s;\n" in block
        assert "5201" not in block
    actions = conf.split("upstream actions {", 1)[1].split("}", 1)[0]
    assert actions.count("server ") == 1 and "server 10.0.0.3:5201 max_fails=1 fail_timeout=3s;" in actions
    assert f"pid {tmp_path.resolve()}/nginx.pid;" in conf and f"proxy_temp_path {tmp_path.resolve()}/tmp/proxy;" in conf
    assert "{{" not in conf and "{%" not in conf


def test_the_fallback_body_is_valid_json_inside_single_quotes(tmp_path, monkeypatch):
    monkeypatch.setattr(nginx, "unavailable_message", lambda: "Merci d'appeler l'accueil \\ « standard »")
    conf = nginx.render(["127.0.0.1:1"], ["127.0.0.1:2"], runtime_dir=tmp_path)
    quoted = conf.split("return 200 '", 1)[1].split("';\n", 1)[0]
    assert "'" not in quoted
    unescaped = quoted.replace("\\\\", "\\")  # what nginx reads from its single-quoted string
    assert json.loads(unescaped)["responses"][0]["text"] == "Merci d\u2019appeler l\u2019accueil \\ « standard »"


def test_the_command_prints_the_configuration(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["nginx", "--rasa", "127.0.0.1:1,127.0.0.1:2", "--actions", "127.0.0.1:3",
                                     "--dir", str(tmp_path)])
    nginx.main()
    out = capsys.readouterr().out
    assert out.count("server 127.0.0.1:1 ") == 2 and "listen 127.0.0.1:5005 reuseport;" in out
