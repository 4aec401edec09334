"""The base class of every form validation action (STYLE.md 3).

Each ``validate_<slot>`` returns ``{slot: value}`` on success, or ``self.reject(...)`` on a
bad answer. After ``FAILURES_BEFORE_HELP`` failed answers in a row for the same slot, the
citizen gets the slot's explanation with an example (response ``utter_explain_<slot>``, kept
in the domain) and the offer to stop (``utter_offer_stop_form``), so nobody is stuck in a loop.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Dict, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

FAILURES_BEFORE_HELP = 2
FAILURES_SLOT = "form_failures"


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
