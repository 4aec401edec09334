"""Whole conversations over REST with values the model never saw (issue 13, item 6).

ANTS codes, names with accents, hyphens and particles, streets of the demo commune, dates
phrased as citizens phrase them ("jeudi en huit", "le 24", "mardi prochain", "après les
vacances", "plutôt en fin de matinée"), corrections mid-form ("non, plutôt jeudi"),
questions in the middle of a form, stops, a greeting before the question, emergencies.

What is asserted is what the citizen gets: the reference verbatim in the confirmation, the row
the staff see through the staff JSON API (or the database), the form that asks the right thing
next (``requested_slot``), never the exact wording. One stack (demo data) for the module; needs
a trained model (``TEST_RASA_MODEL`` or the newest ``models/*.tar.gz``), skipped without one
unless ``CI`` is set.
"""
from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text

from tests.e2e.conversations import (
    FRIDAY, REPORT_REFERENCE, THURSDAY, TUESDAY, Conversation, bookable_weekday, days_of,
    local_start, next_day_of_month, next_weekday, staff_get, today, weekday_in_a_week,
)
from tests.e2e.stack import Stack, newest_model

pytestmark = pytest.mark.rasa

STAFF_TOKEN = "e2e-unseen-conversations-staff-token"
EMERGENCY_NUMBER = re.compile(r"\b112\b")  # always given, with 18 / 15 / 17 as fits


@pytest.fixture(scope="module")
def stack():
    model = newest_model()
    if model is None or not model.exists():
        if os.environ.get("CI"):
            pytest.fail("no trained model: scripts/test.sh trains one before pytest")
        pytest.skip("no trained model")
    with Stack(model=model, demo_data=True, env={"STAFF_API_TOKEN": STAFF_TOKEN}) as running:
        yield running


def appointment(stack, reference: str) -> dict:
    return staff_get(stack, f"/api/appointments/{reference}", STAFF_TOKEN)


def incident(stack, reference: str) -> dict:
    return staff_get(stack, f"/api/incidents/{reference}", STAFF_TOKEN)


def rows(stack, sql: str, **params) -> list:
    engine = create_engine(stack.database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql), params).fetchall()
    finally:
        engine.dispose()


def expect_day(conversation: Conversation, expected: set, words: str) -> None:
    """The form's appointment_date (ISO day) is one of ``expected`` right after ``words``."""
    day = (conversation.slot("appointment_date") or "")[:10]
    conversation.check(day in {d.isoformat() for d in expected},
                       f"« {words} » gave the day {day!r}, expected one of {days_of(expected)}")


def finish_booking(conversation: Conversation, name: str, contact: str) -> str:
    """Name, e-mail or phone, confirmation; returns the reference of the confirmation."""
    conversation.fill(
        {
            "appointment_slot": Conversation.pick_time,
            "citizen_name": name,
            "citizen_email": contact,
            "citizen_phone": contact,
            "booking_confirmed": "oui je confirme",
        },
        form="booking_form",
    )
    return conversation.reference()


def book(stack, name: str, email: str) -> str:
    """A plain booking (identity card, no ANTS number yet, the first day and time offered)."""
    conversation = Conversation(stack)
    conversation.say("je voudrais un rendez-vous pour une carte d'identité")
    conversation.fill(
        {
            "ants_predemande": "non je n'en ai pas encore",
            "party_size": "1",
            "appointment_date": "mardi prochain",
            "appointment_slot": Conversation.pick_time,
            "citizen_name": name,
            "citizen_email": email,
            "booking_confirmed": "oui",
        },
        form="booking_form",
    )
    return conversation.reference()


# --------------------------------------------------------------------------- bookings

def test_greeting_then_passport_with_an_unseen_ants_code_and_jeudi_en_huit(stack):
    conversation = Conversation(stack)
    conversation.say("Bonjour")
    conversation.check(conversation.text, "no answer to the greeting")
    conversation.say("je voudrais prendre rendez-vous pour refaire mon passeport")
    conversation.expect_asked("ants_predemande", "booking_form")
    conversation.say("9XK2LM4PQ8")
    conversation.expect_asked("party_size")
    conversation.say("juste moi")
    conversation.expect_asked("appointment_date")
    conversation.say("jeudi en huit")
    conversation.expect_asked("appointment_slot")
    expect_day(conversation, weekday_in_a_week(THURSDAY), "jeudi en huit")
    reference = finish_booking(conversation, "Hélène Lefèvre-Dupont", "helene.lefevre-dupont@example.org")
    booked = appointment(stack, reference)
    conversation.check(booked["procedure"] == "passeport", f"procedure {booked['procedure']}")
    conversation.check(booked["ants_numbers"] == ["9XK2LM4PQ8"], f"ANTS {booked['ants_numbers']}")
    conversation.check(booked["citizen_name"] == "Hélène Lefèvre-Dupont", f"name {booked['citizen_name']!r}")
    expected = weekday_in_a_week(THURSDAY)
    conversation.check(local_start(booked).date() in expected,
                       f"booked {local_start(booked).date()}, expected one of {days_of(expected)}")


