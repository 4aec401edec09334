"""Appointment references: format, no collisions, tolerant parsing."""
from __future__ import annotations

import re

import pytest

from townhall import references
from townhall.booking import appointments
from tests.core.booking_fixtures import MONDAY, NOW, at, load_settings


def test_generated_references_follow_the_contract():
    # 32^6 (about 10^9) codes: random draws may collide (birthday paradox), so booking
    # checks the database and draws again (next tests); the column is unique as well.
    generated = {references.generate("RDV") for _ in range(2_000)}
    assert len(generated) == 2_000
    assert all(re.fullmatch(r"RDV-[A-HJ-NP-Z2-9]{6}", r) for r in generated)


@pytest.mark.parametrize(
    "typed",
    ["RDV-7K3F9Q", "rdv-7k3f9q", "rdv 7k3f9q", "RDV7K3F9Q", "Rdv_7K3f9q", "mon rdv est le RDV-7K3F9Q merci", "7k3f9q"],
)
def test_parsing_ignores_case_dash_and_spaces(typed):
    assert references.parse(typed, prefix="RDV") == "RDV-7K3F9Q"


@pytest.mark.parametrize("typed", ["", "RDV-7K3F9", "RDV-0O1I23", "SIG-4HX2PL", "<script>", "🙂" * 20, "x" * 10_000])
def test_parsing_rejects_what_is_not_an_appointment_reference(typed):
    assert references.parse(typed, prefix="RDV") is None


def test_booking_draws_again_when_a_reference_exists(session, monkeypatch):
    load_settings(session)
    drawn = iter(["RDV-AAAAAA", "RDV-AAAAAA", "RDV-BBBBBB"])
    monkeypatch.setattr(references, "generate", lambda prefix: next(drawn))
    first = appointments.book(session, procedure="passeport", start=at(MONDAY, 10), name="A", email="a@example.org", now=NOW)
    second = appointments.book(session, procedure="passeport", start=at(MONDAY, 10, 20), name="B", email="b@example.org", now=NOW)
    assert (first.reference, second.reference) == ("RDV-AAAAAA", "RDV-BBBBBB")


def test_find_accepts_any_spelling(session):
    load_settings(session)
    booked = appointments.book(session, procedure="passeport", start=at(MONDAY, 10), name="A", email="a@example.org", now=NOW)
    typed = booked.reference.lower().replace("-", " ")
    assert appointments.find(session, typed).id == booked.id
    assert appointments.find(session, "RDV-ZZZZZZ") is None
    assert appointments.find(session, "n'importe quoi") is None
