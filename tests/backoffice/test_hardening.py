"""Back-office hardening: bad input is a 400 (never a 500), server-side staff sessions, no cookie
on public pages, login rate limit behind proxies, URLs never taken from the Host header, and
no reporter's personal data in the public Open311 answers. SQLite and PostgreSQL."""
from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.requests import Request

from townhall import accounts, db
from townhall.db import utcnow
from tests.backoffice.test_review_fixtures import (PASSWORD, USERS, client_for, csrf_of, login,  # noqa: F401
                                                   project_root, token_of, tracker_template, tracker_url)


pytestmark = pytest.mark.usefixtures("clock")  # demo data relative to one frozen day, never today

HUGE = "99999999999999999999"
KEY = "dev-open311-key"
NEW = {"api_key": KEY, "service_code": "voirie", "description": "Nid-de-poule devant l'école.",
       "address_string": "3 rue Pasteur"}
PUBLIC_GETS = ["/confidentialite", "/demo", "/widget.js", "/widget/widget.css", "/static/staff.css", "/healthz",
               "/open311/v2/services.json", "/open311/v2/requests.json", "/open311/v2/services/voirie.json"]


def _make_app(db_url, project_root, monkeypatch, tmp_path):
    from backoffice import app as app_module
    from backoffice import review
    from townhall.incidents import loader
    from townhall.knowledge import loader as knowledge_loader

    monkeypatch.setenv("STAFF_API_TOKEN", "staff-token-for-tests")
    monkeypatch.setenv("TOWNHALL_UPLOADS_DIR", str(tmp_path / "no-uploads-yet"))
    monkeypatch.delenv("OPEN311_API_KEYS", raising=False)
    monkeypatch.delenv("TOWNHALL_ENV", raising=False)
    monkeypatch.delenv("BACKOFFICE_TRUSTED_PROXIES", raising=False)
    monkeypatch.setattr(review, "_vocabulary", None)
    application = app_module.create_app(db_url)
    application.state.project_root = project_root
    with db.unit_of_work(db_url) as session:
        for username, role in USERS.items():
            accounts.create_user(session, username, PASSWORD, role)
        knowledge_loader.load_demo(session, date.today())
        loader.load_demo(session, date.today())
    return application


@pytest.fixture
def app(db_url, tracker_url, project_root, monkeypatch, tmp_path):  # noqa: F811
    monkeypatch.delenv("BACKOFFICE_PUBLIC_URL", raising=False)
    monkeypatch.delenv("BACKOFFICE_COOKIE_SECURE", raising=False)
    monkeypatch.delenv("BACKOFFICE_SECURE_COOKIES", raising=False)
    return _make_app(db_url, project_root, monkeypatch, tmp_path)


def _cookie(response) -> str:
    return response.headers.get("set-cookie", "")


def _assert_bad_request(response, *, open311: bool = False):
    assert response.status_code == 400, response.text
    body = response.json()
    text = body[0]["description"] if open311 else body["detail"]
    assert any(word in text for word in ("invalide", "doit", "doivent", "hors limites", "interdit")), text


# --- 2. bad input: 400 or 403 or 404, never 500 -----------------------------------------------


def test_non_ascii_csrf_tokens_are_refused_not_crashing(app):
    anonymous = client_for(app)
    anonymous.get("/login")
    response = anonymous.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": "jéton✓"},
                              follow_redirects=False)
    assert response.status_code == 403
    agent = client_for(app, "dominique")
    assert agent.post("/logout", data={"csrf_token": "ééé"}, follow_redirects=False).status_code == 403
    assert agent.post("/logout", headers={"X-CSRF-Token": "é✓".encode("utf-8")},
                      follow_redirects=False).status_code == 403
    api = agent.post("/api/incidents/SIG-ZZZZZZ/status", json={"status": "resolved"},
                     headers={"X-CSRF-Token": "jéton".encode("utf-8")})
    assert api.status_code == 403


@pytest.mark.parametrize("key", ["clé-non-ascii", "ключ", "\u00e9" * 3000])
def test_non_ascii_open311_api_key_is_a_403(app, key):
    client = TestClient(app)
    form = client.post("/open311/v2/requests.json", data={**NEW, "api_key": key})
    as_json = client.post("/open311/v2/requests.json", json={**NEW, "api_key": key})
    for response in (form, as_json):
        assert response.status_code == 403
        assert "api_key" in response.json()[0]["description"]


