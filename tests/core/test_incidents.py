"""Incident reports (core): filing, references, duplicates by distance, status transitions, privacy."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from townhall import db
from townhall.incidents import duplicates, loader, reports, services
from townhall.incidents.errors import (
    InvalidContact,
    InvalidDescription,
    InvalidLocation,
    InvalidPhoto,
    InvalidTransition,
    OutsideCommune,
    ReportError,
    ReportNotFound,
    UnknownCategory,
)
from townhall.incidents.models import CATEGORIES, Report
from townhall.knowledge import loader as knowledge_loader
from townhall.wording.errors import report_text

TODAY = date(2026, 11, 26)
PASTEUR = (47.22280, -1.57640)


@pytest.fixture
def demo(session):
    knowledge_loader.load_demo(session, TODAY)
    loader.load_demo(session, TODAY)
    session.flush()
    return session


def file(session, **overrides):
    values = dict(category="voirie", description="Un gros nid-de-poule.", address="12 rue Pasteur", channel="rest")
    values.update(overrides)
    return reports.create(session, **values)


# --- services ---------------------------------------------------------------------------


def test_catalogue_covers_every_canonical_category():
    assert sorted(s.code for s in services.catalogue()) == sorted(CATEGORIES)
    for service in services.catalogue():
        entry = service.open311()
        assert entry["type"] == "realtime" and entry["metadata"] is False
        assert entry["service_name"] and entry["group"] and entry["keywords"]


@pytest.mark.parametrize(
    "text, code",
    [
        ("voirie", "voirie"),
        ("un lampadaire en panne", "eclairage"),
        ("un matelas abandonné sur le trottoir", "depot_sauvage"),
        ("des tags sur le mur", "graffiti"),
        ("un banc cassé", "mobilier_urbain"),
        ("une branche d'arbre tombée", "espaces_verts"),
        ("le feu tricolore ne marche plus", "signalisation"),
        ("lampadère", "eclairage"),
        ("bonjour", None),
        ("", None),
    ],
)
def test_guess_category_from_free_text(text, code):
    assert services.guess(text) == code


def test_demo_loader_is_idempotent(demo):
    loader.load_demo(demo, TODAY)
    loader.load_demo(demo, TODAY + timedelta(days=3))
    assert len(services.list_services(demo)) == len(CATEGORIES)
    assert len(reports.search(demo, page_size=100)) == 3
    assert reports.find(demo, "sig demvr2").category == "voirie"


# --- filing -----------------------------------------------------------------------------


def test_create_by_address_takes_the_street_position_and_keeps_the_number(demo):
    report = file(demo, address="12 rue pasteur")
    assert report.reference.startswith("SIG-") and len(report.reference) == 10
    assert report.status == "open" and report.address == "12 rue Pasteur"
    assert (report.latitude, report.longitude) == PASTEUR
    assert [h.to_status for h in report.history] == ["open"]


def test_create_by_gps_position_inside_the_commune(demo):
    report = file(demo, address=None, latitude=47.2301, longitude=-1.5702, email="Camille@Example.org", phone="06 12 34 56 78")
    assert report.latitude == pytest.approx(47.2301)
    assert report.reporter_email == "Camille@example.org"
    assert report.reporter_phone == "+33612345678"


@pytest.mark.parametrize(
    "overrides, error",
    [
        (dict(category="pizza"), UnknownCategory),
        (dict(description="     "), InvalidDescription),
        (dict(description="\n\t  \u200b"), InvalidDescription),
        (dict(description="x" * 4001), InvalidDescription),
        (dict(address="10 Downing Street, London"), OutsideCommune),
        (dict(address=None), InvalidLocation),
        (dict(address=None, latitude=48.8566, longitude=2.3522), OutsideCommune),
        (dict(address=None, latitude="nan", longitude=2.0), InvalidLocation),
        (dict(address=None, latitude=47.22), InvalidLocation),
        (dict(photo="https://evil.example.com/x.jpg"), InvalidPhoto),
        (dict(photo="/etc/passwd"), InvalidPhoto),
        (dict(photo="../../uploads/incidents/x.jpg"), InvalidPhoto),
        (dict(email="pas-un-mail"), InvalidContact),
        (dict(phone="123"), InvalidContact),
    ],
)
def test_bad_input_is_refused_with_a_french_message_and_nothing_is_saved(demo, overrides, error):
    before = len(reports.search(demo, page_size=100))
    with pytest.raises(error) as caught:
        file(demo, **overrides)
    assert isinstance(caught.value, ReportError)
    assert report_text(caught.value).endswith((".", "?"))
    assert len(reports.search(demo, page_size=100)) == before


def test_a_description_of_4000_characters_is_accepted(demo):
    assert len(file(demo, description="é" * 4000).description) == 4000


def test_html_and_sql_are_stored_as_typed(demo):
    text = "<script>alert(1)</script>'; DROP TABLE incident_reports; --"
    assert file(demo, description=text).description == text
    assert demo.get(Report, 1) is not None


def test_messenger_photo_url_is_accepted(demo):
    url = "https://scontent.xx.fbcdn.net/v/t1.15752-9/photo.jpg?_nc_cat=1"
    assert file(demo, photo=url).photo == url


# --- references ---------------------------------------------------------------------------


def test_find_accepts_any_case_space_or_no_dash(demo):
    report = file(demo)
    code = report.reference[4:]
    for typed in (report.reference, report.reference.lower(), f"sig {code.lower()}", f"SIG{code}", code, f"mon signalement {report.reference} svp"):
        assert reports.find(demo, typed).id == report.id
    assert reports.find(demo, "SIG-000000") is None
    assert reports.find(demo, "RDV-7K3F9Q") is None
    assert reports.find(demo, "") is None


# --- duplicates ---------------------------------------------------------------------------


def test_haversine_distance():
    assert duplicates.distance_m(47.0, -1.5, 47.0, -1.5) == 0
    # one thousandth of a degree of latitude is about 111 m
    assert duplicates.distance_m(47.0, -1.5, 47.001, -1.5) == pytest.approx(111.2, abs=0.5)
    assert duplicates.distance_m(48.8566, 2.3522, 47.2184, -1.5536) == pytest.approx(342_000, rel=0.01)


def test_nearby_open_finds_same_category_within_the_radius(demo):
    here = file(demo, address=None, latitude=47.2300, longitude=-1.5700)
    near = duplicates.nearby_open(demo, "voirie", 47.2302, -1.5700)  # about 22 m
    assert [r.reference for r in near] == [here.reference]
    assert duplicates.nearby_open(demo, "voirie", 47.2306, -1.5700) == []  # about 67 m
    assert duplicates.nearby_open(demo, "eclairage", 47.2300, -1.5700) == []
    assert duplicates.nearby_open(demo, "voirie", None, None) == []
    assert [r.reference for r in duplicates.nearby_open(demo, "voirie", 47.2306, -1.5700, radius_m=100)] == [here.reference]


def test_closed_reports_are_not_duplicates(demo):
    here = file(demo, address=None, latitude=47.2300, longitude=-1.5700)
    reports.set_status(demo, here.reference, "resolved", "Rebouché.", "agent")
    assert duplicates.nearby_open(demo, "voirie", 47.2300, -1.5700) == []


def test_join_counts_supporters_once_per_citizen(demo):
    report = reports.find(demo, "SIG-DEMVR2")
    reports.join(demo, "sig-demvr2", email="a@example.org", channel="rest", sender_id="alice")
    reports.join(demo, "SIG-DEMVR2", channel="rest", sender_id="alice")
    reports.join(demo, "SIG-DEMVR2", channel="facebook", sender_id="bob")
    assert report.supporters_count == 2
    with pytest.raises(ReportNotFound):
        reports.join(demo, "SIG-ZZZZZZ", channel="rest")
    reports.set_status(demo, "SIG-DEMVR2", "resolved", "Réparé.", "agent")
    with pytest.raises(InvalidTransition):
        reports.join(demo, "SIG-DEMVR2", channel="rest", sender_id="carol")


# --- statuses -------------------------------------------------------------------------------


def test_status_transitions_keep_the_history(demo):
    report = file(demo)
    reports.set_status(demo, report.reference, "acknowledged", "Transmis aux services techniques.", "Agent A")
    reports.set_status(demo, report.reference, "in_progress", "Intervention prévue jeudi.", "Agent B")
    reports.set_status(demo, report.reference, "in_progress", "Retard : livraison d'enrobé.", "Agent B")
    reports.set_status(demo, report.reference, "resolved", "Trou rebouché.", "Agent B")
    assert report.status == "resolved" and report.status_note == "Trou rebouché."
    assert [(h.from_status, h.to_status) for h in report.history] == [
        (None, "open"),
        ("open", "acknowledged"),
        ("acknowledged", "in_progress"),
        ("in_progress", "in_progress"),
        ("in_progress", "resolved"),
    ]
    assert report.history[-1].by == "Agent B" and report.history[-1].at is not None
    reports.set_status(demo, report.reference, "open", "Le trou s'est rouvert.", "Agent A")
    assert report.status == "open"


@pytest.mark.parametrize(
    "path, status, note",
    [
        ((), "rejected", ""),
        ((), "rejected", "   "),
        ((), "unknown", "note"),
        ((), "open", ""),
        (("resolved",), "in_progress", "note"),
        (("rejected",), "resolved", "note"),
        ((), "duplicate", ""),
    ],
)
def test_forbidden_transitions(demo, path, status, note):
    report = file(demo)
    for step in path:
        reports.set_status(demo, report.reference, step, "raison", "agent")
    before = (report.status, len(report.history))
    with pytest.raises(InvalidTransition) as caught:
        reports.set_status(demo, report.reference, status, note, "agent")
    assert report_text(caught.value)
    assert (report.status, len(report.history)) == before


def test_duplicate_points_at_the_original(demo):
    report = file(demo)
    reports.set_status(demo, report.reference, "duplicate", "", "agent", duplicate_of="SIG-DEMVR2")
    assert report.duplicate_of == "SIG-DEMVR2" and "SIG-DEMVR2" in report.status_note
    with pytest.raises(InvalidTransition):
        reports.set_status(demo, "SIG-DEMVR2", "duplicate", "", "agent", duplicate_of="SIG-DEMVR2")


def test_set_status_of_unknown_report(demo):
    with pytest.raises(ReportNotFound):
        reports.set_status(demo, "SIG-ZZZZZZ", "resolved", "x", "agent")


def test_public_status_never_holds_contact_details(demo):
    report = file(demo, email="secret@example.org", phone="0612345678", name="Camille Secret")
    reports.set_status(demo, report.reference, "acknowledged", "Pris en charge.", "agent")
    public = reports.public_status(demo, report.reference.lower())
    assert public.status == "acknowledged" and public.note == "Pris en charge."
    assert public.category_name == "Voirie et trottoirs"
    flat = repr(public)
    assert "secret" not in flat.lower() and "+33612345678" not in flat and "Camille" not in flat
    assert reports.public_status(demo, "SIG-ZZZZZZ") is None


def test_search_filters_and_pages(demo):
    made = [file(demo, category=c) for c in ("voirie", "eclairage", "voirie")]
    reports.set_status(demo, made[1].reference, "resolved", "ok", "agent")
    assert {r.reference for r in reports.search(demo, category="voirie", page_size=100)} >= {made[0].reference, made[2].reference}
    assert made[1].reference in {r.reference for r in reports.search(demo, status="resolved")}
    everything = reports.search(demo, page_size=1000)
    pages = [r.reference for p in (1, 2, 3) for r in reports.search(demo, page=p, page_size=2)]
    assert pages == [r.reference for r in everything][:6]
    assert reports.search(demo, reference_list=[made[0].reference.lower(), "junk"])[0].id == made[0].id


def test_database_refuses_a_report_without_location(db_url):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        with db.unit_of_work(db_url) as s:
            s.add(Report(reference="SIG-ABCDEF", category="voirie", description="x", channel="rest"))
            s.flush()
    with pytest.raises(IntegrityError):
        with db.unit_of_work(db_url) as s:
            s.add(Report(reference="SIG-ABCDEG", category="pizza", description="x", address="rue", channel="rest"))
            s.flush()
