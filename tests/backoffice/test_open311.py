"""Open311 GeoReport v2 on the back office, and the staff incident API."""
from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient

from backoffice.app import create_app
from townhall import db
from townhall.incidents import loader, reports
from townhall.incidents.models import CATEGORIES
from townhall.knowledge import loader as knowledge_loader


pytestmark = pytest.mark.usefixtures("clock")  # demo data relative to one frozen day, never today

KEY = "dev-open311-key"
STAFF = {"Authorization": "Bearer staff-token-for-tests"}
NEW = {"api_key": KEY, "service_code": "voirie", "description": "Nid-de-poule devant l'école.", "address_string": "3 rue Pasteur"}


@pytest.fixture
def client(db_url, monkeypatch):
    monkeypatch.delenv("OPEN311_API_KEYS", raising=False)
    monkeypatch.delenv("TOWNHALL_ENV", raising=False)
    monkeypatch.setenv("STAFF_API_TOKEN", "staff-token-for-tests")
    with db.unit_of_work(db_url) as session:
        knowledge_loader.load_demo(session, date.today())
        loader.load_demo(session, date.today())
    return TestClient(create_app(db_url))


def post(client, **fields):
    return client.post("/open311/v2/requests.json", data={**NEW, **fields})


def assert_error(response, code):
    assert response.status_code == code
    body = response.json()
    assert isinstance(body, list) and body[0]["code"] == code and body[0]["description"]


