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

A form takes what the citizen gives (issue 13): when a slot is requested, the latest text is read
for that slot first (``gives_value``), whatever intent the classifier chose. Only a message that
gives no value for the slot and is confidently another intent (``INTERRUPTING_INTENTS``) or a
question interrupts the form: the turn is rejected, the rules of data/rules/forms.yml and
data/rules/booking.yml answer, and the form resumes and asks again. « laissez tomber », « annule »,
« stop » stop the form at once, politely, and nothing is kept.
"""
from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecutionRejected, ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions.common import latest_text
from townhall.booking.contacts import CONTACT_SLOTS, InvalidContact, check_contact_slot
from townhall.text import fold

FAILURES_BEFORE_HELP = 2
FAILURES_SLOT = "form_failures"
# The French re-ask of each contact slot, when the core refuses what the form accepted.
CONTACT_REASK = {
    "citizen_name": "utter_contact_invalid_name",
    "citizen_email": "utter_contact_invalid_email",
    "citizen_phone": "utter_contact_invalid_phone",
    "incident_location": "utter_contact_invalid_address",
}

# Intents that interrupt a form when the message gives nothing for the requested slot: each has
# a rule per form that answers it, then runs the form again (it asks its question again).
INTERRUPTING_INTENTS = frozenset({
    "ask_opening_hours", "ask_address", "ask_contact", "ask_procedure", "ask_waste_collection", "ask_alerts",
    "help", "bot_challenge", "request_human", "out_of_scope", "give_feedback", "privacy_request",
})
INTERRUPT_CONFIDENCE = 0.6
# Politeness that carries no answer: the form asks its question again, without a reproach.
SMALL_TALK_INTENTS = frozenset({"greet", "thank"})

_STOP_CORE = (
    r"stop|stoppe[rz]?|laisse[sz]? tomber|laisse[sz]? beton|annule[rsz]?|annulation|abandonne[rsz]?|j'? ?abandonne|"
    r"arrete[rsz]?|on arrete|je veux arreter|oublie[sz]?|oublie[sz]? (?:ca|tout)|on oublie|tant pis|"
    r"plus besoin|c'est bon(?:,)? (?:j'arrete|on arrete|laissez)|je ne veux plus|je veux plus|"
    r"ca ne m'interesse plus|ca m'interesse plus|je change d'avis|finalement non|non finalement|"
    r"je (?:le |la )?ferai plus tard|une autre fois"
)
_STOP = re.compile(
    r"(?:(?:non|bon|ok|euh|ah|alors|bah|ben|en fait|finalement|merci|desole|desolee|pardon)[ ,.!]+)*"
    r"(?:" + _STOP_CORE + r")"
    r"(?:[ ,.!]+(?:tout|ca|la|le|les|demande|ma demande|cette demande|le rendez-vous|le rdv|mon rdv|mon rendez-vous|"
    r"le signalement|mon signalement|la reservation|c'est bon|merci|svp|stp|s'il vous plait|finalement|alors|"
    r"pour l'instant|pour le moment|je reviendrai|au revoir|de toute facon))*[ ,.!]*"
)
_QUESTION_START = re.compile(
    r"^(?:et )?(?:est-ce|est ce|c'est quoi|c est quoi|qu'est-ce|qu est ce|quel|quelle|quels|quelles|quand|ou est|ou sont|"
    r"ou se|ou puis|comment|combien|pourquoi|qui |a quelle|a quel|vous (?:pouvez|savez|etes)|pouvez-vous|savez-vous|y a-t-il)\b"
)


def latest_intent(tracker: Tracker) -> Tuple[str, float]:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return intent.get("name") or "", float(intent.get("confidence") or 0.0)


def wants_to_stop(text: str | None) -> bool:
    """« laissez tomber », « annule », « stop », « non finalement, tant pis »: the citizen stops the form."""
    folded = fold(text).replace("’", "'")
    return bool(folded) and len(folded) <= 100 and _STOP.fullmatch(folded) is not None


def is_question(text: str | None) -> bool:
    """A question rather than an answer: a question mark, or a question word at the start."""
    raw = (text or "").strip()
    return "?" in raw or bool(_QUESTION_START.search(fold(raw)))


def is_new_message(tracker: Tracker) -> bool:
    """Whether the latest citizen message is read for the first time by the form.

    False when the form resumes after an interruption: that message (a question) was answered
    by a rule, and must not be read again as an answer to the form's question.
    """
    for event in reversed(tracker.events or []):
        kind = event.get("event")
        if kind == "user":
            return True
        if kind in ("bot", "action_execution_rejected"):
            return False
        if kind == "action" and not str(event.get("name") or "action_listen").endswith(("action_listen", "_form")):
            return False  # another action ran since: the message was answered (forms are named *_form)
    return False


def slot_before_message(tracker: Tracker, slot: str) -> Any:
    """The slot's value before the latest citizen message (what an interruption must put back)."""
    seen_user = False
    for event in reversed(tracker.events or []):
        if event.get("event") == "user":
            seen_user = True
        elif seen_user and event.get("event") == "slot" and event.get("name") == slot:
            return event.get("value")
    return None


