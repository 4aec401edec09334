"""The emergency safety net: danger to people is answered first, whatever the classifier says.

A Rasa policy that reads the text of every user message (in and out of forms) with
:func:`townhall.incidents.emergency.detect`. On an emergency it predicts ``utter_emergency``
with full confidence as a "no user" prediction, which outranks every other prediction
(loop happy paths included, thanks to its higher priority), and, when the prediction wins,
sets ``emergency_kind`` (the response's variation) and ends any active form: nothing is
filed for an emergency. After ``utter_emergency`` it predicts ``action_listen``.

The policy depends neither on the NLU (intent, entities, confidence) nor on the action
server, so the numbers reach the citizen even if the action server is down.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction, confidence_scores_for
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME, REQUESTED_SLOT
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, Event, SlotSet, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from townhall.incidents import emergency

RESPONSE = "utter_emergency"
KIND_SLOT = "emergency_kind"
# Forms whose answers are dropped on an emergency (a report is replaced by the emergency call).
RESET_FORMS = ("incident_form",)
PRIORITY = 7  # above RulePolicy (6): an emergency wins over a form's happy path


def _latest_turn(tracker: DialogueStateTracker) -> Optional[Event]:
    """The latest user message or action, whichever came last."""
    for event in reversed(tracker.events):
        if isinstance(event, (UserUttered, ActionExecuted)):
            return event
    return None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class EmergencyPolicy(Policy):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        emergency.warm_up()  # fit the classifier at model load, not on a citizen's first message

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"priority": PRIORITY}

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        # Nothing to learn: persist an empty marker so that loading finds the resource.
        with self._model_storage.write_to(self._resource) as path:
            (path / "emergency_policy.txt").write_text("rules live in townhall/incidents/emergency.py\n")
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        latest = _latest_turn(tracker)
        if isinstance(latest, UserUttered):
            found = emergency.detect(latest.text)
            if found is not None and RESPONSE in domain.action_names_or_texts:
                return self._prediction(
                    confidence_scores_for(RESPONSE, 1.0, domain),
                    optional_events=self._events(tracker, domain, found.kind),
                    is_no_user_prediction=True,
                )
        elif isinstance(latest, ActionExecuted) and latest.action_name == RESPONSE:
            return self._prediction(confidence_scores_for(ACTION_LISTEN_NAME, 1.0, domain), is_no_user_prediction=True)
        return self._prediction(self._default_predictions(domain))

    @staticmethod
    def _events(tracker: DialogueStateTracker, domain: Domain, kind: str) -> List[Event]:
        events: List[Event] = [SlotSet(KIND_SLOT, kind)] if any(slot.name == KIND_SLOT for slot in domain.slots) else []
        form = tracker.active_loop_name
        if form:
            events += [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]
            if form in RESET_FORMS:
                events += [SlotSet(slot, None) for slot in domain.required_slots_for_form(form)
                           if tracker.get_slot(slot) is not None]
        return events
