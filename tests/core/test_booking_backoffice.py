"""The staff JSON route and the public calendar file."""
from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from townhall import db
from townhall.booking import appointments, availability, ics
from tests.core.booking_fixtures import load_settings


def test_staff_json_and_calendar(clock, sqlite_url, monkeypatch):  # books the first free time after "now"
    from backoffice.app import create_app

    monkeypatch.setenv("STAFF_API_TOKEN", "secret-token")
    with db.unit_of_work(sqlite_url) as session:
        load_settings(session)
        day = availability.next_free_days(session, "passeport")[0]
        booked = appointments.book(session, procedure="passeport", start=availability.free_slots(session, "passeport", day)[0],
                                   name="Camille", email="camille@example.org", channel="rest")
        reference, path = booked.reference, ics.calendar_path(booked)
    client = TestClient(create_app(sqlite_url))
    assert client.get(f"/api/appointments/{reference}").status_code == 401
    auth = {"Authorization": "Bearer secret-token"}
    body = client.get(f"/api/appointments/{reference.lower()}", headers=auth).json()
    assert body["reference"] == reference and body["procedure"] == "passeport" and body["status"] == "booked"
    assert client.get("/api/appointments/RDV-ZZZZZZ", headers=auth).status_code == 404
    response = client.get(path)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
    assert reference in response.text
    assert client.get(f"/rdv/{reference}/guess.ics").status_code == 404