class TownFormValidationAction(FormValidationAction, ABC):
    """Counts failures per slot and escalates to an explanation plus the offer to stop.

    Abstract, so that the action server does not register it as an action of its own.
    """

    @abstractmethod
    def name(self) -> Text:
        """The validation action's name: ``validate_<form name>``."""

    # Slots cleared when the citizen stops the form (the form's own, never the citizen's contacts).
    STOP_RESETS: Tuple[str, ...] = ()

    async def gives_value(self, slot: str, tracker: Tracker) -> bool:
        """Whether the latest text holds a value for ``slot`` (valid or not, but meant as an answer).

        The forms override it slot by slot; the default knows nothing and lets the intent decide.
        """
        return False

    def stops(self, text: str) -> bool:
        """Whether the citizen's words stop this form."""
        return wants_to_stop(text)

    def answering(self, tracker: Tracker, slot: str) -> bool:
        """The citizen's latest message is read now as the answer to ``slot``."""
        return tracker.get_slot("requested_slot") == slot and is_new_message(tracker)

    def interrupt(self, tracker: Tracker) -> List[EventType]:
        """Reject this turn (a rule answers, then the form resumes) and put back what the
        message set on the side (a question must not become the description)."""
        events: List[EventType] = [ActionExecutionRejected(self.form_name())]
        for slot in tracker.slots_to_validate():
            if slot != "requested_slot":
                events.append(SlotSet(slot, slot_before_message(tracker, slot)))
        return events

    def stop_form(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        """The citizen stops: say so politely, keep nothing, and wait for the next request."""
        dispatcher.utter_message(response="utter_form_stopped")
        resets = {slot: None for slot in self.STOP_RESETS}
        resets[FAILURES_SLOT] = None
        for slot in tracker.slots_to_validate():  # what this message set on the side
            if slot != "requested_slot":
                resets.setdefault(slot, slot_before_message(tracker, slot))
        return [SlotSet(slot, value) for slot, value in resets.items()] + [
            SlotSet("requested_slot", None), ActiveLoop(None), FollowupAction("action_listen"),
        ]

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        requested = tracker.get_slot("requested_slot")
        if requested and is_new_message(tracker):
            text = latest_text(tracker)
            if self.stops(text):
                return self.stop_form(dispatcher, tracker)
            gives = await self.gives_value(requested, tracker)
            intent, confidence = latest_intent(tracker)
            elsewhere = intent in INTERRUPTING_INTENTS and confidence >= INTERRUPT_CONFIDENCE
            if intent == "out_of_scope" and not is_question(text):
                elsewhere = False  # a bare answer the classifier does not know ("un trou profond"): asked again
            if elsewhere and (not gives or is_question(text)):
                return self.interrupt(tracker)
            if not gives and intent == "deny" and confidence >= INTERRUPT_CONFIDENCE:
                return self.interrupt(tracker)  # "non": the rules ask whether to stop
            if not gives and intent in SMALL_TALK_INTENTS:
                return [SlotSet(requested, None)]  # "bonjour", "merci": the question is asked again
        return await super().run(dispatcher, tracker, domain)

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
