"""The emergency policy outranks forms and rules, and ends the report form (no Rasa server)."""
from __future__ import annotations

import functools

import pytest
from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.policy import PolicyPrediction, confidence_scores_for
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from policies.emergency import EmergencyPolicy
from townhall import config


@functools.lru_cache(maxsize=1)
def domain() -> Domain:
    return Domain.load(str(config.PROJECT_ROOT / "domain"))


@pytest.fixture
def policy(tmp_path):
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    resource = Resource("emergency")
    trained = EmergencyPolicy.create(EmergencyPolicy.get_default_config(), storage, resource, context)
    trained.train([], domain())
    return EmergencyPolicy.load(EmergencyPolicy.get_default_config(), storage, resource, context)


def tracker(*events):
    return DialogueStateTracker.from_events("citizen", [ActionExecuted("action_listen"), *events], domain().slots)


def predicted(prediction: PolicyPrediction) -> str:
    return domain().action_names_or_texts[prediction.max_confidence_index]


def test_an_emergency_outside_a_form_gets_the_numbers(policy):
    prediction = policy.predict_action_probabilities(
        tracker(UserUttered("bonjour il y a un mec allongé par terre il bouge plu", {"name": "greet"})), domain())
    assert predicted(prediction) == "utter_emergency" and prediction.is_no_user_prediction
    assert SlotSet("emergency_kind", "injured") in prediction.optional_events


def test_inside_the_report_form_it_wins_over_the_form_and_clears_it(policy):
    events = [UserUttered("un nid de poule", {"name": "report_incident"}), ActionExecuted("incident_form"),
              ActiveLoop("incident_form"), SlotSet("incident_category", "voirie"), SlotSet("requested_slot", "incident_location"),
              ActionExecuted("action_listen"), UserUttered("ah attendez ça sent le gaz très fort ici", {"name": "inform"})]
    prediction = policy.predict_action_probabilities(tracker(*events), domain())
    assert predicted(prediction) == "utter_emergency"
    assert ActiveLoop(None) in prediction.optional_events
    assert SlotSet("incident_category", None) in prediction.optional_events
    # The loop's happy path (a "no user" prediction of RulePolicy, priority 6) loses to it.
    form = PolicyPrediction(confidence_scores_for("incident_form", 1.0, domain()), "RulePolicy", 6,
                            is_no_user_prediction=True)
    best = DefaultPolicyPredictionEnsemble._pick_best_policy([form, prediction])
    assert best.policy_name == "EmergencyPolicy"


def test_after_the_answer_it_listens(policy):
    prediction = policy.predict_action_probabilities(
        tracker(UserUttered("au feu"), ActionExecuted("utter_emergency")), domain())
    assert predicted(prediction) == "action_listen"


@pytest.mark.parametrize("text", ["le feu rouge est en panne rue Pasteur", "quel est le numéro des pompiers ?",
                                  "/inform{\"citizen_name\": \"Camille\"}"])
def test_ordinary_messages_are_left_to_the_other_policies(policy, text):
    prediction = policy.predict_action_probabilities(tracker(UserUttered(text)), domain())
    assert max(prediction.probabilities) == 0.0 and not prediction.optional_events