@pytest.mark.parametrize("query", [f"page={HUGE}", "page=0", "page=-1", "page=abc", "page=%D9%A1",
                                   "page=100001", "page_size=abc", "page_size=0", f"service_request_id={HUGE}&page={HUGE}"])
def test_open311_bad_paging_is_a_french_400(app, query):
    response = TestClient(app).get(f"/open311/v2/requests.json?{query}")
    _assert_bad_request(response, open311=True)
    assert "entier" in response.json()[0]["description"]


def test_open311_large_page_size_is_capped_and_far_pages_are_empty(app):
    client = TestClient(app)
    assert client.get(f"/open311/v2/requests.json?page_size={HUGE}").status_code == 200
    assert client.get("/open311/v2/requests.json?page=100000&page_size=1000").json() == []


@pytest.mark.parametrize("query", ["start_date=0001-01-01T00:00:00%2B05:00", "end_date=9999-12-31T23:59:59-05:00",
                                   "start_date=2026-13-45", "start_date=%FF%FE"])
def test_open311_bad_dates_are_400(app, query):
    _assert_bad_request(TestClient(app).get(f"/open311/v2/requests.json?{query}"), open311=True)


def test_open311_non_utf8_multipart_is_a_400(app):
    body = (b"--XyZ\r\nContent-Disposition: form-data; name=\"api_key\"\r\n\r\n" + KEY.encode() +
            b"\r\n--XyZ\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\n\xff\xfe\xc3(\r\n--XyZ--\r\n")
    response = TestClient(app).post("/open311/v2/requests.json", content=body,
                                    headers={"Content-Type": "multipart/form-data; boundary=XyZ"})
    assert response.status_code in (400, 403), response.text
    broken = TestClient(app).post("/open311/v2/requests.json", content=b"--nope",
                                  headers={"Content-Type": "multipart/form-data; boundary=XyZ"})
    assert broken.status_code in (400, 403)


