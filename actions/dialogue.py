"""Dialogue core actions: session start with the privacy notice, hand-over to a person, feedback,
fallback, erasure of a conversation."""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import channel_of, first_entity, in_unit_of_work, latest_text
from conversation_store import open_store
from townhall import config, db, feedback, handoff, privacy
from townhall.wording import places as place_words

logger = logging.getLogger(__name__)

# The conversation's topic, guessed from the active form or the latest intents.
TOPIC_OF_INTENT = {
    "book_appointment": "booking", "cancel_appointment": "booking", "reschedule_appointment": "booking",
    "ask_procedure": "procedure", "report_incident": "incident", "check_report_status": "incident",
    "ask_waste_collection": "waste",
}
TOPIC_OF_FORM = {"booking_form": "booking", "incident_form": "incident"}


def conversation_topic(tracker: Tracker) -> str | None:
    loop = (tracker.active_loop or {}).get("name")
    if loop in TOPIC_OF_FORM:
        return TOPIC_OF_FORM[loop]
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if intent in TOPIC_OF_INTENT:
                return TOPIC_OF_INTENT[intent]
    return None


def service_card(session, service: str, now: datetime) -> Dict[str, Any]:
    """Name, phone, e-mail and opening state of a service (a canonical facility; name None: the front desk)."""
    from townhall.knowledge import facilities, hours

    facility = facilities.get(session, service) or facilities.get(session, handoff.DEFAULT_SERVICE)
    if facility is None:
        commune = config.commune()
        return {"name": None, "phone": commune.main_phone, "email": commune.main_email}
    name = facility.short_name or facility.name
    try:
        status = hours.status_at(session, facility.code, now)
    except Exception:  # an hours problem must never hide the contact details
        logger.exception("opening state unavailable for %s", facility.code)
        status = None
    return {"name": name, "phone": facility.phone, "email": facility.email, "status": status}


class ActionSessionStart(Action):
    """Every new session starts with the privacy notice, whatever the citizen's first message
    (a greeting or straight a question). No slot is carried over (domain: session_config)."""

    def name(self) -> Text:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict]:
        events: List[Dict] = [SessionStarted()]
        metadata = tracker.get_slot("session_started_metadata")
        if metadata:
            events.append(SlotSet("session_started_metadata", metadata))
        dispatcher.utter_message(response="utter_privacy_notice")
        events.append(ActionExecuted("action_listen"))
        return events


class ActionRequestHuman(Action):
    """Gives the right service's contacts and opening state, and records a hand-over request."""

    def name(self) -> Text:
        return "action_request_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict]:
        topic = conversation_topic(tracker)
        service = handoff.service_for(topic, first_entity(tracker, "facility"))

        now = datetime.now(config.TIMEZONE)

        def work(session):
            card = service_card(session, service, now)
            handoff.request(session, channel=channel_of(tracker), sender_id=tracker.sender_id, service=service,
                            topic=topic, last_message=latest_text(tracker))
            return card

        try:
            card = await in_unit_of_work(work)
        except Exception:
            logger.exception("hand-over request failed")
            commune = config.commune()
            card = {"name": None, "phone": commune.main_phone, "email": commune.main_email}
        dispatcher.utter_message(text=place_words.handoff_contact(
            card["name"], card.get("phone"), card.get("email"), card.get("status"), now))
        dispatcher.utter_message(response="utter_handoff_recorded")
        return []


class ActionStoreFeedback(Action):
    """Stores a remark, complaint or suggestion with its channel and time."""

    def name(self) -> Text:
        return "action_store_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict]:
        try:
            await in_unit_of_work(feedback.record, latest_text(tracker), channel_of(tracker), tracker.sender_id)
        except Exception:
            logger.exception("feedback not stored")
            dispatcher.utter_message(response="utter_service_unavailable")
            return []
        dispatcher.utter_message(response="utter_thank_feedback")
        return []


class ActionHandleFallback(Action):
    """Two-stage fallback: first ask to rephrase, then (second miss in a row) offer a person."""

    def name(self) -> Text:
        return "action_handle_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict]:
        user_intents = [
            ((e.get("parse_data") or {}).get("intent") or {}).get("name")
            for e in tracker.events if e.get("event") == "user"
        ]
        if len(user_intents) >= 2 and user_intents[-2] == "nlu_fallback":
            dispatcher.utter_message(response="utter_offer_human")
        else:
            dispatcher.utter_message(response="utter_ask_rephrase")
        return []


_background: set = set()


async def _erase_later(sender_id: str) -> None:
    await asyncio.sleep(privacy.ERASURE_DELAY.total_seconds() + 1)

    def work():
        with db.unit_of_work() as session:
            return privacy.process_pending(session, open_store())

    try:
        await asyncio.to_thread(work)
    except Exception:
        logger.exception("erasure failed; it stays pending for the retention command")


class ActionEraseConversation(Action):
    """Erases the citizen's own conversation (and our rows linked to it) on request."""

    def name(self) -> Text:
        return "action_erase_conversation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict]:
        try:
            await in_unit_of_work(privacy.request_erasure, tracker.sender_id)
        except Exception:
            logger.exception("erasure request not recorded")
            dispatcher.utter_message(response="utter_service_unavailable")
            return []
        task = asyncio.get_running_loop().create_task(_erase_later(tracker.sender_id))
        _background.add(task)
        task.add_done_callback(_background.discard)
        dispatcher.utter_message(response="utter_conversation_erased")
        return [SlotSet("citizen_email", None), SlotSet("citizen_phone", None), SlotSet("citizen_name", None)]

