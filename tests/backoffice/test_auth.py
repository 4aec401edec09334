"""Logins, roles, sessions and CSRF of the back office."""
from __future__ import annotations

import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from townhall import accounts, config, db
from tests.backoffice.test_review_fixtures import (PASSWORD, app, client_for, csrf_of, login,  # noqa: F401
                                                   project_root, token_of, tracker_template,
                                                   tracker_url)

PROTECTED_PAGES = [
    "/review", "/review?low=1&sort=confidence", "/review/conversation?sender=demo-rdv", "/review/training",
    "/review/dashboard", "/staff", "/staff/appointments", "/staff/reports", "/staff/reports/SIG-4HX2PL",
    "/staff/handoffs", "/staff/feedback", "/users",
]
PROTECTED_POSTS = [
    "/review/annotate", "/review/unannotate", "/review/conversation/reviewed", "/review/conversation/tags",
    "/review/export", "/review/retrain", "/staff/appointments/RDV-7K3F9Q/cancel",
    "/staff/appointments/RDV-7K3F9Q/status", "/staff/reports/SIG-4HX2PL/status", "/staff/handoffs/1/handled",
    "/users", "/users/1/active",
]
TRAINER_ONLY = ["/review/training"]
AGENT_ONLY = ["/staff/appointments", "/staff/reports", "/staff/handoffs", "/staff/feedback"]


@pytest.mark.parametrize("path", PROTECTED_PAGES)
def test_anonymous_pages_redirect_to_login(app, path):
    response = client_for(app).get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("path", PROTECTED_PAGES)
def test_anonymous_json_requests_get_401(app, path):
    response = TestClient(app).get(path, headers={"Accept": "application/json"}, follow_redirects=False)
    assert response.status_code == 401


@pytest.mark.parametrize("path", PROTECTED_POSTS)
def test_anonymous_posts_refused_even_with_a_csrf_token(app, path):
    client = client_for(app)
    token = csrf_of(client.get("/login").text)
    response = client.post(path, data={"csrf_token": token, "sender": "demo-rdv", "event_id": "1"},
                           follow_redirects=False)
    assert response.status_code == 401


@pytest.mark.parametrize("path", ["/api/appointments/RDV-7K3F9Q"])
def test_staff_api_requires_session_or_token(app, path):
    assert TestClient(app).get(path).status_code == 401
    by_token = TestClient(app).get(path, headers={"Authorization": "Bearer staff-token-for-tests"})
    assert by_token.status_code == 404  # authenticated; the appointment does not exist
    assert TestClient(app).get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client_for(app, "dominique").get(path).status_code == 404  # agent session
    assert client_for(app, "camille").get(path).status_code == 403  # trainers do not see contacts


def test_staff_api_writes_by_session_need_the_csrf_header(app):
    client = client_for(app, "dominique")
    path = "/api/incidents/SIG-ZZZZZZ/status"
    body = {"status": "resolved", "note": "ok"}
    assert client.post(path, json=body).status_code == 403
    assert client.post(path, json=body, headers={"X-CSRF-Token": token_of(client)}).status_code != 403
    by_token = TestClient(app).post(path, json=body, headers={"Authorization": "Bearer staff-token-for-tests"})
    assert by_token.status_code not in (401, 403)


def test_public_routes_stay_public(app):
    client = TestClient(app)
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/login").status_code == 200
    assert client.get("/confidentialite").status_code == 200
    assert "90 jours" in client.get("/confidentialite").text


@pytest.mark.parametrize("path", AGENT_ONLY + ["/users"])
def test_trainer_refused_staff_pages(app, path):
    response = client_for(app, "camille").get(path, follow_redirects=False)
    assert response.status_code == 403
    assert "Accès refusé" in response.text


@pytest.mark.parametrize("path", TRAINER_ONLY + ["/users"])
def test_agent_refused_training_pages(app, path):
    assert client_for(app, "dominique").get(path, follow_redirects=False).status_code == 403


def test_agent_cannot_annotate_export_or_retrain(app):
    client = client_for(app, "dominique")
    token = token_of(client)
    for path in ("/review/annotate", "/review/export", "/review/retrain", "/review/conversation/tags"):
        response = client.post(path, data={"csrf_token": token, "sender": "demo-rdv", "tag": "x"},
                               follow_redirects=False)
        assert response.status_code == 403, path


def test_admin_reaches_everything(app):
    client = client_for(app, "admin")
    for path in ["/review", "/review/training", "/review/dashboard", "/staff/appointments", "/staff/reports",
                 "/staff/handoffs", "/staff/feedback", "/users"]:
        assert client.get(path).status_code == 200, path


