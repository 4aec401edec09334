"""Information actions on real trackers against a real database (SQLite and PostgreSQL), frozen clock."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk.events import SlotSet

from actions import info
from tests.trackers import entity, run, said, tracker
from townhall import db
from townhall.knowledge import alerts, hours, loader

NOW = datetime(2026, 6, 5, 10, tzinfo=ZoneInfo("Europe/Paris"))  # a Friday, 10:00


pytestmark = pytest.mark.parametrize("clock", [NOW.isoformat()], indirect=True)


@pytest.fixture(autouse=True)
def demo(clock, db_url):
    with db.unit_of_work(db_url) as session:
        loader.load_demo(session, NOW.date())
    return db_url


def slots(**values) -> list[dict]:
    return [SlotSet(k, v) for k, v in values.items()]


async def test_pool_on_sunday():
    t = tracker("la piscine est ouverte dimanche ?", "ask_opening_hours", [entity("facility", "piscine"), entity("date", "dimanche")])
    events, d = await run(info.ActionAnswerOpeningHours(), t)
    assert said(d) == ["Dimanche 7 juin, la piscine est ouverte de 9 h à 13 h."]
    assert events == slots(facility="piscine", info_topic="opening_hours", info_date="dimanche")


async def test_follow_up_and_saturday_keeps_the_facility():
    t = tracker("et le samedi ?", "inform", [entity("date", "samedi")], slots={"facility": "piscine", "info_topic": "opening_hours"})
    events, d = await run(info.ActionAnswerOpeningHours(), t)
    assert said(d) == ["Demain (samedi 6 juin), la piscine est ouverte de 10 h à 18 h."]
    assert events == slots(facility="piscine", info_topic="opening_hours", info_date="samedi")


async def test_follow_up_other_facility_keeps_the_day():
    t = tracker("et la mairie ?", "inform", [entity("facility", "mairie")], slots={"facility": "piscine", "info_date": "dimanche"})
    events, d = await run(info.ActionAnswerOpeningHours(), t)
    assert said(d) == ["Dimanche 7 juin, la mairie est fermée."]


async def test_missing_facility_asks_which_one_with_buttons():
    events, d = await run(info.ActionAnswerOpeningHours(), tracker("c'est ouvert ?", "ask_opening_hours"))
    assert said(d) == ["utter_ask_which_facility"]
    assert events == slots(info_topic="opening_hours", info_date=None)


async def test_now_open_and_closed_with_closure_and_alert():
    _, d = await run(info.ActionAnswerOpeningHours(), tracker("c'est ouvert là ?", "ask_opening_hours", slots={"facility": "mairie"}))
    assert said(d) == ["La mairie est ouverte en ce moment, jusqu'à 12 h."]
    _, d = await run(info.ActionAnswerOpeningHours(), tracker("médiathèque ouverte ?", "ask_opening_hours", [entity("facility", "mediatheque")]))
    assert said(d) == [
        "La médiathèque est fermée en ce moment. Réouverture aujourd'hui à 14 h.",
        "Horaires habituels de la médiathèque :\n- mardi, jeudi et vendredi : de 14 h à 18 h 30\n"
        "- mercredi et samedi : de 10 h à 12 h 30 et de 14 h à 18 h\n- lundi et dimanche : fermée",
        "Cette semaine, attention :\n- Mardi 9 juin, la médiathèque est fermée : fermeture pour l'inventaire annuel.",
        "Prochain jour férié : Fête nationale, le mardi 14 juillet ; la médiathèque est fermée ce jour-là.",
        "À noter : Fermeture : Parking de la médiathèque fermé (jusqu'au samedi 13 juin inclus). Le parking est fermé "
        "pour travaux d'éclairage. Stationnement possible place de la Mairie.",
    ]


async def test_holiday_weekend_and_time():
    _, d = await run(info.ActionAnswerOpeningHours(), tracker("mairie 14 juillet", "ask_opening_hours", [entity("facility", "mairie"), entity("date", "le 14 juillet")]))
    assert said(d) == ["Mardi 14 juillet, la mairie est fermée : jour férié (Fête nationale)."]
    _, d = await run(info.ActionAnswerOpeningHours(), tracker("piscine ce week-end", "ask_opening_hours", [entity("facility", "piscine"), entity("date", "ce week-end")]))
    assert said(d) == ["Demain (samedi 6 juin), la piscine est ouverte de 10 h à 18 h.\nDimanche 7 juin, la piscine est ouverte de 9 h à 13 h."]
    _, d = await run(info.ActionAnswerOpeningHours(), tracker("piscine demain 19h", "ask_opening_hours", [entity("facility", "piscine"), entity("date", "demain à 19h")]))
    assert said(d) == ["Demain (samedi 6 juin) à 19 h, la piscine est fermée. Réouverture dimanche 7 juin à 9 h."]


async def test_staff_change_takes_effect_immediately(demo):
    with db.unit_of_work(demo) as session:
        hours.add_closure(session, "mairie", NOW.date(), None, "journée de formation du personnel")
    _, d = await run(info.ActionAnswerOpeningHours(), tracker("mairie ouverte ?", "ask_opening_hours", [entity("facility", "mairie")]))
    assert said(d)[0] == "La mairie est fermée en ce moment : journée de formation du personnel. Réouverture demain à 9 h."
    assert "- Aujourd'hui (vendredi 5 juin), la mairie est fermée : journée de formation du personnel." in said(d)[2]


async def test_bad_date_is_explained():
    _, d = await run(info.ActionAnswerOpeningHours(), tracker("piscine 31 février", "ask_opening_hours", [entity("facility", "piscine"), entity("date", "le 31 février")]))
    assert said(d)[0] == "Cette date n'existe pas dans le calendrier. Voici les horaires habituels."


async def test_address_and_contact():
    events, d = await run(info.ActionAnswerAddress(), tracker("où est la piscine", "ask_address", [entity("facility", "piscine")]))
    assert said(d) == [
        "Piscine municipale Les Ondines : 12 avenue Jean Jaurès, 44850 Villeneuve-sur-Loire.\n"
        "Plan : https://www.openstreetmap.org/?mlat=47.23105&mlon=-1.56890#map=18/47.23105/-1.56890",
        "Accessibilité : Bassin équipé d'un siège de mise à l'eau, vestiaire adapté, parking réservé.",
    ]
    assert events == slots(facility="piscine", info_topic="address")
    events, d = await run(info.ActionAnswerContact(), tracker("numéro du ccas", "ask_contact", [entity("facility", "ccas")]))
    assert said(d)[:2] == [
        "Vous pouvez joindre le CCAS au 02 40 12 34 40 ou par e-mail à ccas@villeneuve-sur-loire.fr.",
        "Le CCAS est ouvert en ce moment, jusqu'à 12 h.",
    ]
    events, d = await run(info.ActionAnswerContact(), tracker("le numéro svp", "ask_contact"))
    assert said(d) == ["utter_ask_which_facility"] and events == slots(info_topic="contact")


async def test_procedure_with_appointment_offers_booking():
    events, d = await run(info.ActionAnswerProcedure(), tracker("papiers passeport", "ask_procedure", [entity("procedure", "passeport")]))
    texts = said(d)
    assert texts[0].startswith("Démarche « passeport » : voici ce qu'il faut fournir.\n- ")
    assert "Coût : 86 €" in texts[1]
    assert texts[3] == "La fiche officielle sur service-public.fr : https://www.service-public.fr/particuliers/vosdroits/F14929"
    assert [b["payload"] for b in d.messages[-1]["buttons"]] == ['/book_appointment{"procedure":"passeport"}', "/deny"]
    assert events == slots(procedure="passeport", info_topic="procedure")
    _, d = await run(info.ActionAnswerProcedure(), tracker("acte de naissance", "ask_procedure", [entity("procedure", "acte_naissance")]))
    assert not any(m.get("buttons") for m in d.messages)
    events, d = await run(info.ActionAnswerProcedure(), tracker("une démarche", "ask_procedure"))
    assert said(d) == ["utter_ask_which_procedure"] and events == slots(info_topic="procedure")


async def test_waste_asks_for_the_street_then_answers():
    events, d = await run(info.ActionAnswerWasteCollection(), tracker("encombrants ?", "ask_waste_collection", [entity("waste_type", "encombrants")]))
    assert said(d) == ["utter_ask_street"]
    assert events == slots(info_topic="waste_collection", waste_type="encombrants", waste_street_requested=True)
    t = tracker("rue Pasteur", "inform", [entity("address", "rue Pasteur")], slots={"waste_type": "encombrants", "info_topic": "waste_collection"})
    events, d = await run(info.ActionAnswerWasteCollection(), t)
    assert said(d) == [
        "Rue Pasteur (secteur Centre) : les encombrants sont collectés le mardi 7 juillet, puis le mardi 4 août.\n"
        "Sur inscription au 02 40 12 34 60 au plus tard la veille. 3 objets maximum.",
        "À noter : Coupure d'eau rue Pasteur (le mardi 9 juin de 8 h à 12 h). Remplacement d'une "
        "canalisation. L'eau sera coupée de 8 h à 12 h.",
    ]
    assert events == slots(info_topic="waste_collection", waste_type="encombrants", waste_street_requested=False,
                           street="rue Pasteur")


async def test_waste_all_types_with_a_typo():
    events, d = await run(info.ActionAnswerWasteCollection(), tracker("poubelles 4 av jean jaures", "ask_waste_collection", [entity("address", "4 av jean jaures")]))
    assert said(d)[0].startswith("Prochaines collectes, avenue Jean Jaurès (secteur Nord) :\n- ordures ménagères : mardi 9 juin puis vendredi 12 juin")
    assert events[-1] == SlotSet("street", "avenue Jean Jaurès")


@pytest.mark.parametrize("typed", ["rue de Rivoli", "<script>alert(1)</script>", "x" * 10000, "🙂"])
async def test_unknown_street_offers_the_sectors(typed):
    t = tracker(typed, "inform", [entity("address", typed)], slots={"info_topic": "waste_collection"})
    events, d = await run(info.ActionAnswerWasteCollection(), t)
    assert said(d)[0].startswith("Je ne trouve pas « ")
    assert [b["payload"] for b in d.messages[1]["buttons"]] == [f'/inform{{"address":"secteur {s}"}}' for s in ("Centre", "Est", "Nord", "Sud")]
    assert events[-1] == SlotSet("street", None)
    events, d = await run(info.ActionAnswerWasteCollection(), tracker("secteur Nord", "inform", [entity("address", "secteur Nord")]))
    assert said(d)[0].startswith("Prochaines collectes, secteur Nord :")


async def test_alerts(demo):
    events, d = await run(info.ActionAnswerAlerts(), tracker("des travaux ?", "ask_alerts"))
    assert said(d)[0].startswith("Alertes en cours et à venir :\n- Travaux : Réfection de la chaussée rue Victor Hugo (jusqu'au lundi 15 juin inclus).")
    assert events == slots(info_topic="alerts")
    _, d = await run(info.ActionAnswerAlerts(), tracker("rue des écoles ?", "ask_alerts", [entity("address", "rue des Écoles")]))
    assert said(d) == ["Rien de signalé en ce moment pour rue des Écoles."]
    with db.unit_of_work(demo) as session:
        for alert in alerts.active(session, NOW, within_days=30):
            alerts.end_alert(session, alert.id, NOW)
    _, d = await run(info.ActionAnswerAlerts(), tracker("des travaux ?", "ask_alerts"))
    assert said(d) == ["Aucune alerte en cours dans la commune : ni travaux, ni fermeture, ni coupure signalés."]
