"""The demo commune's knowledge: loader, streets, waste calendar, alerts, procedures, facilities."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from townhall.knowledge import alerts, facilities, hours, loader, procedures, streets, waste
from townhall.knowledge.models import (
    FACILITY_CODES,
    PROCEDURE_CODES,
    WASTE_TYPES,
    Alert,
    Closure,
    Facility,
    Procedure,
    Street,
    WasteSchedule,
)

PARIS = ZoneInfo("Europe/Paris")
TODAY = date(2026, 1, 5)  # a Monday
NOW = datetime(2026, 1, 5, 10, tzinfo=PARIS)


@pytest.fixture
def demo(session):
    loader.load_demo(session, TODAY)
    return session


def counts(session) -> dict:
    return {m.__name__: session.execute(select(func.count()).select_from(m)).scalar_one()
            for m in (Facility, Closure, Procedure, Street, WasteSchedule, Alert)}


# --- loader ---------------------------------------------------------------------------------


def test_load_demo_is_idempotent(demo):
    before = counts(demo)
    loader.load_demo(demo, TODAY)
    loader.load_demo(demo, TODAY + timedelta(days=1))
    assert counts(demo) == before
    assert before["Facility"] == len(FACILITY_CODES) and before["Procedure"] == len(PROCEDURE_CODES)


def test_demo_covers_the_contract(demo):
    assert {f.code for f in facilities.all(demo)} == set(FACILITY_CODES)
    names = {s.name for s in streets.all(demo)}
    for required in ("rue de la République", "avenue Jean Jaurès", "rue Victor Hugo", "place de la Mairie", "rue Pasteur"):
        assert required in names
    for sector in streets.sectors(demo):
        assert {s.waste_type for s in waste.schedules(demo, sector)} == set(WASTE_TYPES)
    assert demo.execute(select(func.count()).select_from(Closure)).scalar_one() >= 1
    assert alerts.active(demo, NOW), "at least one active alert"
    for f in facilities.all(demo):
        assert streets.in_commune(f.latitude, f.longitude)
        assert f.phone.startswith("+332") and f.email.endswith("@villeneuve-sur-loire.fr")


def test_reload_moves_relative_dates_but_keeps_staff_edits(demo):
    hours.set_hours(demo, "piscine", "Mo-Su 07:00-22:00")
    loader.load_demo(demo, TODAY + timedelta(days=10))
    assert facilities.get(demo, "piscine").opening_hours == "Mo-Su 07:00-22:00"
    closure = demo.execute(select(Closure).where(Closure.demo_key == "mediatheque-inventaire")).scalar_one()
    assert closure.start_day == TODAY + timedelta(days=13)
    staff = hours.add_closure(demo, "mairie", date(2026, 2, 2), None, "formation du personnel")
    loader.load_demo(demo, TODAY)
    assert demo.get(Closure, staff.id).label == "formation du personnel"


def test_loader_rejects_invalid_hours(demo, tmp_path):
    for name in ("facilities.yml", "procedures.yml", "streets.yml", "waste.yml", "closures.yml", "alerts.yml"):
        (tmp_path / name).write_text((loader.DATA_DIR / name).read_text(encoding="utf-8"), encoding="utf-8")
    text = (tmp_path / "facilities.yml").read_text(encoding="utf-8").replace("Mo-Fr 09:00-12:00; Tu,Th", "Mo-Fr 29:00-12:00; Tu,Th")
    assert text != (loader.DATA_DIR / "facilities.yml").read_text(encoding="utf-8")
    (tmp_path / "facilities.yml").write_text(text, encoding="utf-8")
    with pytest.raises(hours.InvalidHours):
        loader.load_demo(demo, TODAY, directory=tmp_path)


# --- streets ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("rue Pasteur", "rue Pasteur"),
        ("4 rue pasteur", "rue Pasteur"),
        ("au 12 bis, Rue Pasteur", "rue Pasteur"),
        ("RUE PASTEURE", "rue Pasteur"),
        ("av. jean jaures", "avenue Jean Jaurès"),
        ("12 av Jean-Jaurès", "avenue Jean Jaurès"),
        ("avenu jean jores", "avenue Jean Jaurès"),
        ("rue de la republique", "rue de la République"),
        ("rue de la républque", "rue de la République"),
        ("victor hugo", "rue Victor Hugo"),
        ("bd de la loire", "boulevard de la Loire"),
        ("pl de la mairie", "place de la Mairie"),
        ("place de l'eglise", "place de l'Église"),
        ("quand passent les encombrants rue pasteur", "rue Pasteur"),
    ],
)
def test_street_matching_tolerates_typos(demo, typed, expected):
    street = streets.match(demo, typed)
    assert street is not None and street.name == expected


@pytest.mark.parametrize("typed", ["", "   ", "rue de Rivoli", "🙂🙂", "<script>alert(1)</script>", "'; DROP TABLE street; --", "x" * 10000, "12"])
def test_street_matching_refuses_what_is_not_a_street(demo, typed):
    assert streets.match(demo, typed) is None


def test_sectors_and_bbox(demo):
    assert streets.sectors(demo) == ["Centre", "Est", "Nord", "Sud"]
    assert streets.match(demo, "rue Pasteur").sector == "Centre"
    assert streets.match_sector(demo, "secteur nord") == "Nord"
    assert streets.match_sector(demo, "rue inconnue") is None
    assert streets.in_commune(47.2241, -1.5753)
    assert not streets.in_commune(48.8566, 2.3522)  # Paris
    assert not streets.in_commune("abc", None)


# --- waste --------------------------------------------------------------------------------------


def test_next_collections_by_sector(demo):
    result = {c.waste_type: c for c in waste.next_collections(demo, "Centre", NOW)}
    # Centre: household waste Mo,Th 05:30-12:00; at Monday 10:00 the round has already started
    assert result["ordures_menageres"].dates == [date(2026, 1, 8), date(2026, 1, 12)]
    assert result["encombrants"].dates == [date(2026, 1, 6), date(2026, 2, 3)]  # first Tuesday of the month
    only = waste.next_collections(demo, "Centre", NOW, waste_type="verre")
    assert [c.waste_type for c in only] == ["verre"] and only[0].dates[0] == date(2026, 1, 14)


def test_no_collection_on_christmas(demo):
    # Friday collection: 25 December 2026 and 1 January 2027 are Fridays, both skipped
    dates = waste.next_dates("Fr 05:30-12:00; Jan 01,May 01,Dec 25 off", datetime(2026, 12, 20, tzinfo=PARIS), 2)
    assert dates == [date(2027, 1, 8), date(2027, 1, 15)]


def test_set_schedule_validates(demo):
    with pytest.raises(hours.InvalidHours):
        waste.set_schedule(demo, "Centre", "verre", "tous les jours")
    waste.set_schedule(demo, "Centre", "verre", "Fr 06:00-12:00")
    assert waste.next_collections(demo, "Centre", NOW, "verre")[0].dates[0] == date(2026, 1, 9)


# --- alerts ---------------------------------------------------------------------------------------


def test_alerts_touching_street_and_facility(demo):
    assert [a.demo_key for a in alerts.touching(demo, NOW, street_name="rue Victor Hugo")] == ["travaux-victor-hugo"]
    assert [a.demo_key for a in alerts.touching(demo, NOW, facility_code="mediatheque")] == ["parking-mediatheque"]
    assert alerts.touching(demo, NOW, facility_code="cimetiere") == [a for a in alerts.touching(demo, NOW, street_name="rue Victor Hugo")]
    assert [a.demo_key for a in alerts.touching(demo, NOW, street_name="rue Pasteur")] == ["coupure-eau-pasteur"]  # in 4 days
    assert alerts.touching(demo, NOW, street_name="rue Pasteur", within_days=0) == []


def test_staff_add_and_end_alert(demo):
    alert = alerts.add_alert(demo, "meteo", "Vigilance orange vents violents", NOW, NOW + timedelta(days=1), street_name=None)
    assert alert in alerts.active(demo, NOW)
    assert alerts.end_alert(demo, alert.id, NOW + timedelta(hours=1)) is True
    assert alert not in alerts.active(demo, NOW + timedelta(hours=2))
    assert alerts.end_alert(demo, alert.id, NOW + timedelta(hours=2)) is False
    with pytest.raises(ValueError):
        alerts.add_alert(demo, "meteo", "x", NOW, NOW)
    with pytest.raises(ValueError):
        alerts.add_alert(demo, "inconnu", "x", NOW, NOW + timedelta(hours=1))


# --- procedures -----------------------------------------------------------------------------------


def test_procedures(demo):
    passport = procedures.get(demo, "passeport")
    assert passport.needs_appointment and passport.url.startswith("https://www.service-public.fr/")
    assert any("photo" in d for d in passport.documents)
    assert procedures.get(demo, "acte_naissance").needs_appointment is False
    assert procedures.get(demo, "permis_de_chasse") is None and procedures.get(demo, None) is None
    assert all(p.url.startswith("https://www.service-public.fr/") for p in procedures.all(demo))
