"""Staff pages: the day's appointments, incident reports, handoff requests, feedback."""
from __future__ import annotations

from datetime import timedelta

import pytest
from townhall import config, db, feedback, handoff
from tests.backoffice.test_review_fixtures import (app, client_for, project_root, token_of,  # noqa: F401
                                                   tracker_template, tracker_url)


pytestmark = pytest.mark.usefixtures("clock")  # demo data relative to one frozen day, never today


def _book(app):
    from townhall.booking import appointments, availability, loader

    with db.unit_of_work(app.state.database_url) as session:
        loader.load_demo(session, with_appointments=False)
        session.flush()
        from datetime import datetime

        today = datetime.now(config.TIMEZONE).date()
        day = availability.next_free_days(session, "passeport", today + timedelta(days=2), 1, limit=1)[0]
        start = availability.free_slots(session, "passeport", day, 1)[0]
        booked = appointments.book(session, procedure="passeport", start=start, party_size=1, name="Camille Martin",
                                   email="camille@example.org", phone="+33612345678", channel="rest")
        return booked.reference, day


def test_day_of_appointments_and_cancel_with_reason(app):
    reference, day = _book(app)
    client = client_for(app, "dominique")
    page = client.get(f"/staff/appointments?day={day.isoformat()}").text
    assert reference in page and "Camille Martin" in page and "camille@example.org" in page
    token = token_of(client, "/staff/appointments")
    refused = client.post(f"/staff/appointments/{reference}/cancel", data={"csrf_token": token, "reason": " ",
                                                                            "day": day.isoformat()})
    assert "Indiquez la raison" in refused.text
    done = client.post(f"/staff/appointments/{reference}/cancel",
                       data={"csrf_token": token, "reason": "Fermeture exceptionnelle", "day": day.isoformat()})
    assert f"Le rendez-vous {reference} est annulé." in done.text
    assert "annulé par la mairie (Fermeture exceptionnelle)" in done.text
    again = client.post(f"/staff/appointments/{reference}/cancel",
                        data={"csrf_token": token, "reason": "encore", "day": day.isoformat()})
    assert "ne peut plus être annulé" in again.text
    assert client.post("/staff/appointments/RDV-ZZZZZZ/cancel",
                       data={"csrf_token": token, "reason": "x"}).status_code == 404
    found = client.get(f"/staff/appointments?reference={reference.lower()}").text
    assert 'class="highlight"' in found
    assert "Aucun rendez-vous ne porte" in client.get("/staff/appointments?reference=RDV-ZZZZZZ").text
    assert client.get("/staff/appointments?day=n-importe-quoi").status_code == 200


def test_reports_list_and_status_change_with_note(app):
    from townhall.incidents import reports

    with db.unit_of_work(app.state.database_url) as session:
        from townhall.knowledge.streets import COMMUNE_BBOX

        lat, lon = (COMMUNE_BBOX[0] + COMMUNE_BBOX[2]) / 2, (COMMUNE_BBOX[1] + COMMUNE_BBOX[3]) / 2
        report = reports.create(session, category="eclairage", description="Lampadaire éteint <b>depuis</b> lundi",
                                latitude=lat, longitude=lon, channel="rest")
        reference = report.reference
    client = client_for(app, "dominique")
    listing = client.get("/staff/reports?status=open").text
    assert reference in listing and "<b>depuis" not in listing and "&lt;b&gt;depuis" in listing
    assert "Éclairage public" in listing and "Éclairage public" in client.get(f"/staff/reports/{reference}").text
    assert reference not in client.get("/staff/reports?status=resolved").text
    token = token_of(client, "/staff/reports")
    page = client.post(f"/staff/reports/{reference}/status",
                       data={"csrf_token": token, "status": "in_progress", "note": "Intervention jeudi"}).text
    assert f"Le signalement {reference} est mis à jour." in page and "Intervention jeudi" in page
    refused = client.post(f"/staff/reports/{reference}/status",
                          data={"csrf_token": token, "status": "rejected", "note": ""}).text
    assert "Indiquez la raison du refus" in refused
    with db.unit_of_work(app.state.database_url) as session:
        stored = reports.find(session, reference)
        assert stored.status == "in_progress" and stored.history[-1].by == "dominique"
    assert client.get("/staff/reports/SIG-ZZZZZZ").status_code == 404


def test_handoffs_marked_handled(app):
    with db.unit_of_work(app.state.database_url) as session:
        request = handoff.request(session, channel="rest", sender_id="demo-confus", service="mairie",
                                  topic="booking", last_message="je veux parler à quelqu'un")
        handoff_id = request.id
    client = client_for(app, "dominique")
    page = client.get("/staff/handoffs").text
    assert "je veux parler à quelqu&#39;un" in page and "/review/conversation?sender=demo-confus" in page
    done = client.post(f"/staff/handoffs/{handoff_id}/handled", data={"csrf_token": token_of(client, "/staff/handoffs")})
    assert "Aucune demande en attente." in done.text
    with db.unit_of_work(app.state.database_url) as session:
        assert handoff.pending(session) == []
    assert client.post("/staff/handoffs/9999/handled",
                       data={"csrf_token": token_of(client, "/staff/handoffs")}).status_code == 404


def test_feedback_page(app):
    with db.unit_of_work(app.state.database_url) as session:
        feedback.record(session, "Votre accueil téléphonique est <i>catastrophique</i>", "facebook", "x")
    page = client_for(app, "dominique").get("/staff/feedback").text
    assert "accueil téléphonique" in page and "<i>catastrophique" not in page