@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"a": ' * 20_000])
def test_open311_deeply_nested_json_is_a_400(app, body):
    response = TestClient(app).post("/open311/v2/requests.json", content=body,
                                    headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()[0]["description"] == "Le corps de la requête n'est pas du JSON valide."


def test_non_utf8_multipart_login_is_refused_not_crashing(app):
    client = client_for(app)
    token = csrf_of(client.get("/login").text)
    body = (b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n" + token.encode() +
            b"\r\n--XyZ\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\n\xff\xfeadmin"
            b"\r\n--XyZ\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\n\xc3(\xff"
            b"\r\n--XyZ--\r\n")
    response = client.post("/login", content=body, headers={"Content-Type": "multipart/form-data; boundary=XyZ"},
                           follow_redirects=False)
    assert response.status_code in (400, 401, 403), response.text
    broken = client.post("/login", content=b"--XyZ\r\ngarbage",
                         headers={"Content-Type": "multipart/form-data; boundary=XyZ"}, follow_redirects=False)
    assert broken.status_code in (400, 403)


def test_uploads_folder_missing_is_a_404(app):
    client = TestClient(app)
    assert client.get("/uploads/incidents/").status_code == 404
    assert client.get("/uploads/incidents/abc.jpg").status_code == 404


def test_huge_numbers_and_bad_dates_on_staff_pages(app):
    admin = client_for(app, "admin")
    token = token_of(admin, "/users")
    refused = admin.post(f"/users/{HUGE}/active", data={"csrf_token": token, "active": "0"}, follow_redirects=False)
    assert refused.status_code == 400 and "invalide" in refused.text
    for path in (f"/staff/handoffs/{HUGE}/handled", f"/staff/facilities/piscine/closures/{HUGE}/remove",
                 f"/staff/alerts/{HUGE}/end", "/staff/handoffs/0/handled"):
        response = admin.post(path, data={"csrf_token": token}, follow_redirects=False)
        assert response.status_code == 400, (path, response.status_code)
    for path in (f"/staff/reports?page={HUGE}", "/staff/reports?page=-5", "/staff/appointments?day=0001-01-01",
                 "/staff/appointments?day=9999-12-31", "/staff/appointments?day=n%C3%A9ant",
                 f"/staff/appointments?reference={'x' * 5000}", f"/review/dashboard?days={HUGE}",
                 "/review?start=0001-01-01&end=9999-12-31", f"/review?page={HUGE}"):
        assert admin.get(path).status_code == 200, path
    assert admin.get("/staff/reports?page=abc").status_code == 400
    unannotate = admin.post("/review/unannotate", data={"csrf_token": token, "sender": "demo-rdv", "event_id": HUGE},
                            follow_redirects=False)
    assert unannotate.status_code == 303
    annotate = admin.post("/review/annotate", data={"csrf_token": token, "sender": "demo-rdv", "event_id": HUGE + "9"},
                          follow_redirects=False)
    assert annotate.status_code == 404
    closure = admin.post("/staff/facilities/piscine/closures",
                         data={"csrf_token": token, "start_day": "0001-01-01", "end_day": "", "label": "Essai"})
    assert closure.status_code == 400 and "date valide" in closure.text
    alert = admin.post("/staff/alerts", data={"csrf_token": token, "kind": "travaux", "title": "Essai",
                                              "starts_at": "0001-01-01T00:10", "ends_at": "9999-12-31T23:59"})
    assert alert.status_code == 400 and "Rien n'a été enregistré" in alert.text
    moved = admin.post("/staff/appointments/RDV-7K3F9Q/status",
                       data={"csrf_token": token, "status": "done", "day": "0001-01-01\r\nX: y"}, follow_redirects=False)
    assert moved.status_code in (303, 404)


# --- 4. server-side sessions --------------------------------------------------------------------


def _session_rows(app):
    with db.unit_of_work(app.state.database_url) as session:
        return list(session.execute(select(accounts.StaffSession)).scalars())


def test_cookie_carries_only_a_random_id_whose_hash_is_stored(app):
    client = client_for(app)
    response = login(client, "admin")
    cookie = _cookie(response)
    session_id = cookie.split(";")[0].split("=", 1)[1]
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower() and "max-age=28800" in cookie.lower()
    assert "secure" not in cookie.lower()
    [row] = _session_rows(app)
    assert row.token_hash == hashlib.sha256(session_id.encode()).hexdigest() != session_id
    assert row.expires_at - row.created_at == timedelta(hours=8)
    assert len(session_id) >= 40 and "." not in session_id  # not a signed payload


def test_logout_deletes_the_session_and_the_old_cookie_opens_nothing(app):
    client = client_for(app, "dominique")
    session_id = client.cookies.get("townhall_staff")
    assert client.get("/staff/appointments", follow_redirects=False).status_code == 200
    response = client.post("/logout", data={"csrf_token": token_of(client, "/staff/appointments")},
                           follow_redirects=False)
    assert response.status_code == 303 and "max-age=0" in _cookie(response).lower()
    assert _session_rows(app) == []
    replay = TestClient(app, headers={"Accept": "text/html"}, cookies={"townhall_staff": session_id})
    assert replay.get("/staff/appointments", follow_redirects=False).status_code == 303
    assert replay.get("/api/appointments/RDV-7K3F9Q", headers={"Accept": "application/json"}).status_code == 401


def test_a_new_login_replaces_a_planted_id(app):
    planted = "a" * 43
    client = TestClient(app, headers={"Accept": "text/html"}, cookies={"townhall_staff": planted})
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303
    assert planted not in _cookie(response)
    assert TestClient(app, cookies={"townhall_staff": planted}).get(
        "/users", headers={"Accept": "text/html"}, follow_redirects=False).status_code == 303


def test_disabled_user_and_password_change_end_their_sessions(app):
    agent, trainer = client_for(app, "dominique"), client_for(app, "camille")
    admin = client_for(app, "admin")
    with db.unit_of_work(app.state.database_url) as session:
        agent_id = accounts.find(session, "dominique").id
    admin.post(f"/users/{agent_id}/active", data={"csrf_token": token_of(admin, "/users"), "active": "0"})
    with db.unit_of_work(app.state.database_url) as session:
        left = {row.user_id for row in session.execute(select(accounts.StaffSession)).scalars()}
        assert agent_id not in left
        accounts.set_password(session, "camille", "un-tout-nouveau-mot-de-passe")
    assert agent.get("/staff/appointments", follow_redirects=False).status_code == 303
    assert trainer.get("/review/training", follow_redirects=False).status_code == 303
    assert admin.get("/users").status_code == 200  # other people stay logged in


def test_purge_and_expiry_of_sessions(db_url):
    with db.unit_of_work(db_url) as session:
        user = accounts.create_user(session, "lou", PASSWORD, "agent")
        old = accounts.start_session(session, user.id, now=utcnow() - timedelta(hours=9))
        live = accounts.start_session(session, user.id)
    with db.unit_of_work(db_url) as session:
        assert accounts.resume_session(session, old) is None
        assert accounts.resume_session(session, live)[1].username == "lou"
        assert accounts.resume_session(session, "x" * 500) is None
    with db.unit_of_work(db_url) as session:
        accounts.start_session(session, user.id, now=utcnow() - timedelta(hours=10))
        assert accounts.purge_expired_sessions(session) == 1
        assert accounts.purge_expired_sessions(session) == 0
        assert accounts.end_session(session, live) is True
        assert session.execute(select(accounts.StaffSession)).first() is None


@pytest.mark.parametrize("env", [{"BACKOFFICE_PUBLIC_URL": "https://mairie.example"},
                                 {"BACKOFFICE_COOKIE_SECURE": "1"}])
def test_cookie_is_secure_behind_https(db_url, tracker_url, project_root, monkeypatch, tmp_path, env):  # noqa: F811
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    application = _make_app(db_url, project_root, monkeypatch, tmp_path)
    response = TestClient(application, base_url="https://testserver").get("/login")
    assert "; secure" in _cookie(response).lower()


@pytest.mark.parametrize("logged_in", [False, True])
def test_public_pages_set_no_cookie(app, logged_in):
    client = client_for(app, "admin" if logged_in else None)
    for path in PUBLIC_GETS:
        response = client.get(path)
        assert response.status_code == 200, path
        assert "set-cookie" not in response.headers, path
    reference = TestClient(app).post("/open311/v2/requests.json", data=NEW).json()[0]["service_request_id"]
    one = client.get(f"/open311/v2/requests/{reference}.json")
    assert one.status_code == 200 and "set-cookie" not in one.headers


# --- login rate limit and proxies ---------------------------------------------------------------


def test_rotating_x_forwarded_for_does_not_bypass_the_rate_limit(app):
    client = TestClient(app, headers={"Accept": "text/html"}, client=("198.51.100.7", 40000))
    for i in range(accounts.MAX_FAILURES_PER_USER_AND_IP):
        client.headers["X-Forwarded-For"] = f"203.0.113.{i}"
        assert login(client, "admin", "mauvais-mot-de-passe").status_code == 401
    client.headers["X-Forwarded-For"] = "203.0.113.200"
    assert login(client, "admin", PASSWORD).status_code == 429


def test_trusted_proxy_forwards_the_client_and_the_per_username_limit(app, monkeypatch):
    monkeypatch.setenv("BACKOFFICE_TRUSTED_PROXIES", "198.51.100.0/24, 10.0.0.1")
    for i in range(accounts.MAX_FAILURES_PER_USER):
        client = TestClient(app, headers={"Accept": "text/html", "X-Forwarded-For": f"203.0.113.{i}, 10.0.0.1"},
                            client=("198.51.100.7", 40000))
        assert login(client, "camille", "mauvais-mot-de-passe").status_code == 401
    with db.unit_of_work(app.state.database_url) as session:
        ips = {a.ip for a in session.execute(select(accounts.LoginAttempt)).scalars()}
    assert ips == {f"203.0.113.{i}" for i in range(accounts.MAX_FAILURES_PER_USER)}
    fresh = TestClient(app, headers={"Accept": "text/html", "X-Forwarded-For": "192.0.2.99"},
                       client=("198.51.100.7", 40000))
    assert login(fresh, "camille").status_code == 429  # per username, whatever the address
    assert login(fresh, "admin").status_code == 303  # other accounts are unaffected


def _request(peer: str, forwarded: str | None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "client": (peer, 1234)})