def test_csrf_enforced_on_every_form(app):
    client = client_for(app, "admin")
    token = token_of(client)
    data = {"sender": "demo-rdv", "tag": "urgent"}
    assert client.post("/review/conversation/tags", data=data, follow_redirects=False).status_code == 403
    assert client.post("/review/conversation/tags", data={**data, "csrf_token": "forged"},
                       follow_redirects=False).status_code == 403
    assert client.post("/logout", follow_redirects=False).status_code == 403
    ok = client.post("/review/conversation/tags", data={**data, "csrf_token": token}, follow_redirects=False)
    assert ok.status_code == 303
    # The header works too (for scripts).
    assert client.post("/review/conversation/tags", data=data, headers={"X-CSRF-Token": token},
                       follow_redirects=False).status_code == 303


def test_login_needs_the_csrf_token(app):
    client = client_for(app)
    client.get("/login")
    response = client.post("/login", data={"username": "admin", "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 403


def test_wrong_password_refused_in_french(app):
    response = login(client_for(app), "admin", "mauvais-mot-de-passe")
    assert response.status_code == 401
    assert "Identifiant ou mot de passe incorrect" in response.text


def test_login_is_rate_limited(app):
    client = client_for(app)
    for _ in range(accounts.MAX_FAILURES_PER_USER_AND_IP):
        assert login(client, "admin", "mauvais-mot-de-passe").status_code == 401
    blocked = login(client, "admin", PASSWORD)
    assert blocked.status_code == 429
    assert "Trop de tentatives" in blocked.text
    assert login(client_for(app), "camille").status_code == 303  # other accounts are unaffected


def test_session_cookie_is_httponly_lax_and_rotates_csrf(app):
    client = client_for(app)
    before = csrf_of(client.get("/login").text)
    response = login(client, "admin")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert token_of(client) != before


def test_logout_ends_the_session(app):
    client = client_for(app, "admin")
    response = client.post("/logout", data={"csrf_token": token_of(client)}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/review", follow_redirects=False).status_code == 303


def test_deactivated_user_loses_access_immediately(app):
    admin = client_for(app, "admin")
    agent = client_for(app, "dominique")
    with db.unit_of_work(app.state.database_url) as session:
        agent_id = accounts.find(session, "dominique").id
    admin.post(f"/users/{agent_id}/active", data={"csrf_token": token_of(admin), "active": "0"})
    assert agent.get("/staff/appointments", follow_redirects=False).status_code == 303
    assert login(client_for(app), "dominique").status_code == 401


def test_admin_creates_a_user_with_a_hashed_password(app):
    admin = client_for(app, "admin")
    response = admin.post("/users", data={"csrf_token": token_of(admin), "username": "Lou",
                                          "password": "encore-un-mot-de-passe", "role": "trainer"},
                          follow_redirects=False)
    assert response.status_code == 303
    with db.unit_of_work(app.state.database_url) as session:
        user = accounts.find(session, "lou")
        assert user.role == "trainer" and user.password_hash.startswith("$argon2")
    short = admin.post("/users", data={"csrf_token": token_of(admin), "username": "x", "password": "court",
                                       "role": "agent"})
    assert short.status_code == 400 and "10 caractères" in short.text


def test_next_parameter_cannot_redirect_elsewhere(app):
    client = client_for(app)
    token = csrf_of(client.get("/login?next=//evil.example").text)
    response = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token,
                                           "next": "//evil.example"}, follow_redirects=False)
    assert response.headers["location"] == "/review"
    client = client_for(app)
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token,
                                           "next": "/staff/feedback"}, follow_redirects=False)
    assert response.headers["location"] == "/staff/feedback"


def test_security_headers(app):
    response = client_for(app, "admin").get("/review")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_users_command_creates_an_account(sqlite_url, tmp_path):
    env = {"DATABASE_URL": sqlite_url, "PATH": "/usr/bin:/bin", "TOWNHALL_VAR_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "backoffice.users", "create", "--username", "claude",
                           "--role", "agent", "--password-stdin"], input="mot-de-passe-du-terminal\n",
                          capture_output=True, text=True, cwd=config.PROJECT_ROOT, env=env)
    assert done.returncode == 0, done.stderr
    assert "Compte claude créé" in done.stdout
    again = subprocess.run([sys.executable, "-m", "backoffice.users", "create", "--username", "claude",
                            "--role", "agent", "--password-stdin"], input="mot-de-passe-du-terminal\n",
                           capture_output=True, text=True, cwd=config.PROJECT_ROOT, env=env)
    assert again.returncode == 2 and "existe déjà" in again.stderr
    with db.unit_of_work(sqlite_url) as session:
        assert accounts.authenticate(session, "claude", "mot-de-passe-du-terminal", "127.0.0.1").user is not None
