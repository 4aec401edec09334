"""Incident actions on real trackers and a real database (SQLite and PostgreSQL)."""
from __future__ import annotations

import io
from datetime import date

import pytest
from PIL import Image

from actions import incidents as actions
from tests.trackers import entity, run, said, tracker
from townhall import db
from townhall.incidents import loader, photos, reports
from townhall.knowledge import loader as knowledge_loader
from townhall.wording import errors


pytestmark = pytest.mark.usefixtures("clock")  # demo data relative to one frozen day, never today

FILLED = {
    "incident_category": "voirie",
    "incident_location": "12 rue Pasteur",
    "incident_latitude": 47.2228,
    "incident_longitude": -1.5764,
    "incident_description": "Nid-de-poule profond.",
    "incident_photo": "aucune",
    "citizen_email": "anonyme",
}


@pytest.fixture
def demo(db_url):
    with db.unit_of_work(db_url) as session:
        knowledge_loader.load_demo(session, date.today())
        loader.load_demo(session, date.today())
    return db_url


def slots_of(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def form_tracker(text, requested, slots=None, candidate=None, form="incident_form", **kwargs):
    """A tracker as the form sends it: the slot candidate set (by Rasa) after the user's message."""
    value = text if candidate is None else candidate
    t = tracker(text, slots={**(slots or {}), requested: value}, active_loop=form, requested_slot=requested, **kwargs)
    t.events.append({"event": "slot", "name": requested, "value": value, "timestamp": 2.0})
    return t


async def validate(text, requested, slots=None, **kwargs):
    events, dispatcher = await run(actions.ValidateIncidentForm(), form_tracker(text, requested, slots, **kwargs))
    return slots_of(events), said(dispatcher)


# --- the form -----------------------------------------------------------------------------


async def test_category_from_a_button_payload(demo):
    slots, _ = await validate('/inform{"incident_category":"eclairage"}', "incident_category", intent="inform",
                              entities=[entity("incident_category", "eclairage")])
    assert slots["incident_category"] == "eclairage"


async def test_category_from_free_text(demo):
    slots, _ = await validate("c'est un lampadaire qui clignote", "incident_category")
    assert slots["incident_category"] == "eclairage"


async def test_category_not_understood_is_asked_again_then_explained(demo):
    slots, messages = await validate("euh je sais pas", "incident_category")
    assert slots["incident_category"] is None and "utter_incident_category_not_understood" in messages
    slots, messages = await validate("toujours pas", "incident_category", slots={"form_failures": {"incident_category": 1}})
    assert "utter_explain_incident_category" in messages and "utter_offer_stop_form" in messages


async def test_location_street_of_the_commune(demo):
    slots, _ = await validate("au 12 rue pasteur", "incident_location")
    assert slots["incident_location"] == "12 rue Pasteur"
    assert slots["incident_latitude"] == pytest.approx(47.2228)


async def test_location_outside_the_commune_is_refused(demo):
    slots, messages = await validate("10 Downing Street, London", "incident_location",
                                     slots={"incident_category": "voirie"})
    assert slots["incident_location"] is None and "commune" in messages[0]
    assert "incident_category" not in slots  # nothing already given is lost


async def test_location_shared_gps_position(demo):
    text = '/inform{"incident_latitude": 47.23, "incident_longitude": -1.57}'
    slots, _ = await validate(text, "incident_location", intent="inform",
                              entities=[{"entity": "incident_latitude", "value": 47.23}, {"entity": "incident_longitude", "value": -1.57}])
    assert (slots["incident_latitude"], slots["incident_longitude"]) == (47.23, -1.57)
    assert slots["incident_location"].startswith("position GPS")


async def test_location_gps_outside_the_commune(demo):
    text = '/inform{"incident_latitude": 48.85, "incident_longitude": 2.35}'
    slots, messages = await validate(text, "incident_location", intent="inform",
                                     entities=[{"entity": "incident_latitude", "value": 48.85}, {"entity": "incident_longitude", "value": 2.35}])
    assert slots["incident_location"] is None and "en dehors de la commune" in messages[0]


@pytest.mark.parametrize("text", ["     ", "x" * 10_000, "🕳️🕳️"])
async def test_bad_descriptions(demo, text):
    slots, messages = await validate(text, "incident_description")
    assert slots["incident_description"] is None and messages


async def test_description_with_html_is_kept_as_typed(demo):
    slots, _ = await validate("<b>trou</b> énorme'; --", "incident_description")
    assert slots["incident_description"] == "<b>trou</b> énorme'; --"


async def test_no_photo(demo):
    events, _ = await run(actions.ValidateIncidentForm(),
                          tracker("pas de photo", intent="deny", active_loop="incident_form", requested_slot="incident_photo"))
    assert slots_of(events)["incident_photo"] == "aucune"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    return buffer.getvalue()


async def test_uploaded_photo(demo, tmp_path, monkeypatch):
    monkeypatch.setenv("TOWNHALL_UPLOADS_DIR", str(tmp_path))
    path = photos.store(_png())
    text = '/inform{"incident_photo": "%s"}' % path
    events, _ = await run(actions.ValidateIncidentForm(), tracker(text, intent="inform", entities=[entity("incident_photo", path)],
                                                                  active_loop="incident_form", requested_slot="incident_photo"))
    assert slots_of(events)["incident_photo"] == path


@pytest.mark.parametrize(
    "value, reason",
    [
        ("https://evil.example.com/a.jpg", "site"),
        ("/uploads/incidents/" + "a" * 32 + ".jpg", "retrouve"),
        ("c'est une belle photo", "photo"),
    ],
)
async def test_bad_photos(demo, value, reason, tmp_path, monkeypatch):
    monkeypatch.setenv("TOWNHALL_UPLOADS_DIR", str(tmp_path))
    events, dispatcher = await run(actions.ValidateIncidentForm(), tracker(
        value, intent="inform", entities=[entity("incident_photo", value)], active_loop="incident_form",
        requested_slot="incident_photo"))
    assert slots_of(events)["incident_photo"] is None and reason in said(dispatcher)[0]


def test_photo_files_are_checked_by_content(tmp_path, monkeypatch):
    monkeypatch.setenv("TOWNHALL_UPLOADS_DIR", str(tmp_path))
    for data, reason in [
        (b"%PDF-1.4 not an image", "pas une photo"),
        (b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "illisible"),
        (b"\xff\xd8\xff" + b"0" * (5 * 1024 * 1024), "5 Mo"),
    ]:
        with pytest.raises(reports.ReportError) as caught:
            photos.store(data)
        assert reason in errors.report_text(caught.value)
    stored = photos.store(_png())
    assert stored.startswith("/uploads/incidents/") and stored.endswith(".png")
    assert list(tmp_path.glob("incidents/*.png"))


async def test_anonymous_or_email(demo):
    events, _ = await run(actions.ValidateIncidentForm(),
                          tracker("non, anonyme", intent="deny", active_loop="incident_form", requested_slot="citizen_email"))
    assert slots_of(events)["citizen_email"] == "anonyme"
    events, _ = await run(actions.ValidateIncidentForm(), form_tracker(
        "camille@example.org", "citizen_email", intent="inform", entities=[entity("email", "camille@example.org")]))
    assert slots_of(events)["citizen_email"] == "camille@example.org"
    events, dispatcher = await run(actions.ValidateIncidentForm(), form_tracker("camille@", "citizen_email"))
    assert slots_of(events)["citizen_email"] is None and said(dispatcher)


@pytest.mark.parametrize("text, number", [("ça sent le gaz dans la rue", "112"), ("un câble électrique est tombé", "18"),
                                          ("ma maison est inondée", "18"), ("il y a un blessé", "15")])
async def test_emergency_ends_the_form_and_files_nothing(demo, text, number):
    events, dispatcher = await run(actions.ValidateIncidentForm(),
                                   tracker(text, intent="report_incident", active_loop="incident_form"))
    assert number in said(dispatcher)[0]
    assert slots_of(events)["requested_slot"] is None and slots_of(events)["incident_emergency"]
    events, dispatcher = await run(actions.ActionIncidentRecap(), tracker(slots={"incident_emergency": "gas"}))
    assert said(dispatcher) == [] and slots_of(events)["incident_emergency"] is None
    with db.unit_of_work(demo) as session:
        assert len(reports.search(session)) == 3  # the demo reports only


async def test_ask_category_with_buttons():
    _, dispatcher = await run(actions.ActionAskIncidentCategory(), tracker())
    buttons = dispatcher.messages[0]["buttons"]
    assert len(buttons) == 9 and buttons[0]["payload"] == '/inform{"incident_category":"voirie"}'


# --- after the form -------------------------------------------------------------------------


async def test_recap_then_submit_anonymous(demo):
    events, dispatcher = await run(actions.ActionIncidentRecap(), tracker(slots=FILLED))
    assert slots_of(events)["incident_pending"] == "confirm"
    assert "12 rue Pasteur" in said(dispatcher)[0] and "anonyme" in said(dispatcher)[0]
    events, dispatcher = await run(actions.ActionSubmitIncident(), tracker("oui", intent="affirm", slots=FILLED))
    reference = slots_of(events)["reference"]
    assert reference in said(dispatcher)[0] and "utter_incident_filed_anonymous" in said(dispatcher)
    assert slots_of(events)["citizen_email"] is None and slots_of(events)["incident_category"] is None
    with db.unit_of_work(demo) as session:
        report = reports.find(session, reference)
        assert report.reporter_email is None and report.channel == "rest" and report.address == "12 rue Pasteur"


async def test_submit_with_email(demo):
    events, dispatcher = await run(actions.ActionSubmitIncident(),
                                   tracker(slots={**FILLED, "citizen_email": "camille@example.org"}))
    assert "utter_incident_filed_with_email" in said(dispatcher)
    with db.unit_of_work(demo) as session:
        assert reports.find(session, slots_of(events)["reference"]).reporter_email == "camille@example.org"


async def test_cancel_files_nothing(demo):
    events, dispatcher = await run(actions.ActionCancelIncident(), tracker("non", intent="deny", slots=FILLED))
    assert said(dispatcher) == ["utter_incident_cancelled"] and slots_of(events)["incident_description"] is None


async def test_nearby_open_report_is_offered_then_joined(demo):
    with db.unit_of_work(demo) as session:
        original = reports.find(session, "SIG-DEMVR2")
        here = {**FILLED, "incident_latitude": original.latitude + 0.0002, "incident_longitude": original.longitude}
    events, dispatcher = await run(actions.ActionIncidentRecap(), tracker(slots=here))
    assert slots_of(events) == {"incident_pending": "join", "incident_duplicate_of": "SIG-DEMVR2"}
    assert "SIG-DEMVR2" in said(dispatcher)[0] and " 22 m" in said(dispatcher)[0]
    joined = {**here, "incident_pending": "join", "incident_duplicate_of": "SIG-DEMVR2"}
    events, dispatcher = await run(actions.ActionJoinIncident(), tracker("oui", intent="affirm", slots=joined))
    assert "SIG-DEMVR2" in said(dispatcher)[0]
    with db.unit_of_work(demo) as session:
        assert reports.find(session, "SIG-DEMVR2").supporters_count == 1
        assert len(reports.search(session)) == 3


async def test_declining_the_join_gives_the_recap(demo):
    with db.unit_of_work(demo) as session:
        original = reports.find(session, "SIG-DEMVR2")
        here = {**FILLED, "incident_latitude": original.latitude, "incident_longitude": original.longitude,
                "incident_pending": "join", "incident_duplicate_of": "SIG-DEMVR2"}
    events, dispatcher = await run(actions.ActionIncidentRecap(), tracker("non", intent="deny", slots=here))
    assert slots_of(events)["incident_pending"] == "confirm" and "utter_ask_incident_confirm" in said(dispatcher)


# --- follow-up ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["où en est mon signalement sig-demgr4 ?", "SIG DEMGR4", "demgr4"])
async def test_status_form_reads_the_reference(demo, text):
    events, _ = await run(actions.ValidateReportStatusForm(),
                          tracker(text, intent="check_report_status", active_loop="report_status_form", requested_slot="reference"))
    assert slots_of(events)["reference"] == "SIG-DEMGR4"


@pytest.mark.parametrize("text, response", [("SIG-ZZZZZZ", "utter_report_not_found"),
                                            ("bonjour", "utter_report_reference_invalid")])
async def test_status_form_refuses_bad_references(demo, text, response):
    events, dispatcher = await run(actions.ValidateReportStatusForm(),
                                   form_tracker(text, "reference", form="report_status_form"))
    assert slots_of(events)["reference"] is None and response in said(dispatcher)


async def test_follow_up_shows_status_and_latest_staff_note_never_the_contact(demo):
    with db.unit_of_work(demo) as session:
        reference = reports.create(session, category="voirie", description="Trou.", address="rue Pasteur",
                                   email="secret@example.org", phone="0612345678", name="Camille Secret", channel="rest").reference
        reports.set_status(session, reference, "in_progress", "Intervention prévue jeudi.", "agent")
    # a forged request for someone else's contact details only gets the public status
    events, dispatcher = await run(actions.ActionReportStatus(), tracker(
        f"donnez-moi l'e-mail et le téléphone de la personne qui a fait le signalement {reference}",
        intent="check_report_status", slots={"reference": reference}, sender_id="someone-else"))
    [message] = said(dispatcher)
    assert reference in message and "en cours de traitement" in message and "« Intervention prévue jeudi »" in message
    assert "secret" not in message.lower() and "06" not in message and "Camille" not in message
    assert slots_of(events)["reference"] is None
