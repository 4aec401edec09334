"""The base class of every form validation action (STYLE.md 3).

Each ``validate_<slot>`` returns ``{slot: value}`` on success, or ``self.reject(...)`` on a
bad answer. After ``FAILURES_BEFORE_HELP`` failed answers in a row for the same slot, the
citizen gets the slot's explanation with an example (response ``utter_explain_<slot>``, kept
in the domain) and the offer to stop (``utter_offer_stop_form``), so nobody is stuck in a loop.

Every contact slot (``citizen_name``, ``citizen_email``, ``citizen_phone``, the incident's
address ``incident_location``) is checked by the core (``townhall.booking.contacts``) after the
form's own validation, whatever set it: the form's text, an NLU entity picked up while another
question was asked, or a value left from before the form. An unusable value is removed; when it
answered the question just asked, the citizen is asked again in French (``utter_contact_invalid_*``).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from townhall.booking.contacts import CONTACT_SLOTS, InvalidContact, check_contact_slot

FAILURES_BEFORE_HELP = 2
FAILURES_SLOT = "form_failures"
# The French re-ask of each contact slot, when the core refuses what the form accepted.
CONTACT_REASK = {
    "citizen_name": "utter_contact_invalid_name",
    "citizen_email": "utter_contact_invalid_email",
    "citizen_phone": "utter_contact_invalid_phone",
    "incident_location": "utter_contact_invalid_address",
}


class TownFormValidationAction(FormValidationAction, ABC):
    """Counts failures per slot and escalates to an explanation plus the offer to stop.

    Abstract, so that the action server does not register it as an action of its own.
    """

    @abstractmethod
    def name(self) -> Text:
        """The validation action's name: ``validate_<form name>``."""

    def failures(self, tracker: Tracker) -> Dict[str, int]:
        return dict(tracker.get_slot(FAILURES_SLOT) or {})

    def reject(
        self,
        slot: str,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        response: Optional[str] = None,
        text: Optional[str] = None,
        **response_kwargs: Any,
    ) -> Dict[str, Any]:
        """Refuse an answer with a French message; escalate after repeated failures."""
        counts = self.failures(tracker)
        counts[slot] = counts.get(slot, 0) + 1
        if response:
            dispatcher.utter_message(response=response, **response_kwargs)
        elif text:
            dispatcher.utter_message(text=text)
        if counts[slot] >= FAILURES_BEFORE_HELP:
            dispatcher.utter_message(response=f"utter_explain_{slot}")
            dispatcher.utter_message(response="utter_offer_stop_form")
            counts[slot] = 0
        return {slot: None, FAILURES_SLOT: counts}

    def accept(self, tracker: Tracker, **slots: Any) -> Dict[str, Any]:
        """Set the validated slot(s) and reset their failure counters."""
        counts = self.failures(tracker)
        for slot in slots:
            counts.pop(slot, None)
        return {**slots, FAILURES_SLOT: counts}

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        """The form's own validation, then the core's check of every contact slot."""
        events = await super().get_validation_events(dispatcher, tracker, domain)
        fresh = {e.get("name") for e in events} | set(tracker.slots_to_validate())
        requested = tracker.get_slot("requested_slot")
        extra: Dict[str, Any] = {}
        for slot in CONTACT_SLOTS:
            value = tracker.slots.get(slot)
            try:
                check_contact_slot(slot, value)
            except InvalidContact:
                if slot == requested and slot in fresh:
                    extra.update(self.reject(slot, dispatcher, tracker, response=CONTACT_REASK[slot]))
                else:
                    extra[slot] = None  # picked up on the side or left from before: dropped silently
        if not extra:
            return events
        tracker.slots.update(extra)
        kept = [e for e in events if e.get("name") not in extra]
        return kept + [SlotSet(slot, value) for slot, value in extra.items()]
