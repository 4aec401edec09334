"""Knowledge-base answers answer what was asked: the day, the facility, the town, the street."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk.events import FollowupAction

from actions import info
from tests.trackers import entity, run, said, tracker
from townhall import db
from townhall.knowledge import loader

NOW = datetime(2026, 6, 5, 10, tzinfo=ZoneInfo("Europe/Paris"))  # a Friday, 10:00


@pytest.fixture(autouse=True)
def demo(db_url, monkeypatch):
    with db.unit_of_work(db_url) as session:
        loader.load_demo(session, NOW.date())
    monkeypatch.setattr(info, "current_time", lambda: NOW)


async def hours_answer(text, facility, date_text=None):
    entities = [entity("facility", facility)] + ([entity("date", date_text)] if date_text else [])
    _, d = await run(info.ActionAnswerOpeningHours(), tracker(text, "ask_opening_hours", entities))
    return said(d)


async def test_no_day_named_gives_the_week_today_and_the_next_holiday():
    texts = await hours_answer("quels sont les horaires de la mairie", "mairie")
    assert texts[0] == "La mairie est ouverte en ce moment, jusqu'à 12 h."
    assert texts[1] == ("Horaires habituels de la mairie :\n- du lundi au vendredi : de 8 h 30 à 12 h et de 13 h 30 "
                        "à 17 h 30\n- samedi : de 9 h à 12 h\n- dimanche : fermée")
    assert texts[2] == "Prochain jour férié : Fête nationale, le mardi 14 juillet ; la mairie est fermée ce jour-là."


@pytest.mark.parametrize("text, date_text, expected", [
    ("la piscine dimanche matin ?", "dimanche matin", "Dimanche 7 juin au matin, la piscine est ouverte de 9 h à 13 h."),
    ("la mairie à Noël ?", None, "Vendredi 25 décembre, la mairie est fermée : jour férié (Noël)."),
    ("la mairie le 24 décembre", "le 24 décembre", "Jeudi 24 décembre, la mairie est ouverte de 8 h 30 à 12 h."),
    ("le ccas mardi", "mardi", "Mardi 9 juin, le CCAS est ouvert de 9 h à 12 h et de 14 h à 17 h."),
])
async def test_the_day_asked_is_answered(text, date_text, expected):
    code = "piscine" if "piscine" in text else "ccas" if "ccas" in text else "mairie"
    assert (await hours_answer(text, code, date_text))[0] == expected


async def test_school_holidays_are_not_invented():
    texts = await hours_answer("la piscine pendant les vacances", "piscine", "pendant les vacances")
    assert texts[0].startswith("Je n'ai pas le calendrier des vacances scolaires.")
    assert any(t.startswith("Horaires habituels de la piscine :") for t in texts)


@pytest.mark.parametrize("action, intent", [(info.ActionAnswerOpeningHours(), "ask_opening_hours"),
                                            (info.ActionAnswerAddress(), "ask_address")])
async def test_another_town_gets_no_hours_of_this_one(action, intent):
    _, d = await run(action, tracker("horaires de la mairie de Lyon", intent, [entity("facility", "mairie")]))
    assert said(d) == [
        "Je ne peux vous renseigner que sur les services de la commune de Villeneuve-sur-Loire. Pour la mairie de "
        "Lyon, consultez l'annuaire de l'administration sur service-public.fr : https://lannuaire.service-public.fr "
        "(horaires, adresse et contact de chaque mairie), ou le site de cette commune."]
    _, d = await run(action, tracker("la mairie de Villeneuve", intent, [entity("facility", "mairie")]))
    assert not any("annuaire" in text for text in said(d))


async def test_procedure_delay_question_gets_the_delay_first():
    t = tracker("combien de temps pour avoir mon passeport", "ask_procedure", [entity("procedure", "passeport")])
    _, d = await run(info.ActionAnswerProcedure(), t)
    assert said(d)[0] == "Délai pour la démarche « passeport » : 3 à 6 semaines selon la période, après le rendez-vous."


async def test_waste_agreement_singular_and_plural():
    t = tracker("le verre rue Pasteur", "ask_waste_collection", [entity("waste_type", "verre"), entity("address", "rue Pasteur")])
    _, d = await run(info.ActionAnswerWasteCollection(), t)
    assert said(d)[0].startswith("Rue Pasteur (secteur Centre) : le verre est collecté le mercredi 10 juin")


async def test_street_alone_after_the_waste_question_answers_it_and_a_report_opens_the_form():
    asked = {"info_topic": "waste_collection", "waste_street_requested": True, "waste_type": "encombrants"}
    t = tracker("rue Pasteur", "report_incident", [entity("address", "rue Pasteur")], slots=asked)
    _, d = await run(info.ActionAnswerWasteCollection(), t)
    assert said(d)[0].startswith("Rue Pasteur (secteur Centre) : les encombrants sont collectés le mardi 7 juillet")
    t = tracker("un lampadaire éteint rue Pasteur", "report_incident", [entity("address", "rue Pasteur")], slots=asked)
    events, d = await run(info.ActionAnswerWasteCollection(), t)
    assert said(d) == [] and events[-1] == FollowupAction("incident_form")
