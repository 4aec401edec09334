"""Forms take what the citizen gives (issue 13): a value that fits the requested slot is kept
whatever intent the classifier chose; only a message that gives nothing for the slot and is
confidently another intent interrupts the form; « laissez tomber » stops it; a new day given
later changes the day. Run on real trackers and a real (temporary) database."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from actions.booking import ActionAskBookingConfirmed, ValidateBookingForm, ValidateCancelAppointmentForm
from actions.form_validation import is_new_message, wants_to_stop
from actions.incidents import ValidateIncidentForm, ValidateReportStatusForm
from townhall.wording.incidents import distance as nearby_words
from tests.trackers import entity, run, said, tracker
from townhall import config, db, french
from townhall.booking import availability, loader
from townhall.booking.contacts import ants_numbers, name_in_answer, says_nothing_to_give
from townhall.incidents import reports
from townhall.incidents import loader as incident_loader
from townhall.knowledge import loader as knowledge_loader


pytestmark = pytest.mark.usefixtures("clock")  # demo data relative to one frozen day, never today


@pytest.fixture
def commune(sqlite_url):
    with db.unit_of_work(sqlite_url) as session:
        loader.load_demo(session, datetime.now(config.TIMEZONE).date(), with_appointments=False)
    return sqlite_url


@pytest.fixture
def streets_db(sqlite_url):
    with db.unit_of_work(sqlite_url) as session:
        knowledge_loader.load_demo(session, date.today())
        incident_loader.load_demo(session, date.today())
    return sqlite_url


def slot_events(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def booking(text, requested, intent="inform", confidence=0.99, entities=None, **slots):
    t = tracker(text, intent=intent, confidence=confidence, entities=entities, slots=slots,
                active_loop="booking_form", requested_slot=requested)
    return await run(ValidateBookingForm(), t)


async def incident(text, requested, intent="inform", confidence=0.99, entities=None, **slots):
    t = tracker(text, intent=intent, confidence=confidence, entities=entities, slots=slots,
                active_loop="incident_form", requested_slot=requested)
    return await run(ValidateIncidentForm(), t)


# --- ANTS pre-application numbers -----------------------------------------------------------
UNSEEN_CODES = ["9XK2LM4PQ8", "QW3ER5TY7U", "H4N8ZC2VBT", "0A1B2C3D4E", "ZZ9YY8XX7W", "M3N4B5V6C7", "1QAZ2WSX3E", "PL0KM9IJN8"]


@pytest.mark.parametrize("code", UNSEEN_CODES)
@pytest.mark.parametrize("intent", ["inform", "out_of_scope", "greet", "give_feedback"])
async def test_any_ants_number_is_kept_whatever_the_intent(commune, code, intent):
    for typed in (code, code.lower(), f"{code[:4]}-{code[4:8]}-{code[8:]}", f"Mon numéro de pré-demande est {code}"):
        events, dispatcher = await booking(typed, "ants_predemande", intent=intent, procedure="passeport")
        assert slot_events(events)["ants_predemande"] == code, typed
        assert "utter_booking_ants_invalid" not in said(dispatcher)


def test_ants_numbers_in_words():
    assert ants_numbers("9XK2 LM4 PQ8") == ["9XK2LM4PQ8"]
    assert ants_numbers("le mien 7A2B3C4D5E, celui de ma fille 8B3C4D5E6F") == ["7A2B3C4D5E", "8B3C4D5E6F"]
    for not_a_code in ("0612345678", "maintenant", "abandonner", "est AB12CDE", "RDV-7K3F9Q", "123"):
        assert ants_numbers(not_a_code) == [], not_a_code


@pytest.mark.parametrize("text", ["non", "je n'en ai pas", "pas encore", "non, je n'ai pas encore fait la pré-demande", "aucun"])
async def test_no_ants_number_yet(commune, text):
    events, dispatcher = await booking(text, "ants_predemande", intent="out_of_scope", procedure="passeport")
    assert slot_events(events)["ants_predemande"] == "aucun"
    assert "utter_booking_ants_link" in said(dispatcher)


# --- names ------------------------------------------------------------------------------------
NAMES = ["Camille Martin", "émilie durand", "Jean-Pierre Lefèvre", "Jean de La Fontaine", "Anne-Sophie d'Harcourt",
         "Loïc Le Floc'h", "Mme N'Diaye", "Nguyễn Văn An", "Zoé", "Van der Berg Pieter", "Ahmed Ben Ali"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("intent", ["affirm", "give_feedback", "inform"])
async def test_a_typed_name_is_a_name_not_a_remark(commune, name, intent):
    events, dispatcher = await booking(name, "citizen_name", intent=intent, procedure="acte_naissance")
    assert slot_events(events)["citizen_name"] == name
    assert not any(e.get("event") == "action_execution_rejected" for e in events)


async def test_name_with_a_lead_in(commune):
    events, _ = await booking("je m'appelle Émilie Bézier", "citizen_name", intent="greet", procedure="acte_naissance")
    assert slot_events(events)["citizen_name"] == "Émilie Bézier"
    events, _ = await booking("au nom de Hugo Lenoir, merci", "citizen_name", intent="thank", procedure="acte_naissance")
    assert slot_events(events)["citizen_name"] == "Hugo Lenoir"


@pytest.mark.parametrize("text", ["bonjour", "c'est ouvert samedi ?", "oui", "horaires", "je voudrais changer la date", "12345"])
def test_what_is_not_a_name(text):
    assert name_in_answer(text) is None


def test_elision_before_a_vowel():
    assert french.of("Émilie Durand") == "d'Émilie Durand"
    assert french.of("Camille Martin") == "de Camille Martin"
    assert french.of("Yves Roux") == "d'Yves Roux" and french.of("Yann Roux") == "de Yann Roux"
    assert french.of("Hélène Petit") == "d'Hélène Petit"


async def test_recap_says_au_nom_d_emilie(commune):
    with db.unit_of_work(commune) as session:
        day = availability.next_free_days(session, "acte_naissance")[0]
        start = availability.free_slots(session, "acte_naissance", day)[0]
    t = tracker("", slots={"procedure": "acte_naissance", "appointment_slot": start.isoformat(),
                           "citizen_name": "Émilie Durand", "citizen_email": "emilie@example.org"})
    _, dispatcher = await run(ActionAskBookingConfirmed(), t)
    recap = said(dispatcher)[0]
    assert "au nom d'Émilie Durand" in recap and "de É" not in recap


# --- phones and e-mails typed alone -----------------------------------------------------------
PHONES = ["06 12 34 56 78", "0612345678", "06.12.34.56.78", "06-12-34-56-78", "+33 6 12 34 56 78", "+33612345678",
          "0033 6 12 34 56 78", "+33 (0)6 12 34 56 78", "mon numéro : 06 12 34 56 78"]


@pytest.mark.parametrize("phone", PHONES)
@pytest.mark.parametrize("intent", ["inform", "out_of_scope", "nlu_fallback"])
async def test_a_phone_typed_alone_is_taken(commune, phone, intent):
    before = dict(procedure="acte_naissance", appointment_date="2030-01-07", appointment_slot="2030-01-07T08:00:00+00:00",
                  citizen_name="Camille Martin")
    events, dispatcher = await booking(phone, "citizen_email", intent=intent, confidence=0.7, **before)
    assert slot_events(events)["citizen_phone"] == "+33612345678"
    events, _ = await booking(phone, "citizen_phone", intent=intent, confidence=0.7, booking_no_email=True, **before)
    assert slot_events(events)["citizen_phone"] == "+33612345678"


async def test_no_email_then_the_phone_is_asked(commune):
    before = dict(procedure="acte_naissance", appointment_date="2030-01-07", appointment_slot="2030-01-07T08:00:00+00:00",
                  citizen_name="Camille Martin")
    events, _ = await booking("je n'en ai pas", "citizen_email", intent="out_of_scope", **before)
    assert slot_events(events)["booking_no_email"] is True
    assert slot_events(events)["requested_slot"] == "citizen_phone"


# --- interruptions and resumption -------------------------------------------------------------
async def test_only_a_confident_other_intent_without_a_value_interrupts(commune):
    events, _ = await booking("quels sont vos horaires ?", "ants_predemande", intent="ask_opening_hours", procedure="passeport")
    assert [e["event"] for e in events] == ["action_execution_rejected"]
    events, dispatcher = await booking("euh bof", "ants_predemande", intent="out_of_scope", confidence=0.35,
                                       procedure="passeport")
    assert "utter_booking_ants_invalid" in said(dispatcher)  # not confident: asked again, the form goes on
    assert not any(e.get("event") == "action_execution_rejected" for e in events)


async def test_greeting_in_a_form_asks_the_question_again(commune):
    events, dispatcher = await booking("bonjour", "citizen_name", intent="greet", procedure="passeport")
    assert events == [{"event": "slot", "timestamp": None, "name": "citizen_name", "value": None}]
    assert said(dispatcher) == []


async def test_the_form_does_not_read_the_question_again_when_it_resumes(commune):
    slots = dict(procedure="acte_naissance", appointment_date="2030-01-07", appointment_slot="2030-01-07T08:00:00+00:00")
    t = tracker("c'est ouvert samedi ?", intent="ask_opening_hours", slots=slots,
                active_loop="booking_form", requested_slot="citizen_name")
    t.events += [
        {"event": "action_execution_rejected", "name": "booking_form"},
        {"event": "action", "name": "action_answer_opening_hours"},
        {"event": "bot", "text": "La mairie est ouverte samedi de 9 h à 12 h."},
        {"event": "action", "name": "booking_form"},
    ]
    assert not is_new_message(t)
    events, _ = await run(ValidateBookingForm(), t)
    assert "citizen_name" not in slot_events(events)
    assert slot_events(events)["requested_slot"] == "citizen_name"  # asked again


@pytest.mark.parametrize("text", ["laissez tomber", "annule", "stop", "Stop !", "non finalement, tant pis", "oubliez ça"])
async def test_stop_words_stop_the_booking_politely(commune, text):
    events, dispatcher = await booking(text, "appointment_date", intent="out_of_scope", procedure="passeport",
                                       ants_predemande="aucun")
    assert said(dispatcher) == ["utter_form_stopped"]
    slots = slot_events(events)
    assert slots["procedure"] is None and slots["ants_predemande"] is None and slots["requested_slot"] is None
    assert {"event": "active_loop", "name": None, "timestamp": None} in events
    assert events[-1] == {"event": "followup", "name": "action_listen", "timestamp": None}


def test_stop_words_are_not_read_in_a_sentence():
    assert wants_to_stop("laisse tomber, merci")
    assert not wants_to_stop("le panneau stop est tombé")
    assert not wants_to_stop("annuler mon rendez-vous RDV-7K3F9Q")


async def test_annuler_does_not_stop_the_cancel_form(commune):
    t = tracker("annuler RDV-7K3F9Q", intent="cancel_appointment", entities=[entity("reference", "RDV-7K3F9Q", 8)],
                slots={"reference": "RDV-7K3F9Q"}, active_loop="cancel_appointment_form", requested_slot="reference")
    t.events.append({"event": "slot", "name": "reference", "value": "RDV-7K3F9Q"})  # the from_entity mapping
    events, dispatcher = await run(ValidateCancelAppointmentForm(), t)
    assert "utter_form_stopped" not in said(dispatcher)
    assert slot_events(events)["reference"] == "RDV-7K3F9Q"


# --- a new day given later in the form ----------------------------------------------------------
async def test_non_plutot_jeudi_changes_the_day_and_the_offer(commune):
    with db.unit_of_work(commune) as session:
        first, *others = availability.next_free_days(session, "acte_naissance")
    other = next(d for d in others if d != first)
    words = f"non, plutôt {french.day(other)}"
    for requested, intent in (("appointment_slot", "deny"), ("booking_confirmed", "deny"), ("citizen_name", "inform")):
        slots = dict(procedure="acte_naissance", appointment_date=first.isoformat())
        if requested != "appointment_slot":
            slots.update(appointment_slot=f"{first.isoformat()}T08:00:00+00:00")
        if requested == "booking_confirmed":
            slots.update(citizen_name="Camille Martin", citizen_email="camille@example.org")
        events, _ = await booking(words, requested, intent=intent, **slots)
        changed = slot_events(events)
        assert changed["appointment_date"] == other.isoformat(), requested
        assert changed.get("appointment_slot") is None
        assert changed["requested_slot"] == "appointment_slot"  # the new day's times are offered next


# --- the report form --------------------------------------------------------------------------
async def test_a_question_is_not_stored_as_the_description(streets_db):
    question = "c'est ouvert quand la mairie ?"
    slots = dict(incident_category="voirie", incident_location="rue Pasteur", incident_description=question)
    t = tracker(question, intent="ask_opening_hours", slots=slots, active_loop="incident_form",
                requested_slot="incident_description",
                events=[{"event": "slot", "name": "incident_description", "value": None}])
    t.events.append({"event": "slot", "name": "incident_description", "value": question})  # the from_text mapping
    events, _ = await run(ValidateIncidentForm(), t)
    assert events[0]["event"] == "action_execution_rejected"
    assert slot_events(events)["incident_description"] is None  # put back as it was
    # not confidently another intent: asked again, with a word on why
    t = tracker(question, intent="nlu_fallback", confidence=0.3, slots=slots, active_loop="incident_form",
                requested_slot="incident_description")
    t.events.append({"event": "slot", "name": "incident_description", "value": question})
    events, dispatcher = await run(ValidateIncidentForm(), t)
    assert "utter_incident_description_is_question" in said(dispatcher)
    assert slot_events(events)["incident_description"] is None


async def test_a_description_classified_as_a_report_is_kept(streets_db):
    text = "un trou énorme devant l'école, c'est dangereux ?"
    slots = dict(incident_category="voirie", incident_location="rue Pasteur", incident_description=text)
    t = tracker(text, intent="report_incident", slots=slots, active_loop="incident_form", requested_slot="incident_description")
    t.events.append({"event": "slot", "name": "incident_description", "value": text})
    events, _ = await run(ValidateIncidentForm(), t)
    assert slot_events(events)["incident_description"] == text


def test_typed_gps_positions():
    assert reports.typed_position("47.2184, -1.5536") == (47.2184, -1.5536)
    assert reports.typed_position("48,8566 ; 2,3522") == (48.8566, 2.3522)
    assert reports.typed_position("47.22 N 1.55 O") == (47.22, -1.55)
    assert reports.typed_position("12 rue Pasteur") is None


async def test_a_typed_gps_position_is_a_location(streets_db):
    text = "47.2250, -1.5750"
    t = tracker(text, intent="out_of_scope", slots={"incident_category": "voirie", "incident_location": text},
                active_loop="incident_form", requested_slot="incident_location")
    t.events.append({"event": "slot", "name": "incident_location", "value": text})
    events, _ = await run(ValidateIncidentForm(), t)
    slots = slot_events(events)
    assert slots["incident_latitude"] == pytest.approx(47.225) and slots["incident_longitude"] == pytest.approx(-1.575)
    assert slots["incident_location"]
    # Paris is a position too, outside the commune: refused with the reason, not as a street
    t = tracker("48.8566, 2.3522", intent="inform", slots={"incident_category": "voirie", "incident_location": "48.8566, 2.3522"},
                active_loop="incident_form", requested_slot="incident_location")
    t.events.append({"event": "slot", "name": "incident_location", "value": "48.8566, 2.3522"})
    events, dispatcher = await run(ValidateIncidentForm(), t)
    assert slot_events(events)["incident_location"] is None
    assert any("en dehors de la commune" in m for m in said(dispatcher))


@pytest.mark.parametrize("text", ["non", "pas de photo", "je n'en ai pas", "non merci"])
async def test_no_photo_whatever_the_intent(streets_db, text):
    events, _ = await incident(text, "incident_photo", intent="out_of_scope", incident_category="voirie",
                               incident_location="rue Pasteur", incident_description="trou")
    assert slot_events(events)["incident_photo"] == "aucune"


async def test_stop_in_the_report_form(streets_db):
    events, dispatcher = await incident("laissez tomber", "incident_location", intent="out_of_scope",
                                        incident_category="voirie")
    assert said(dispatcher) == ["utter_form_stopped"]
    assert slot_events(events)["incident_category"] is None
    assert events[-1]["event"] == "followup"


async def test_status_reference_in_any_case_whatever_the_intent(streets_db):
    t = tracker("sig 4hx2pl", intent="out_of_scope", active_loop="report_status_form", requested_slot="reference")
    events, dispatcher = await run(ValidateReportStatusForm(), t)
    assert not any(e.get("event") == "action_execution_rejected" for e in events)
    assert "utter_report_not_found" in said(dispatcher)  # read as a reference (none such in the demo)


def test_nearby_report_in_words():
    assert nearby_words(0.0) == "au même endroit"
    assert nearby_words(12.0) == "tout près"
    assert nearby_words(34.4) == "à 34 m"


def test_says_nothing_to_give():
    for text in ("non", "je n'en ai pas", "pas encore", "non merci", "je préfère rester anonyme", "aucune"):
        assert says_nothing_to_give(text), text
    for text in ("Camille Martin", "non, plutôt jeudi", "06 12 34 56 78"):
        assert not says_nothing_to_give(text), text


async def test_plutot_en_fin_de_matinee_keeps_the_day_and_offers_late_morning(commune):
    with db.unit_of_work(commune) as session:
        day = availability.next_free_days(session, "acte_naissance")[0]
    events, dispatcher = await booking("plutôt en fin de matinée", "appointment_slot", intent="inform",
                                       procedure="acte_naissance", appointment_date=day.isoformat())
    slots = slot_events(events)
    assert "appointment_date" not in slots or slots["appointment_date"] == day.isoformat()
    assert slots["booking_preferred_time"] == "11:00" and slots["appointment_slot"] is None
    assert "utter_booking_slot_not_understood" not in said(dispatcher)


async def test_changing_the_day_at_the_recap(commune):
    slots = dict(procedure="acte_naissance", appointment_date="2030-01-07", appointment_slot="2030-01-07T08:00:00+00:00",
                 citizen_name="Camille Martin", citizen_email="camille@example.org")
    events, _ = await booking("non, je veux changer le jour", "booking_confirmed", intent="deny", **slots)
    changed = slot_events(events)
    assert changed["appointment_date"] is None and changed["requested_slot"] == "appointment_date"


def test_days_and_parts_of_the_day():
    from townhall.booking.preferences import names_a_day, preferred_time

    for text in ("non, plutôt jeudi", "le 24", "jeudi en huit", "dans 15 jours", "après les vacances", "le 3 janvier"):
        assert names_a_day(text), text
    for text in ("plutôt en fin de matinée", "l'après-midi", "Zoé Dubois", "c'est où la mairie ?"):
        assert not names_a_day(text), text
    assert preferred_time("plutôt en fin de matinée").hour == 11
    assert preferred_time("en fin d'après-midi").strftime("%H:%M") == "16:30"
    assert preferred_time("l'après-midi").strftime("%H:%M") == "14:30"
    assert preferred_time("vers midi").hour == 12


@pytest.mark.parametrize("requested", ["citizen_email", "citizen_phone"])
async def test_a_phone_the_nlu_already_put_in_citizen_phone_is_validated(commune, requested):
    """The NLU's phone entity fills citizen_phone before the form runs (from_entity mapping): the
    form must still read and normalise it, not reject the turn."""
    phone = "06 71 23 45 89"
    slots = dict(procedure="acte_naissance", appointment_date="2030-01-07", appointment_slot="2030-01-07T08:00:00+00:00",
                 citizen_name="Émilie Durand", citizen_phone=phone, booking_no_email=requested == "citizen_phone" or None)
    t = tracker(phone, intent="inform", entities=[entity("phone", phone)], slots=slots, active_loop="booking_form",
                requested_slot=requested)
    t.events += [{"event": "slot", "name": "citizen_phone", "value": phone},  # action_extract_slots
                 {"event": "slot", "name": "requested_slot", "value": requested},
                 {"event": "action", "name": "booking_form"}]
    events, _ = await run(ValidateBookingForm(), t)
    changed = slot_events(events)
    assert changed["citizen_phone"] == "+33671234589"
    assert changed["requested_slot"] == "booking_confirmed"
    assert not any(e.get("event") == "action_execution_rejected" for e in events)


@pytest.mark.parametrize("text, size", [
    ("deux personnes", 2), ("nous serons trois", 3), ("une", 1), ("on est 2", 2), ("moi seul", 1),
    ("dix", 10), ("rien", None),
])
def test_party_size_in_words_through_duckling(text, size):
    from actions.booking import parse_party_size

    assert parse_party_size(text) == size
