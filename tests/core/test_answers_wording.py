"""The wording module turns plain facts into French, without a database or a tracker."""
from __future__ import annotations

from datetime import date, datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from townhall.booking.appointments import AppointmentNotFound, SlotTaken
from townhall.booking.contacts import InvalidContact
from townhall.booking.motifs import UnknownMotif
from townhall.incidents.errors import InvalidPhoto
from townhall.knowledge.hours import DayHours, OpenStatus
from townhall.wording import errors, hours, incidents

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 6, 5, 10, tzinfo=PARIS)  # a Friday
POOL = SimpleNamespace(short_name="la piscine", gender="f")
TECHNICAL = SimpleNamespace(short_name="les services techniques", gender="mp")


@pytest.mark.parametrize("error, expected", [
    (SlotTaken(), {"response": "utter_booking_slot_taken_meanwhile"}),
    (AppointmentNotFound("RDV-7K3F9Q"), {"response": "utter_booking_not_found"}),
    (UnknownMotif(), {"response": "utter_booking_failed"}),
    (InvalidContact("bad"), {"response": "utter_booking_failed"}),
    (InvalidPhoto("photo_missing"), {"text": "Je n'ai pas reçu de photo."}),
    (InvalidPhoto(), {"text": "Cette photo ne peut pas être acceptée."}),
])
def test_one_error_convention_for_booking_and_reports(error, expected):
    assert errors.answer(error) == expected


def test_an_error_of_no_known_kind_takes_the_callers_default():
    assert errors.answer(ValueError("x"), default="utter_booking_not_changeable") == {
        "response": "utter_booking_not_changeable"}


def test_opening_state_agrees_with_the_facility():
    assert hours.state(POOL, "ouvert") == "la piscine est ouverte"
    assert hours.state(TECHNICAL, "fermé") == "les services techniques sont fermés"


def test_now_sentence_and_staff_status_word_the_same_fact():
    status = OpenStatus(is_open=False, next_opening=datetime(2026, 6, 6, 9, tzinfo=PARIS), reason="inventaire")
    assert hours.now_sentence(POOL, status, NOW) == (
        "La piscine est fermée en ce moment : inventaire. Réouverture demain à 9 h.")
    assert hours.status_text(status, NOW) == "Fermé : inventaire. Réouverture demain à 9 h"


def test_a_day_for_staff_and_for_citizens():
    day = DayHours(date(2026, 6, 6), [(time(9), time(12))])
    assert hours.day_text(day) == "Ouvert de 9 h à 12 h"
    assert hours.day_line(POOL, day, NOW) == "Demain (samedi 6 juin), la piscine est ouverte de 9 h à 12 h."
    assert hours.day_line(POOL, day, NOW, "apres-midi") == (
        "Demain (samedi 6 juin) dans l'après-midi, la piscine est fermée. Ce jour-là, la piscine est ouverte "
        "de 9 h à 12 h.")


def test_a_position_only_report_is_recognised_by_its_place_label():
    label = incidents.gps_place(47.2184, -1.5536)
    assert label == "position GPS (47.21840, -1.55360)"
    assert incidents.is_gps_place(label)
    assert incidents.distance(34.4) == "à 34 m"