def test_ants_code_in_a_sentence_lower_case_with_a_space_and_mardi_prochain(stack):
    conversation = Conversation(stack)
    conversation.say("il me faudrait un rdv pour une carte d'identité svp")
    conversation.expect_asked("ants_predemande", "booking_form")
    conversation.say("Mon numéro de pré-demande est qw3er 5ty7u")
    conversation.expect_asked("party_size")
    conversation.say("1")
    conversation.say("mardi prochain")
    conversation.expect_asked("appointment_slot")
    expect_day(conversation, {next_weekday(TUESDAY), next_weekday(TUESDAY) + timedelta(days=7)}, "mardi prochain")
    reference = finish_booking(conversation, "Jean-Baptiste N'Diaye", "jb.ndiaye@example.org")
    booked = appointment(stack, reference)
    conversation.check(booked["ants_numbers"] == ["QW3ER5TY7U"], f"ANTS {booked['ants_numbers']}")
    conversation.check(booked["citizen_name"] == "Jean-Baptiste N'Diaye", f"name {booked['citizen_name']!r}")
    expected = {next_weekday(TUESDAY), next_weekday(TUESDAY) + timedelta(days=7)}
    conversation.check(local_start(booked).date() in expected,
                       f"booked {local_start(booked).date()}, expected one of {days_of(expected)}")


def test_le_24_and_plutot_en_fin_de_matinee(stack):
    conversation = Conversation(stack)
    conversation.say("je veux un rendez-vous pour un passeport")
    conversation.expect_asked("ants_predemande")
    conversation.say("ZP4K7M2QX9")
    conversation.say("une personne")
    conversation.expect_asked("appointment_date")
    conversation.say("le 24")
    the_24th = next_day_of_month(24)
    if not bookable_weekday(the_24th):  # the assistant offers other days: take the first one
        conversation.expect_asked("appointment_date")
        conversation.check(conversation.buttons(), f"{the_24th} is not bookable and no other day is offered")
        conversation.say(conversation.buttons()[0]["payload"])
    conversation.expect_asked("appointment_slot")
    conversation.say("plutôt en fin de matinée")
    if bookable_weekday(the_24th):
        day = conversation.slot("appointment_date") or ""
        conversation.check(day[:10] == the_24th.isoformat(), f"the day became {day!r} after « plutôt en fin de matinée »")
    asked = conversation.form()[1]
    if asked == "appointment_slot":  # late-morning times offered as buttons
        conversation.pick_time(lambda hour, minute: 10 * 60 + 30 <= hour * 60 + minute < 12 * 60)
    reference = finish_booking(conversation, "Maël Le Guen", "mael.leguen@example.org")
    start = local_start(appointment(stack, reference))
    if bookable_weekday(the_24th):
        conversation.check(start.date() == the_24th, f"booked {start.date()}, expected {the_24th}")
    conversation.check(10 * 60 + 30 <= start.hour * 60 + start.minute < 12 * 60,
                       f"booked at {start:%H:%M}, not at the end of the morning")


def test_the_day_corrected_while_the_time_is_asked(stack):
    conversation = Conversation(stack)
    conversation.say("un rdv pour une carte d'identité")
    conversation.say("pas encore")  # no ANTS number yet
    conversation.expect_asked("party_size")
    conversation.say("1")
    conversation.say("mardi prochain")
    conversation.expect_asked("appointment_slot")
    conversation.say("non, plutôt jeudi")
    conversation.expect_asked("appointment_slot")
    day = conversation.slot("appointment_date") or ""
    thursdays = {next_weekday(THURSDAY).isoformat(), next_weekday(THURSDAY, include_today=True).isoformat()}
    conversation.check(day[:10] in thursdays, f"the day is {day!r} after « non, plutôt jeudi »")
    reference = finish_booking(conversation, "Zoé Dubois-Martinez", "zoe.dubois@example.org")
    conversation.check(local_start(appointment(stack, reference)).weekday() == THURSDAY, "not booked on a Thursday")


