"""Practical information computed from the town's data (issue 3): hours, addresses, contacts,
procedures, waste collection, alerts.

Each action reads the entities of the latest message (or the slots, for follow-ups such as
"et le samedi ?"), asks the core for the facts in one unit of work
(``townhall.knowledge.answers``) and sends them worded by ``townhall.wording``.
``info_topic`` remembers which question was answered so that a bare ``inform`` continues it.
"""
from __future__ import annotations

from abc import ABC, abstractmethod

import logging
from datetime import datetime
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import first_entity, in_unit_of_work, latest_text, say
from townhall import config
from townhall.knowledge import answers, streets
from townhall.knowledge.models import FACILITY_CODES, PROCEDURE_CODES, WASTE_TYPES
from townhall.text import clean, fold
from townhall.wording import alerts as alert_words
from townhall.wording import hours as hours_words
from townhall.wording import places as place_words
from townhall.wording import procedures as procedure_words
from townhall.wording import waste as waste_words

logger = logging.getLogger(__name__)


def current_time() -> datetime:
    """Now in Europe/Paris (tests replace it to freeze the clock)."""
    return datetime.now(config.TIMEZONE)


# --- reading the tracker ------------------------------------------------------------------


def _intent(tracker: Tracker) -> str | None:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def _canonical(value: Any, allowed: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    value = fold(str(value)).replace(" ", "_")
    return value if value in allowed else None


def _facility_code(tracker: Tracker) -> str | None:
    return _canonical(first_entity(tracker, "facility"), FACILITY_CODES) or _canonical(
        tracker.get_slot("facility"), FACILITY_CODES
    )


def _ask_facility(dispatcher: CollectingDispatcher, topic: str) -> List[Dict[Text, Any]]:
    dispatcher.utter_message(response="utter_ask_which_facility")
    return [SlotSet("info_topic", topic)]


def _unavailable(dispatcher: CollectingDispatcher) -> None:
    dispatcher.utter_message(response="utter_info_unavailable")


# --- opening hours ------------------------------------------------------------------------


def opening_hours_messages(session, code: str, date_text: str | None, time_text: str | None, now: datetime,
                           text: str | None = None) -> list[str]:
    """The answer to an hours question, in French ([] for an unknown facility)."""
    facts = answers.opening_hours(session, code, date_text, time_text, now, text)
    return hours_words.opening_hours(facts) if facts is not None else []


def other_town_message(session, text: str | None, code: str | None) -> str | None:
    """When the question names another town ("la mairie de Lyon"): say honestly what we know."""
    facts = answers.other_town(session, text, code)
    return place_words.other_town(facts) if facts is not None else None


async def _elsewhere(dispatcher: CollectingDispatcher, text: str | None, code: str | None) -> list | None:
    """Events when the question is about another town (answered honestly here), else None."""
    if not text:
        return None
    try:
        message = await in_unit_of_work(other_town_message, text, code)
    except Exception:
        logger.exception("other town check")
        return None
    if message is None:
        return None
    dispatcher.utter_message(text=message)
    return [SlotSet("facility", None)]


class ActionAnswerOpeningHours(Action):
    def name(self) -> Text:
        return "action_answer_opening_hours"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        code = _facility_code(tracker)
        date_text = clean(first_entity(tracker, "date"), 100) or None
        time_text = clean(first_entity(tracker, "time"), 50) or None
        follow_up = _intent(tracker) == "inform"
        if follow_up and not date_text and not time_text:
            date_text = tracker.get_slot("info_date")  # "et la médiathèque ?" keeps the day asked
        text = clean(latest_text(tracker), 300) or None
        elsewhere = await _elsewhere(dispatcher, text, code)
        if elsewhere is not None:
            return elsewhere + [SlotSet("info_topic", "opening_hours")]
        if code is None:
            return _ask_facility(dispatcher, "opening_hours") + [SlotSet("info_date", date_text)]
        try:
            messages = await in_unit_of_work(opening_hours_messages, code, date_text, time_text, current_time(), text)
        except Exception:
            logger.exception("opening hours of %s", code)
            messages = None
        if not messages:
            _unavailable(dispatcher)
        say(dispatcher, messages)
        return [SlotSet("facility", code), SlotSet("info_topic", "opening_hours"), SlotSet("info_date", date_text)]


# --- address and contact ------------------------------------------------------------------


def address_messages(session, code: str, now: datetime) -> list[str]:
    facts = answers.address(session, code, now)
    return place_words.address(facts, now) if facts is not None else []


def contact_messages(session, code: str, now: datetime) -> list[str]:
    facts = answers.contact(session, code, now)
    return place_words.contact(facts, now) if facts is not None else []


class _FacilityAnswer(Action, ABC):
    """Answers about one facility (address, contact); abstract, so the action server skips it."""

    topic = ""

    @abstractmethod
    def name(self) -> Text:
        """The action's name."""
    build = staticmethod(address_messages)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        code = _facility_code(tracker)
        elsewhere = await _elsewhere(dispatcher, clean(latest_text(tracker), 300) or None, code)
        if elsewhere is not None:
            return elsewhere + [SlotSet("info_topic", self.topic)]
        if code is None:
            return _ask_facility(dispatcher, self.topic)
        try:
            messages = await in_unit_of_work(self.build, code, current_time())
        except Exception:
            logger.exception("%s of %s", self.topic, code)
            messages = None
        if not messages:
            _unavailable(dispatcher)
        say(dispatcher, messages)
        return [SlotSet("facility", code), SlotSet("info_topic", self.topic)]


class ActionAnswerAddress(_FacilityAnswer):
    topic = "address"
    build = staticmethod(address_messages)

    def name(self) -> Text:
        return "action_answer_address"


class ActionAnswerContact(_FacilityAnswer):
    topic = "contact"
    build = staticmethod(contact_messages)

    def name(self) -> Text:
        return "action_answer_contact"


# --- procedures ---------------------------------------------------------------------------


class ActionAnswerProcedure(Action):
    def name(self) -> Text:
        return "action_answer_procedure"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        code = _canonical(first_entity(tracker, "procedure"), PROCEDURE_CODES) or _canonical(
            tracker.get_slot("procedure"), PROCEDURE_CODES
        )
        if code is None:
            dispatcher.utter_message(response="utter_ask_which_procedure")
            return [SlotSet("info_topic", "procedure")]
        try:
            procedure = await in_unit_of_work(answers.procedure, code)
        except Exception:
            logger.exception("procedure %s", code)
            procedure = None
        if procedure is None:
            _unavailable(dispatcher)
        else:
            say(dispatcher, procedure_words.answer(procedure, answers.procedure_question(latest_text(tracker))))
        return [SlotSet("procedure", code), SlotSet("info_topic", "procedure")]


# --- waste collection ---------------------------------------------------------------------


class ActionAnswerWasteCollection(Action):
    def name(self) -> Text:
        return "action_answer_waste_collection"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        intent = _intent(tracker)
        follow_up = intent == "inform"
        if tracker.get_slot("waste_street_requested") and intent not in ("inform", "ask_waste_collection"):
            # "rue Pasteur" typed after "Dans quelle rue ?" and taken for a report: a street alone
            # answers the waste question; a real report ("un lampadaire éteint rue Pasteur") opens the form.
            text = clean(latest_text(tracker), 200)
            street = await in_unit_of_work(streets.alone, text) if text else None
            if street is None or first_entity(tracker, "incident_category"):
                return [SlotSet("waste_street_requested", False), FollowupAction("incident_form")]
            follow_up = True
        waste_type = _canonical(first_entity(tracker, "waste_type"), WASTE_TYPES)
        if waste_type is None and follow_up:
            waste_type = _canonical(tracker.get_slot("waste_type"), WASTE_TYPES)
        place = clean(first_entity(tracker, "address"), 200) or None
        if place is None and follow_up and not first_entity(tracker, "waste_type"):
            place = clean(latest_text(tracker), 200) or None  # a bare "rue Pasteur" the NLU did not tag
        if place is None and not follow_up:
            place = clean(latest_text(tracker), 200) or None  # "les encombrants rue Pasteur" without entity
            if place:
                found = await in_unit_of_work(lambda s, t: streets.match(s, t) is not None, place)
                place = place if found else None
        if place is None:
            place = tracker.get_slot("street")
        events = [SlotSet("info_topic", "waste_collection"), SlotSet("waste_type", waste_type)]
        if not place:
            dispatcher.utter_message(response="utter_ask_street")
            return events + [SlotSet("waste_street_requested", True)]
        events.append(SlotSet("waste_street_requested", False))
        try:
            now = current_time()
            facts = await in_unit_of_work(answers.waste_collection, place, waste_type, now)
        except Exception:
            logger.exception("waste collection answer failed")
            _unavailable(dispatcher)
            return events
        if facts.found is None:
            say(dispatcher, waste_words.unknown_place(place, facts))
            return events + [SlotSet("street", None)]
        say(dispatcher, waste_words.answer(facts, now))
        return events + [SlotSet("street", facts.found)]


# --- alerts -------------------------------------------------------------------------------


def alerts_messages(session, place_text: str | None, facility_code: str | None, now: datetime) -> list[str]:
    return alert_words.answer(answers.current_alerts(session, place_text, facility_code, now), now)


class ActionAnswerWasteStreet(ActionAnswerWasteCollection):
    """The same answer, for a street typed after « Dans quelle rue ? » and taken for a report.

    A name of its own so that its rule (data/rules/info.yml) can state the slots it sets without
    every other rule of the waste answer having to state them too.
    """

    def name(self) -> Text:
        return "action_answer_waste_street"

class ActionAnswerAlerts(Action):
    def name(self) -> Text:
        return "action_answer_alerts"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        place = clean(first_entity(tracker, "address"), 200) or None
        code = _canonical(first_entity(tracker, "facility"), FACILITY_CODES)
        try:
            messages = await in_unit_of_work(alerts_messages, place, code, current_time())
        except Exception:
            logger.exception("alerts")
            messages = None
        if not messages:
            _unavailable(dispatcher)
        say(dispatcher, messages)
        events = [SlotSet("info_topic", "alerts")]
        if code:
            events.append(SlotSet("facility", code))
        return events
