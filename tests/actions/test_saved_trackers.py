"""The actions on saved real trackers (tests/actions/trackers/*.json, financial-demo style).

Each dump is a conversation as Rasa's tracker store keeps it, recorded in process by
tests/actions/trackers/record.py (Rasa's message processor and forms, the project's actions).
The test replays it at the instant its last message arrived, on a fresh demo database of
that day (SQLite and PostgreSQL), runs the action Rasa would call next, and checks the exact
events it returns and the rows it wrote.
"""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest
import time_machine
from sqlalchemy import func, select

from actions.booking import ValidateBookingForm
from actions.dialogue import ActionRequestHuman
from actions.incidents import ValidateIncidentForm
from tests.actions.trackers import record
from tests.trackers import SAVED_TRACKERS, rasa_domain, replayed, run, said, saved, saved_tracker
from townhall import db, demo, handoff
from townhall.booking import appointments
from townhall.booking.models import Appointment, SlotUnit
from townhall.incidents.models import Report

DUMPS = sorted(path.stem for path in SAVED_TRACKERS.glob("*.json"))


def slot(name, value) -> dict:
    return {"event": "slot", "timestamp": None, "name": name, "value": value}


@pytest.fixture
def replay(db_url):
    """``replay(name)``: the clock frozen when the dump's last message arrived, the demo data of
    that day loaded, and the rasa_sdk tracker an action receives for it."""
    with time_machine.travel(datetime(2030, 1, 1, tzinfo=timezone.utc), tick=False) as clock:

        def load(name: str):
            moment = datetime.fromisoformat(saved(name)["replay_at"])
            clock.move_to(moment)
            demo.load(db_url, moment.date())
            return saved_tracker(name)

        yield load


def count(model, *where) -> int:
    with db.unit_of_work() as session:
        return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


# --- the dumps are real and replayable ----------------------------------------------------------


def test_every_scenario_has_its_dump():
    assert DUMPS == sorted(record.SCENARIOS)


@pytest.mark.parametrize("name", DUMPS)
def test_a_dump_replays_to_the_same_events(name):
    data = saved(name)
    tracker = replayed(name)
    assert [event.as_dict() for event in tracker.events] == data["events"]
    assert data["events"][0]["name"] == "action_session_start" and tracker.sender_id == data["sender_id"]
    assert tracker.latest_message.text == [e for e in data["events"] if e["event"] == "user"][-1]["text"]
    assert datetime.fromisoformat(data["replay_at"]) == record.SCENARIOS[name].answered_at()


# --- booking ------------------------------------------------------------------------------------


async def test_booking_mid_way_the_time_chosen_is_kept_in_utc(replay):
    tracker = replay("booking_time_chosen")
    assert tracker.active_loop["name"] == "booking_form" and tracker.get_slot("requested_slot") == "appointment_slot"
    assert tracker.get_slot("appointment_date") == "2030-05-02"  # « jeudi » on Tuesday 30 April

    events, dispatcher = await run(ValidateBookingForm(), tracker)

    assert events == [slot("appointment_slot", "2030-05-02T08:20:00+00:00"), slot("form_failures", {})]
    assert said(dispatcher) == []
    assert count(Appointment, Appointment.sender_id == tracker.sender_id) == 0  # nothing booked before « oui »


async def test_booking_confirmed_books_the_time_and_gives_the_reference(replay):
    tracker = replay("booking_confirmed")
    assert tracker.get_slot("requested_slot") == "booking_confirmed"

    events, dispatcher = await run(ValidateBookingForm(), tracker)

    reference = events[1]["value"]
    assert events == [slot("booking_confirmed", True), slot("reference", reference), slot("form_failures", {}),
                      slot("requested_slot", None)]
    assert said(dispatcher) == []
    with db.unit_of_work() as session:
        booked = appointments.find(session, reference)
        assert (booked.procedure, booked.start, booked.party_size, booked.ants_numbers) == (
            "passeport", datetime(2030, 5, 2, 8, 20, tzinfo=timezone.utc), 1, ["7A2B3C4D5E"])
        assert (booked.citizen_name, booked.citizen_email, booked.citizen_phone) == (
            "Camille Martin", "camille.martin@example.org", None)
        assert (booked.status, booked.channel, booked.sender_id) == ("booked", "rest", tracker.sender_id)
        assert booked.created_at == datetime.fromisoformat(saved("booking_confirmed")["replay_at"])
        units = session.execute(select(SlotUnit.starts_at).where(SlotUnit.appointment_id == booked.id)).scalars().all()
        assert sorted(units) == [datetime(2030, 5, 2, 8, 20, tzinfo=timezone.utc), datetime(2030, 5, 2, 8, 30, tzinfo=timezone.utc)]
    assert count(Appointment, Appointment.sender_id == tracker.sender_id) == 1


# --- incident report -------------------------------------------------------------------------------


async def test_incident_at_the_location_prompt_resolves_the_address(replay):
    tracker = replay("incident_location")
    assert tracker.active_loop["name"] == "incident_form" and tracker.get_slot("requested_slot") == "incident_location"

    events, dispatcher = await run(ValidateIncidentForm(), tracker)

    assert events == [slot("incident_location", "12 rue Pasteur"), slot("incident_latitude", 47.2228),
                      slot("incident_longitude", -1.5764), slot("form_failures", {})]
    assert said(dispatcher) == []
    assert count(Report) == count(Report, Report.channel == "demo") > 0  # nothing filed yet


# --- hand-over ------------------------------------------------------------------------------------


async def test_hand_over_during_a_booking_on_24_december(replay):
    tracker = replay("handover_during_booking")
    assert tracker.events[-1]["event"] == "action_execution_rejected"  # the form let the rule answer

    events, dispatcher = await run(ActionRequestHuman(), tracker)

    assert events == []
    assert said(dispatcher)[-1] == "utter_handoff_recorded"
    assert "12 h" in said(dispatcher)[0]  # 11:51 on 24 December: open until noon
    with db.unit_of_work() as session:
        [request] = session.execute(select(handoff.HandoffRequest)).scalars().all()
        assert (request.channel, request.sender_id, request.service, request.topic, request.last_message) == (
            "rest", tracker.sender_id, "mairie", "booking", "je peux parler à quelqu'un de la mairie ?")
        assert request.created_at == datetime.fromisoformat(saved("handover_during_booking")["replay_at"])
        assert request.handled_at is None


# --- Rasa's own form goes on from a saved tracker ---------------------------------------------------


def test_rasa_form_goes_on_from_the_saved_tracker(replay):
    """Rasa's booking_form (through the in-process action endpoint) validates the saved answer
    and asks the next question: the dump is a state Rasa can carry on from."""
    from rasa.core.actions.action import action_for_name_or_text
    from rasa.core.channels.channel import CollectingOutputChannel

    replay("booking_time_chosen")
    domain = rasa_domain()
    processor = record._processor(domain)
    form = action_for_name_or_text("booking_form", domain, processor.action_endpoint)
    events = asyncio.run(form.run(CollectingOutputChannel(), processor.nlg, replayed("booking_time_chosen"), domain))
    names = [(type(e).__name__, getattr(e, "key", None), getattr(e, "value", None)) for e in events]
    assert ("SlotSet", "appointment_slot", "2030-05-02T08:20:00+00:00") in names
    assert ("SlotSet", "requested_slot", "citizen_name") in names
    assert events[-1].as_dict()["text"] == domain.responses["utter_ask_citizen_name"][0]["text"]