@pytest.mark.parametrize("trusted, peer, forwarded, expected", [
    ("", "127.0.0.1", "1.2.3.4", "127.0.0.1"),
    ("10.0.0.0/8", "192.0.2.1", "1.2.3.4", "192.0.2.1"),
    ("10.0.0.0/8", "10.0.0.5", "6.6.6.6, 1.2.3.4", "1.2.3.4"),
    ("10.0.0.0/8", "10.0.0.5", "6.6.6.6, 1.2.3.4, 10.0.0.9", "1.2.3.4"),
    ("10.0.0.0/8", "10.0.0.5", "not-an-ip", "10.0.0.5"),
    ("10.0.0.0/8", "10.0.0.5", None, "10.0.0.5"),
    ("garbage, 10.0.0.5", "10.0.0.5", "2001:db8::1", "2001:db8::1"),
])
def test_client_ip(monkeypatch, trusted, peer, forwarded, expected):
    from backoffice import auth

    monkeypatch.setenv("BACKOFFICE_TRUSTED_PROXIES", trusted)
    assert auth.client_ip(_request(peer, forwarded)) == expected


# --- 7. no URL from the Host header -------------------------------------------------------------


def test_demo_page_uses_configured_urls_not_the_host_header(app, monkeypatch):
    client = TestClient(app)
    page = client.get("/demo", headers={"Host": "evil.example"}).text
    assert "evil.example" not in page
    assert 'src="http://localhost:8000/widget.js"' in page and 'data-server="http://localhost:5005"' in page
    monkeypatch.setenv("BACKOFFICE_PUBLIC_URL", "https://mairie.example/")
    monkeypatch.setenv("RASA_PUBLIC_URL", "https://assistant.mairie.example")
    page = client.get("/demo", headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"}).text
    assert "evil.example" not in page
    assert 'src="https://mairie.example/widget.js"' in page
    assert 'data-server="https://assistant.mairie.example"' in page
    monkeypatch.setenv("BACKOFFICE_PUBLIC_URL", 'javascript:alert(1)//"')
    assert 'src="http://localhost:8000/widget.js"' in client.get("/demo").text


def test_demo_page_escapes_the_commune_settings(app, monkeypatch):
    monkeypatch.setenv("COMMUNE_NAME", 'Ville "<b>test</b>"')
    monkeypatch.setenv("COMMUNE_PHONE", "+33240123499")
    page = TestClient(app).get("/demo?couleur=%23aabbcc&transport=rest").text
    assert "<b>test</b>" not in page and "Mairie de Ville &#34;&lt;b&gt;test&lt;/b&gt;&#34;" in page
    assert page.startswith("<!doctype html>") and "Téléphone : 02 40 12 34 99" in page
    tag = ('<script src="http://localhost:8000/widget.js" data-commune="Ville &#34;&lt;b&gt;test&lt;/b&gt;&#34;" '
           'data-color="#aabbcc" data-server="http://localhost:5005" data-transport="rest" defer></script>')
    assert page.count(tag) == 1  # the live tag, and the same tag shown as text in <code>
    assert "<code>&lt;script src=&#34;http://localhost:8000/widget.js&#34;" in page
    assert 'data-color="#1f5a96"' in TestClient(app).get("/demo?couleur=red").text


# --- Open311: no personal data in public answers ------------------------------------------------


def test_open311_masks_contacts_typed_in_the_description(app, monkeypatch):
    monkeypatch.setenv("BACKOFFICE_PUBLIC_URL", "https://mairie.example")
    client = TestClient(app)
    description = ("Trou énorme, rappelez-moi au 06 12 34 56 78 ou +33 7 11 22 33 44, "
                   "ou écrivez à jean.dupont@example.org. Signé Maxime Dupont.")
    created = client.post("/open311/v2/requests.json", data={**NEW, "description": description, "first_name": "Maxime",
                                                             "last_name": "Dupont", "email": "jd@example.org",
                                                             "phone": "0698765432"})
    assert created.status_code == 200, created.text
    reference = created.json()[0]["service_request_id"]
    texts = [client.get(f"/open311/v2/requests/{reference}.json", headers={"Host": "evil.example"}).text,
             client.get(f"/open311/v2/requests.json?service_request_id={reference}").text,
             client.get("/open311/v2/requests.json").text]
    for text in texts:
        for secret in ("12 34 56 78", "7 11 22 33 44", "jean.dupont", "example.org", "Dupont", "Maxime", "0698765432"):
            assert secret not in text, secret
        assert "evil.example" not in text
    [item] = client.get(f"/open311/v2/requests/{reference}.json").json()
    assert item["description"].startswith("Trou énorme, rappelez-moi au [masqué]")
    staff = client.get(f"/api/incidents/{reference}", headers={"Authorization": "Bearer staff-token-for-tests"})
    assert staff.json()["description"] == description  # staff see what the citizen wrote


def test_nul_bytes_and_odd_paths_are_refused_cleanly(app):
    admin = client_for(app, "admin")
    assert admin.get("/staff/facilities/%00").status_code == 400
    assert admin.get("/staff/appointments?reference=%00").status_code == 400
    anonymous = TestClient(app)
    assert anonymous.get("/widget/" + "x" * 3000).status_code == 404
    _assert_bad_request(anonymous.get("/open311/v2/requests.json?service_code=%00"), open311=True)
    assert anonymous.get("/rdv/RDV-7K3F9Q/%C3%A9t%C3%A9.ics").status_code == 404
    assert login(client_for(app), "\x00admin\x00", "\x00").status_code == 401