def test_the_day_changed_at_the_recap(stack):
    conversation = Conversation(stack)
    conversation.say("Bonjour, je souhaiterais un rendez-vous pour un passeport s'il vous plaît")
    conversation.say("RT8UV2WX4Y")
    conversation.say("1")
    conversation.say("jeudi en huit")
    conversation.pick_time()
    conversation.expect_asked("citizen_name")
    conversation.say("Éloïse de La Fontaine")
    conversation.say("eloise.delafontaine@example.org")
    conversation.expect_asked("booking_confirmed")
    conversation.say("non, je veux changer le jour")
    if conversation.form()[1] == "booking_confirmed":  # "what do you want to change?"
        conversation.click("le jour")
    conversation.expect_asked("appointment_date")
    conversation.say("plutôt vendredi")
    conversation.expect_asked("appointment_slot")
    conversation.pick_time()
    conversation.expect_asked("booking_confirmed")
    conversation.say("oui")
    booked = appointment(stack, conversation.reference())
    conversation.check(local_start(booked).weekday() == FRIDAY, f"booked {booked['start']}, not a Friday")
    conversation.check(booked["citizen_name"] == "Éloïse de La Fontaine", f"name {booked['citizen_name']!r}")


def test_a_question_in_the_middle_of_the_booking_then_a_phone_number_alone(stack):
    conversation = Conversation(stack)
    conversation.say("je voudrais un rendez-vous pour une carte d'identité")
    conversation.say("non")
    conversation.say("2")
    conversation.expect_asked("appointment_date")
    conversation.say("c'est où la mairie exactement ?")
    conversation.check("mairie" in conversation.text.lower(), "the address question got no answer")
    conversation.expect_asked("appointment_date")  # the form resumes
    conversation.say("mardi prochain")
    conversation.pick_time()
    conversation.expect_asked("citizen_name")
    conversation.say("quels papiers je dois apporter ?")
    conversation.expect_asked("citizen_name")  # not a name
    conversation.say("Jérôme Achour")
    conversation.expect_asked("citizen_email")
    conversation.say("06 71 23 45 89")
    conversation.expect_asked("booking_confirmed")
    conversation.say("/affirm")
    booked = appointment(stack, conversation.reference())
    conversation.check(booked["citizen_phone"] == "+33671234589", f"phone {booked['citizen_phone']!r}")
    conversation.check(booked["party_size"] == 2, f"party size {booked['party_size']}")
    conversation.check(booked["citizen_name"] == "Jérôme Achour", f"name {booked['citizen_name']!r}")


def test_apres_les_vacances_is_not_booked_on_a_guess(stack):
    conversation = Conversation(stack)
    conversation.say("je voudrais un rdv pour un passeport")
    conversation.say("KD5M8P3RT6")
    conversation.say("1")
    conversation.expect_asked("appointment_date")
    conversation.say("après les vacances")
    active, asked = conversation.form()
    conversation.check(active == "booking_form", "the booking stopped at « après les vacances »")
    if asked == "appointment_slot":  # a day was chosen: it must be after today
        day = conversation.slot("appointment_date")
        conversation.check(day and day[:10] > today().isoformat(), f"day {day}")
    else:
        conversation.expect_asked("appointment_date")
        conversation.say("le lundi d'après, le 4 janvier")  # the citizen names a day
        conversation.expect_asked("appointment_slot")


def test_laissez_tomber_stops_the_booking_and_nothing_is_booked(stack):
    conversation = Conversation(stack)
    name = "Noémie Fournier-Caillaud"
    conversation.say("je veux prendre rendez-vous pour une carte d'identité")
    conversation.say("non")
    conversation.say("1")
    conversation.expect_asked("appointment_date")
    conversation.say("laissez tomber")
    if conversation.form()[0] is not None:  # "do you want to stop?"
        conversation.say("oui")
    conversation.expect_no_form()
    conversation.check(not rows(stack, "SELECT id FROM booking_appointments WHERE citizen_name = :name", name=name),
                       "an appointment was booked")
    conversation.say("merci")
    conversation.expect_no_form()


# --------------------------------------------------------------------------- reports