def test_services(client):
    response = client.get("/open311/v2/services.json")
    assert response.status_code == 200
    services = response.json()
    assert sorted(s["service_code"] for s in services) == sorted(CATEGORIES)
    for service in services:
        assert set(service) == {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
        assert service["type"] == "realtime" and service["metadata"] is False
    assert client.get("/open311/v2/services/voirie.json").json()["attributes"] == []
    assert_error(client.get("/open311/v2/services/pizza.json"), 404)


def test_post_form_encoded_then_get(client):
    response = post(client, email="camille@example.org", first_name="Camille", last_name="Secret", phone="0612345678")
    assert response.status_code == 200
    created = response.json()
    assert len(created) == 1 and set(created[0]) == {"service_request_id", "service_notice", "account_id"}
    reference = created[0]["service_request_id"]
    assert reference.startswith("SIG-")
    one = client.get(f"/open311/v2/requests/{reference}.json")
    assert one.status_code == 200
    [item] = one.json()
    assert item["service_request_id"] == reference and item["status"] == "open" and item["status_detail"] == "open"
    assert item["service_code"] == "voirie" and item["service_name"] == "Voirie et trottoirs"
    assert item["address"] == "3 rue Pasteur" and item["lat"] == pytest.approx(47.2228)
    assert item["requested_datetime"].endswith(("+01:00", "+02:00"))
    for field in ("status_notes", "agency_responsible", "service_notice", "updated_datetime", "expected_datetime",
                  "address_id", "zipcode", "long", "media_url"):
        assert field in item
    # the public API never exposes the reporter
    text = one.text + client.get("/open311/v2/requests.json").text
    assert "camille" not in text.lower() and "Secret" not in text and "612345678" not in text
    # lower case, no dash
    assert client.get(f"/open311/v2/requests/{reference.lower().replace('-', '')}.json").status_code == 200


def test_post_json_with_gps_position(client):
    response = client.post(
        "/open311/v2/requests.json",
        json={"api_key": KEY, "service_code": "eclairage", "description": "Lampadaire éteint.", "lat": 47.23, "long": -1.57},
    )
    assert response.status_code == 200
    reference = response.json()[0]["service_request_id"]
    [item] = client.get(f"/open311/v2/requests/{reference}.json").json()
    assert (item["lat"], item["long"]) == (47.23, -1.57) and item["address"] is None


@pytest.mark.parametrize("key", ["", "wrong", "dev-open311-key "])
def test_bad_api_key(client, key):
    if key.strip() == KEY:
        assert post(client, api_key=key).status_code == 200  # surrounding blanks are trimmed
        return
    assert_error(post(client, api_key=key), 403)


def test_api_keys_from_the_environment(client, monkeypatch):
    monkeypatch.setenv("OPEN311_API_KEYS", "key-one, key-two")
    assert_error(post(client), 403)  # the development key is off when keys are configured
    assert post(client, api_key="key-two").status_code == 200
    monkeypatch.delenv("OPEN311_API_KEYS")
    monkeypatch.setenv("TOWNHALL_ENV", "production")
    assert_error(post(client), 403)


@pytest.mark.parametrize(
    "fields",
    [
        {"service_code": ""},
        {"description": ""},
        {"description": "     "},
        {"address_string": ""},
        {"address_string": "", "lat": "47.22"},
        {"address_string": "221B Baker Street, London"},
        {"address_string": "", "lat": "48.85", "long": "2.35"},
        {"address_string": "", "lat": "abc", "long": "2.35"},
        {"email": "not-an-email"},
        {"media_url": "https://evil.example.com/x.php"},
        {"description": "x" * 4001},
    ],
)
def test_missing_or_invalid_fields(client, fields):
    before = len(client.get("/open311/v2/requests.json").json())
    assert_error(post(client, **fields), 400)
    assert len(client.get("/open311/v2/requests.json").json()) == before


def test_unknown_service_code(client):
    assert_error(post(client, service_code="pizza"), 400)
    assert_error(client.get("/open311/v2/requests.json?service_code=pizza"), 400)


def test_invalid_json_body(client):
    response = client.post("/open311/v2/requests.json", content=b"{oops", headers={"Content-Type": "application/json"})
    assert_error(response, 400)


def test_unknown_request(client):
    assert_error(client.get("/open311/v2/requests/SIG-ZZZZZZ.json"), 404)
    assert_error(client.get("/open311/v2/requests/nonsense.json"), 404)


def test_list_filters(client):
    created = [post(client, service_code=code).json()[0]["service_request_id"] for code in ("voirie", "graffiti", "voirie")]
    everything = client.get("/open311/v2/requests.json").json()
    assert {r["service_request_id"] for r in everything} >= set(created) | {"SIG-DEMVR2", "SIG-DEMGR4"}
    graffiti = client.get("/open311/v2/requests.json?service_code=graffiti").json()
    assert {r["service_code"] for r in graffiti} == {"graffiti"}
    two = client.get(f"/open311/v2/requests.json?service_request_id={created[0]},{created[1].lower()}").json()
    assert {r["service_request_id"] for r in two} == set(created[:2])
    assert client.get("/open311/v2/requests.json?status=closed").json() == []
    assert len(client.get("/open311/v2/requests.json?status=open").json()) == len(everything)
    assert {r["status_detail"] for r in client.get("/open311/v2/requests.json?status=in_progress").json()} == {"in_progress"}
    assert client.get("/open311/v2/requests.json?start_date=2000-01-01T00:00:00Z&end_date=2000-02-01T00:00:00Z").json() == []
    assert len(client.get("/open311/v2/requests.json?start_date=2000-01-01T00:00:00%2B01:00").json()) == len(everything)
    assert_error(client.get("/open311/v2/requests.json?start_date=yesterday"), 400)
    assert_error(client.get("/open311/v2/requests.json?start_date=2026-02-01&end_date=2026-01-01"), 400)
    assert_error(client.get("/open311/v2/requests.json?status=lost"), 400)


def test_pagination(client):
    for _ in range(4):
        post(client)
    everything = [r["service_request_id"] for r in client.get("/open311/v2/requests.json").json()]
    assert len(everything) == 7
    pages = [client.get(f"/open311/v2/requests.json?page={p}&page_size=3").json() for p in (1, 2, 3, 4)]
    assert [len(p) for p in pages] == [3, 3, 1, 0]
    assert [r["service_request_id"] for p in pages for r in p] == everything
    assert_error(client.get("/open311/v2/requests.json?page=0"), 400)
    assert_error(client.get("/open311/v2/requests.json?page_size=abc"), 400)
    assert len(client.get("/open311/v2/requests.json?page_size=5000").json()) == 7  # capped at 1000


def test_staff_api_shows_contact_and_history(client):
    reference = post(client, email="camille@example.org", phone="06 12 34 56 78").json()[0]["service_request_id"]
    assert client.get(f"/api/incidents/{reference}").status_code == 401
    assert client.get(f"/api/incidents/{reference}", headers={"Authorization": "Bearer wrong"}).status_code == 401
    view = client.get(f"/api/incidents/{reference}", headers=STAFF).json()
    assert view["reporter"]["email"] == "camille@example.org" and view["reporter"]["phone"] == "+33612345678"
    assert [h["to"] for h in view["history"]] == ["open"]
    assert client.get("/api/incidents/SIG-ZZZZZZ", headers=STAFF).status_code == 404


def test_staff_status_change_is_seen_by_open311(client):
    reference = post(client).json()[0]["service_request_id"]
    url = f"/api/incidents/{reference}/status"
    assert client.post(url, json={"status": "resolved", "note": "Rebouché."}).status_code == 401
    refused = client.post(url, json={"status": "rejected", "note": ""}, headers=STAFF)
    assert refused.status_code == 400 and "raison" in refused.json()["detail"]
    done = client.post(url, json={"status": "resolved", "note": "Trou rebouché ce matin."}, headers=STAFF)
    assert done.status_code == 200 and [h["to"] for h in done.json()["history"]] == ["open", "resolved"]
    [item] = client.get(f"/open311/v2/requests/{reference}.json").json()
    assert item["status"] == "closed" and item["status_detail"] == "resolved"
    assert item["status_notes"] == "Trou rebouché ce matin."
