"""Staff pages of opening hours, exceptional closures and alerts: roles, CSRF, forms, immediate effect."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from actions import info
from tests.backoffice.test_review_fixtures import (USERS, app, client_for, project_root, token_of,  # noqa: F401
                                                   tracker_template, tracker_url)
from tests.trackers import entity, run, said, tracker
from townhall import accounts, config, db
from townhall.knowledge import alerts, hours, loader
from townhall.knowledge.models import Alert, Closure, Facility


pytestmark = pytest.mark.usefixtures("clock")  # demo data relative to one frozen day, never today

POOL_RULE = "Mo,Tu,Th,Fr 12:00-13:45,17:00-20:00; We 10:00-19:00; Sa 10:00-18:00; Su 09:00-13:00; PH off"
EARLY = datetime(2030, 6, 4, 6, 30, tzinfo=config.TIMEZONE)  # a Tuesday, not a public holiday


def _today():
    return datetime.now(config.TIMEZONE).date()


def _load(url: str) -> None:
    with db.unit_of_work(url) as session:
        loader.load_demo(session, _today())


@pytest.fixture
def demo_app(app):
    _load(app.state.database_url)
    return app


@pytest.fixture
def any_app(db_url, tracker_url, project_root, monkeypatch):  # noqa: F811
    """The back office on SQLite and on PostgreSQL, with the demo data."""
    from backoffice import app as app_module

    monkeypatch.setenv("BACKOFFICE_SECRET_KEY", "test-secret-key-0123456789")
    application = app_module.create_app(db_url)
    application.state.project_root = project_root
    with db.unit_of_work(db_url) as session:
        for username, role in USERS.items():
            accounts.create_user(session, username, "un-mot-de-passe-solide", role)
    _load(db_url)
    return application


def _rule(app, code: str = "piscine") -> str:
    with db.unit_of_work(app.state.database_url) as session:
        return session.get(Facility, code).opening_hours


def _closures(app, code: str = "piscine") -> list[tuple]:
    with db.unit_of_work(app.state.database_url) as session:
        rows = session.execute(select(Closure).where(Closure.facility_code == code).order_by(Closure.id)).scalars()
        return [(c.start_day, c.end_day, c.label) for c in rows]


def _alert_titles(app) -> list[str]:
    with db.unit_of_work(app.state.database_url) as session:
        return [a.title for a in session.execute(select(Alert).order_by(Alert.id)).scalars()]


# --- access -------------------------------------------------------------------------------

PAGES = ["/staff/facilities", "/staff/facilities/piscine", "/staff/alerts"]
POSTS = {
    "/staff/facilities/piscine/hours": {"rule": "24/7"},
    "/staff/facilities/piscine/closures": {"start_day": "2030-06-04", "label": "x"},
    "/staff/alerts": {"kind": "travaux", "title": "x", "starts_at": "2030-06-04T08:00", "ends_at": "2030-06-05T08:00"},
}


def test_anonymous_and_trainer_are_refused(demo_app):
    anonymous = client_for(demo_app)
    for path in PAGES:
        response = anonymous.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    for path, data in POSTS.items():
        assert anonymous.post(path, data=data).status_code in (401, 403)
    trainer = client_for(demo_app, "camille")
    for path in PAGES:
        response = trainer.get(path)
        assert response.status_code == 403 and "Votre rôle ne donne pas accès à cette page." in response.text
    token = token_of(trainer, "/review")
    for path, data in POSTS.items():
        assert trainer.post(path, data={**data, "csrf_token": token}).status_code == 403
    assert _rule(demo_app) == POOL_RULE
    assert len(_closures(demo_app)) == 1
    assert "x" not in _alert_titles(demo_app)
    assert "/staff/facilities" not in trainer.get("/review").text
    agent = client_for(demo_app, "dominique")
    assert 'href="/staff/facilities"' in agent.get("/staff/appointments").text
    assert client_for(demo_app, "admin").get("/staff/alerts").status_code == 200


def test_csrf_is_required_on_every_form(demo_app):
    client = client_for(demo_app, "dominique")
    with db.unit_of_work(demo_app.state.database_url) as session:
        closure_id = hours.upcoming_closures(session, "piscine", _today(), 365)[0].id
        alert_id = alerts.active(session, datetime.now(config.TIMEZONE), 365)[0].id
    posts = {**POSTS, f"/staff/facilities/piscine/closures/{closure_id}/remove": {},
             f"/staff/alerts/{alert_id}/end": {}}
    for path, data in posts.items():
        missing = client.post(path, data=data)
        assert missing.status_code == 403 and "Jeton de sécurité manquant" in missing.text
        assert client.post(path, data={**data, "csrf_token": "faux"}).status_code == 403
    assert _rule(demo_app) == POOL_RULE
    assert len(_closures(demo_app)) == 1
    with db.unit_of_work(demo_app.state.database_url) as session:
        assert session.get(Alert, alert_id).ends_at > datetime.now(config.TIMEZONE)


# --- facilities ---------------------------------------------------------------------------


def test_list_shows_state_rule_and_next_closures(demo_app):
    page = client_for(demo_app, "dominique").get("/staff/facilities").text
    assert "Piscine municipale Les Ondines" in page and 'href="/staff/facilities/piscine"' in page
    assert "Mo,Tu,Th,Fr 12:00-13:45,17:00-20:00" in page
    assert page.count("<td>Ouvert") + page.count("<td>Fermé") == 8  # every facility has its current state
    assert "fermeture pour l&#39;inventaire annuel" in page  # the médiathèque, in 3 days
    assert "vidange technique des bassins" in page  # the pool, in 16 days


def test_detail_shows_the_week_and_closures(demo_app):
    client = client_for(demo_app, "dominique")
    page = client.get("/staff/facilities/mediatheque").text
    assert page.count("<tr class=") == 7
    assert "Fermé : fermeture pour l&#39;inventaire annuel" in page
    assert "Aucune fermeture exceptionnelle prévue." not in page
    assert 'name="rule"' in page and '<label for="rule">' in page and '<label for="label">' in page
    assert client.get("/staff/facilities/nulle-part").status_code == 404
    assert "Cet équipement est introuvable." in client.get("/staff/facilities/nulle-part").text


@pytest.mark.parametrize("typed, message", [
    ("lundi de 9 h à midi", "ne sont pas au format OpenStreetMap"),
    ("   ", "Les horaires sont vides."),
    ("Mo-Fr 09:00-12:00; " * 600, "trop longs"),
    ("<script>alert(1)</script>", "ne sont pas au format OpenStreetMap"),
    ("🙂🙂", "ne sont pas au format OpenStreetMap"),
])
def test_invalid_hours_are_refused_and_the_typed_value_kept(demo_app, typed, message):
    client = client_for(demo_app, "dominique")
    token = token_of(client, "/staff/facilities/piscine")
    response = client.post("/staff/facilities/piscine/hours", data={"csrf_token": token, "rule": typed, "note": ""})
    assert response.status_code == 400
    assert message in response.text and "Rien n'a été enregistré." in response.text
    assert 'aria-invalid="true"' in response.text
    if typed.strip() and len(typed) < 1000:
        assert f">{typed}</textarea>" in response.text.replace("&lt;", "<").replace("&gt;", ">")
    assert "<script>alert(1)" not in response.text
    assert _rule(demo_app) == POOL_RULE


def test_unknown_facility_cannot_be_changed(demo_app):
    client = client_for(demo_app, "dominique")
    token = token_of(client, "/staff/facilities")
    assert client.post("/staff/facilities/nulle-part/hours", data={"csrf_token": token, "rule": "24/7"}).status_code == 404
    assert client.post("/staff/facilities/nulle-part/closures",
                       data={"csrf_token": token, "start_day": "2030-06-04", "label": "x"}).status_code == 404


def test_new_hours_take_effect_immediately_for_the_assistant(any_app, monkeypatch):
    with db.unit_of_work(any_app.state.database_url) as session:
        assert not hours.status_at(session, "piscine", EARLY).is_open
    client = client_for(any_app, "dominique")
    token = token_of(client, "/staff/facilities/piscine")
    response = client.post("/staff/facilities/piscine/hours",
                           data={"csrf_token": token, "rule": " Mo-Su 06:00-07:00; PH off ", "note": "Horaires d'été"})
    assert response.status_code == 200 and str(response.url).endswith("/staff/facilities/piscine")
    assert "Les nouveaux horaires de l&#39;équipement « Piscine municipale Les Ondines » sont enregistrés." in response.text
    assert ">Mo-Su 06:00-07:00; PH off</textarea>" in response.text
    with db.unit_of_work(any_app.state.database_url) as session:
        status = hours.status_at(session, "piscine", EARLY)
        assert status.is_open and status.closes_at == EARLY.replace(hour=7, minute=0)
        facility = session.get(Facility, "piscine")
        assert facility.staff_edited and facility.hours_note == "Horaires d'été"
    monkeypatch.setattr(info, "current_time", lambda: EARLY)
    t = tracker("la piscine est ouverte ?", "ask_opening_hours", [entity("facility", "piscine")])
    _, dispatcher = asyncio.run(run(info.ActionAnswerOpeningHours(), t))
    assert said(dispatcher)[0] == "La piscine est ouverte en ce moment, jusqu'à 7 h."


def test_closure_added_then_removed_with_immediate_effect(any_app):
    client = client_for(any_app, "dominique")
    token = token_of(client, "/staff/facilities/piscine")
    day = _today() + timedelta(days=2)
    response = client.post("/staff/facilities/piscine/closures",
                           data={"csrf_token": token, "start_day": day.isoformat(), "end_day": "",
                                 "label": "<script>alert('x')</script> panne de chauffage"})
    assert response.status_code == 200 and "est enregistrée" in response.text
    assert "<script>alert" not in response.text and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; panne" in response.text
    noon = datetime.combine(day, datetime.min.time(), tzinfo=config.TIMEZONE).replace(hour=12, minute=30)
    with db.unit_of_work(any_app.state.database_url) as session:
        status = hours.status_at(session, "piscine", noon)
        assert not status.is_open and status.reason.endswith("panne de chauffage")
        closure_id = next(c.id for c in hours.upcoming_closures(session, "piscine", _today()) if c.start_day == day)
    # Another facility's page cannot remove it.
    assert client.post(f"/staff/facilities/mairie/closures/{closure_id}/remove",
                       data={"csrf_token": token}).status_code == 404
    removed = client.post(f"/staff/facilities/piscine/closures/{closure_id}/remove", data={"csrf_token": token})
    assert "est supprimée" in removed.text and "panne de chauffage" not in removed.text
    with db.unit_of_work(any_app.state.database_url) as session:
        assert hours.status_at(session, "piscine", noon).reason is None
    assert client.post(f"/staff/facilities/piscine/closures/{closure_id}/remove",
                       data={"csrf_token": token}).status_code == 404
    assert len(_closures(any_app)) == 1  # the demo's own closure is untouched


@pytest.mark.parametrize("start, end, label, message", [
    ("+5", "+3", "travaux", "La date de fin précède la date de début."),
    ("+3", "", "   ", "Indiquez le motif de la fermeture"),
    ("", "", "travaux", "Indiquez le premier jour de fermeture"),
    ("demain", "", "travaux", "Indiquez le premier jour de fermeture"),
    ("+3", "31/02/2030", "travaux", "La date de fin n&#39;est pas une date valide."),
    ("-5", "-2", "travaux", "Cette fermeture est déjà passée."),
    ("+1", "+900", "travaux", "ne peut pas dépasser un an"),
    ("+3", "", "x" * 10000, "Le motif est trop long"),
])
def test_invalid_closures_are_refused_and_the_typed_values_kept(demo_app, start, end, label, message):
    def day(text):
        if text.startswith(("+", "-")):
            return (_today() + timedelta(days=int(text))).isoformat()
        return text

    client = client_for(demo_app, "dominique")
    token = token_of(client, "/staff/facilities/piscine")
    before = _closures(demo_app)
    response = client.post("/staff/facilities/piscine/closures",
                           data={"csrf_token": token, "start_day": day(start), "end_day": day(end), "label": label})
    assert response.status_code == 400 and message in response.text
    assert "Rien n'a été enregistré." in response.text
    if start.startswith("+"):
        assert f'value="{day(start)}"' in response.text
    assert _closures(demo_app) == before
    assert _rule(demo_app) == POOL_RULE


# --- alerts -------------------------------------------------------------------------------


def _alert_form(token: str, **changes) -> dict:
    start = datetime.now(config.TIMEZONE) - timedelta(hours=1)
    form = {"csrf_token": token, "kind": "travaux", "title": "Réfection du trottoir rue Pasteur",
            "description": "Passage piéton déplacé.", "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"), "street": "rue Pasteur", "facility": ""}
    form.update(changes)
    return form


def test_alert_published_listed_and_ended(any_app):
    client = client_for(any_app, "dominique")
    page = client.get("/staff/alerts").text
    assert "Réfection de la chaussée rue Victor Hugo" in page and '<option value="rue Pasteur"' in page
    assert '<label for="street">' in page and '<option value="piscine"' in page
    token = token_of(client, "/staff/alerts")
    response = client.post("/staff/alerts", data=_alert_form(token, title="<script>alert(1)</script> Trottoir",
                                                             facility="piscine"))
    assert response.status_code == 200 and "L&#39;alerte est publiée." in response.text
    assert "<script>alert(1)" not in response.text and "&lt;script&gt;alert(1)&lt;/script&gt; Trottoir" in response.text
    now = datetime.now(config.TIMEZONE)
    with db.unit_of_work(any_app.state.database_url) as session:
        found = [a for a in alerts.touching(session, now, street_name="rue Pasteur") if a.title.endswith("Trottoir")]
        assert len(found) == 1 and found[0].facility_code == "piscine" and found[0].staff_edited
        alert_id = found[0].id
    ended = client.post(f"/staff/alerts/{alert_id}/end", data={"csrf_token": token})
    assert "L&#39;alerte est terminée" in ended.text and "Trottoir" not in ended.text
    with db.unit_of_work(any_app.state.database_url) as session:
        assert all(a.id != alert_id for a in alerts.active(session, datetime.now(config.TIMEZONE), 365))
    again = client.post(f"/staff/alerts/{alert_id}/end", data={"csrf_token": token})
    assert "Cette alerte est déjà terminée." in again.text
    assert client.post("/staff/alerts/999999/end", data={"csrf_token": token}).status_code == 404


def test_upcoming_alert_is_withdrawn(demo_app):
    client = client_for(demo_app, "dominique")
    token = token_of(client, "/staff/alerts")
    start = datetime.now(config.TIMEZONE) + timedelta(days=2)
    response = client.post("/staff/alerts", data=_alert_form(
        token, kind="coupure_eau", title="Coupure d'eau avenue Jean Jaurès", street="",
        starts_at=start.strftime("%Y-%m-%dT%H:%M"), ends_at=(start + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M")))
    assert "L&#39;assistant l&#39;annoncera à partir du" in response.text and "à venir" in response.text
    with db.unit_of_work(demo_app.state.database_url) as session:
        alert = next(a for a in alerts.active(session, datetime.now(config.TIMEZONE), 30) if a.title.startswith("Coupure d'eau avenue"))
        assert alert.street_name is None and alert.kind == "coupure_eau"
    withdrawn = client.post(f"/staff/alerts/{alert.id}/end", data={"csrf_token": token})
    assert "L&#39;alerte à venir est retirée" in withdrawn.text
    assert "Coupure d'eau avenue Jean Jaurès" not in _alert_titles(demo_app)


@pytest.mark.parametrize("changes, message", [
    ({"kind": "inondation"}, "Choisissez le type d&#39;alerte dans la liste."),
    ({"title": "  "}, "Indiquez un titre"),
    ({"title": "x" * 10000}, "Le titre est trop long"),
    ({"description": "🙂" * 3000}, "Le détail est trop long"),
    ({"starts_at": ""}, "Indiquez la date et l&#39;heure de début"),
    ({"ends_at": "n'importe quoi"}, "Indiquez la date et l&#39;heure de fin"),
    ({"ends_at": "2020-01-01T08:00"}, "La fin de l&#39;alerte doit suivre son début."),
    ({"starts_at": "2020-01-01T08:00", "ends_at": "2020-01-02T08:00"}, "Cette période est déjà passée."),
    ({"street": "rue de Rivoli"}, "Choisissez la rue dans la liste"),
    ({"facility": "' OR 1=1 --"}, "Choisissez l&#39;équipement dans la liste"),
])
def test_invalid_alerts_are_refused_and_the_typed_values_kept(demo_app, changes, message):
    client = client_for(demo_app, "dominique")
    token = token_of(client, "/staff/alerts")
    before = _alert_titles(demo_app)
    response = client.post("/staff/alerts", data=_alert_form(token, **changes))
    assert response.status_code == 400 and message in response.text
    assert "Rien n'a été enregistré." in response.text
    if "title" not in changes:
        assert 'value="Réfection du trottoir rue Pasteur"' in response.text
    assert _alert_titles(demo_app) == before