def test_report_in_a_street_with_an_accent_after_a_greeting(stack):
    conversation = Conversation(stack)
    conversation.say("Bonjour")
    conversation.say("le lampadaire est éteint depuis trois jours rue des Écoles")
    conversation.check(conversation.form()[0] == "incident_form", "no report form")
    conversation.fill(
        {
            "incident_category": "éclairage",
            "incident_location": "devant le 8 rue des Écoles",
            "incident_description": "Le lampadaire devant le numéro 8 ne s'allume plus la nuit.",
            "incident_photo": "non",
            "citizen_email": "jb.nguyen@example.org",
        },
        form="incident_form",
    )
    if not REPORT_REFERENCE.search(conversation.text):
        conversation.say("oui c'est bien ça")
    filed = incident(stack, conversation.reference(REPORT_REFERENCE))
    conversation.check(filed["service_code"] == "eclairage", f"category {filed['service_code']}")
    conversation.check("écoles" in (filed["address"] or "").lower(), f"address {filed['address']!r}")
    conversation.check(filed["reporter"]["email"] == "jb.nguyen@example.org", "reporter e-mail")


def test_a_gps_position_typed_at_the_place_question(stack):
    conversation = Conversation(stack)
    conversation.say("je voudrais signaler un tag sur un mur")
    conversation.fill(
        {
            "incident_category": "graffiti",
            "incident_location": "47.2325, -1.5748",
            "incident_description": "Un grand tag noir sur le mur du gymnase.",
            "incident_photo": "pas de photo",
            "citizen_email": "non merci",
        },
        form="incident_form",
    )
    if not REPORT_REFERENCE.search(conversation.text):
        conversation.say("oui")
    filed = incident(stack, conversation.reference(REPORT_REFERENCE))
    conversation.check(filed["lat"] is not None and abs(filed["lat"] - 47.2325) < 1e-3, f"lat {filed['lat']}")
    conversation.check(filed["long"] is not None and abs(filed["long"] + 1.5748) < 1e-3, f"long {filed['long']}")


def test_a_question_during_the_report_is_not_the_description(stack):
    conversation = Conversation(stack)
    conversation.say("il y a un dépôt sauvage au bout du chemin des Vignes")
    conversation.fill({"incident_category": "dépôt sauvage", "incident_location": "chemin des Vignes"},
                      form="incident_form", until="incident_description", max_turns=3)
    conversation.expect_asked("incident_description", "incident_form")
    question = "la déchèterie est ouverte samedi ?"
    conversation.say(question)
    conversation.check("déchèterie" in conversation.text.lower() or "decheterie" in conversation.text.lower(),
                       "the question got no answer")
    conversation.expect_asked("incident_description")  # the form resumes
    description = "Des sacs de gravats et un vieux matelas au bord du fossé."
    conversation.say(description)
    conversation.fill({"incident_photo": "non", "citizen_email": "non"}, form="incident_form")
    if not REPORT_REFERENCE.search(conversation.text):
        conversation.say("oui")
    filed = incident(stack, conversation.reference(REPORT_REFERENCE))
    conversation.check(filed["description"] == description, f"description {filed['description']!r}")


def test_the_place_of_a_report_corrected_mid_form(stack):
    conversation = Conversation(stack)
    conversation.say("un graffiti sur le mur de l'école rue Jules Ferry")
    conversation.expect_asked("incident_description", "incident_form")
    conversation.say("pardon je me suis trompé, c'est rue du Stade")
    conversation.expect_asked("incident_description")
    conversation.check("stade" in (conversation.slot("incident_location") or "").lower(),
                       f"location {conversation.slot('incident_location')!r}")
    conversation.say("Un grand tag noir sur le mur du gymnase.")
    conversation.fill({"incident_photo": "non", "citizen_email": "non"}, form="incident_form")
    if not REPORT_REFERENCE.search(conversation.text):
        conversation.say("oui")
    filed = incident(stack, conversation.reference(REPORT_REFERENCE))
    conversation.check("stade" in (filed["address"] or "").lower(), f"address {filed['address']!r}")


def test_laissez_tomber_in_the_report_form_files_nothing(stack):
    conversation = Conversation(stack)
    conversation.say("je veux signaler un banc cassé place de l'Église")
    conversation.check(conversation.form()[0] == "incident_form", "no report form")
    conversation.say("finalement laissez tomber")
    if conversation.form()[0] is not None:
        conversation.say("oui")
    conversation.expect_no_form()
    conversation.check(not REPORT_REFERENCE.search(conversation.said_since(0)), "a report was filed")


# --------------------------------------------------------------------------- cancel and move

def test_cancel_with_the_reference_typed_in_lower_case_without_dash(stack):
    reference = book(stack, "Gaëlle Rousseau", "gaelle.rousseau@example.org")
    conversation = Conversation(stack)
    conversation.say(f"Bonjour, je voudrais annuler mon rendez-vous {reference.lower().replace('-', ' ')}")
    conversation.fill({"reference": reference.lower().replace("-", ""), "citizen_email": "gaelle.rousseau@example.org"},
                      form="cancel_appointment_form")
    conversation.check(reference in conversation.text, "the cancellation does not give the reference")
    status = appointment(stack, reference)["status"]
    conversation.check(status.startswith("cancelled"), f"the appointment's status is {status}")


def test_move_an_appointment_with_a_correction_of_the_day(stack):
    reference = book(stack, "Côme Lefebvre", "come.lefebvre@example.org")
    conversation = Conversation(stack)
    conversation.say("je voudrais déplacer mon rendez-vous")
    conversation.expect_asked("reference", "reschedule_appointment_form")
    conversation.say(reference)
    conversation.expect_asked("citizen_email")
    conversation.say("come.lefebvre@example.org")
    conversation.expect_asked("appointment_date")
    conversation.say("jeudi en huit")
    conversation.expect_asked("appointment_slot")
    expect_day(conversation, weekday_in_a_week(THURSDAY), "jeudi en huit")
    conversation.say("non, plutôt vendredi")
    conversation.expect_asked("appointment_slot")
    conversation.pick_time()
    conversation.expect_no_form()
    moved = appointment(stack, reference)
    conversation.check(local_start(moved).weekday() == FRIDAY, f"moved to {moved['start']}, not a Friday")
    conversation.check(reference in conversation.text, "the confirmation does not give the reference")


# --------------------------------------------------------------------------- information

def test_bonsoir_and_a_question_answers_the_question(stack):
    conversation = Conversation(stack)
    conversation.say("Bonsoir, la piscine est ouverte demain ?")
    answer = conversation.text.lower()
    conversation.check("piscine" in answer, "the question on the pool got no answer")
    conversation.check("supprimez mes données" in answer or "données" in answer,
                       "no privacy notice on the first message")


def test_a_street_alone_answers_the_waste_question(stack):
    conversation = Conversation(stack)
    conversation.say("quand passent les encombrants ?")
    conversation.say("rue Jules Ferry")
    conversation.expect_no_form()  # not a report
    conversation.check("encombrant" in conversation.text.lower(), "the street got no collection dates")


def test_two_requests_in_one_message_answer_the_first(stack):
    # The channel hands each request to Rasa in turn (townhall/splitting.py).
    conversation = Conversation(stack)
    conversation.say("je voudrais les horaires de la médiathèque et aussi prendre un rdv pour un passeport")
    conversation.check("médiathèque" in conversation.text.lower() or "mediatheque" in conversation.text.lower(),
                       "the first request (the library's hours) got no answer")


# --------------------------------------------------------------------------- emergencies

def test_an_emergency_in_the_middle_of_a_booking(stack):
    conversation = Conversation(stack)
    conversation.say("je voudrais un rendez-vous pour un passeport")
    conversation.expect_asked("ants_predemande")
    conversation.say("au secours ça sent le gaz très fort dans la cage d'escalier")
    conversation.check(EMERGENCY_NUMBER.search(conversation.text), "no emergency number")
    conversation.expect_no_form()


def test_an_emergency_outside_a_form(stack):
    conversation = Conversation(stack)
    conversation.say("un homme est allongé par terre et ne bouge plus rue du Marché")
    conversation.check(EMERGENCY_NUMBER.search(conversation.text), "no emergency number")
    conversation.expect_no_form()


def test_an_emergency_revealed_in_the_report_form_is_not_a_street(stack):
    conversation = Conversation(stack)
    conversation.say("je voudrais signaler un problème de voirie")
    conversation.check(conversation.form()[0] == "incident_form", "no report form")
    conversation.fill({"incident_category": "voirie"}, form="incident_form", until="incident_location", max_turns=2)
    conversation.expect_asked("incident_location")
    conversation.say("attendez, il y a de la fumée qui sort de l'immeuble d'en face, je crois que c'est un incendie")
    conversation.check(EMERGENCY_NUMBER.search(conversation.text), "no emergency number")
    conversation.expect_no_form()
    conversation.check(not REPORT_REFERENCE.search(conversation.said_since(0)), "a report was filed")
