"""The dialogue rules around the forms, checked with Rasa's own RulePolicy trained in memory on
the rules and stories of the forms (seconds, no NLU model): a question interrupts a form and the
form resumes; nothing is left for the fallback after a report is filed, cancelled or joined."""
from __future__ import annotations

import pytest

pytest.importorskip("rasa")

from rasa.core.policies.rule_policy import RulePolicy  # noqa: E402
from rasa.engine.graph import ExecutionContext, GraphSchema  # noqa: E402
from rasa.engine.storage.local_model_storage import LocalModelStorage  # noqa: E402
from rasa.engine.storage.resource import Resource  # noqa: E402
from rasa.shared.core.events import (  # noqa: E402
    ActionExecuted, ActionExecutionRejected, ActiveLoop, SlotSet, UserUttered,
)
from rasa.shared.core.generator import TrainingDataGenerator  # noqa: E402
from rasa.shared.core.trackers import DialogueStateTracker  # noqa: E402
from rasa.shared.importers.importer import TrainingDataImporter  # noqa: E402

from townhall import config  # noqa: E402

ROOT = config.PROJECT_ROOT
FILES = ["data/rules/core.yml", "data/rules/forms.yml", "data/rules/booking.yml", "data/rules/incidents.yml",
         "data/stories/core.yml", "data/stories/booking.yml", "data/stories/incidents.yml"]
FORMS = {
    "booking_form": "citizen_name", "cancel_appointment_form": "reference", "reschedule_appointment_form": "reference",
    "appointment_lookup_form": "citizen_email", "incident_form": "incident_description", "report_status_form": "reference",
}
ANSWERS = {"out_of_scope": "utter_out_of_scope", "help": "utter_help", "bot_challenge": "utter_iamabot",
           "request_human": "action_request_human", "give_feedback": "action_store_feedback",
           "privacy_request": "utter_privacy_rights"}
LISTEN = ActionExecuted("action_listen")


@pytest.fixture(scope="module")
def policy(tmp_path_factory):
    importer = TrainingDataImporter.load_from_dict(
        config_path=str(ROOT / "config.yml"), domain_path=str(ROOT / "domain"),
        training_data_paths=[str(ROOT / f) for f in FILES],
    )
    domain = importer.get_domain()
    trackers = TrainingDataGenerator(importer.get_stories(), domain, augmentation_factor=0).generate()
    storage = LocalModelStorage(tmp_path_factory.mktemp("rules"))
    rules = RulePolicy(RulePolicy.get_default_config(), storage, Resource("rules"), ExecutionContext(GraphSchema({}), "t"))
    rules.train(trackers, domain)  # raises InvalidRule on an incomplete or contradicting rule
    return rules, domain


def user(intent: str) -> UserUttered:
    return UserUttered(f"/{intent}", {"name": intent, "confidence": 1.0})


def predicted(policy, events) -> str:
    rules, domain = policy
    tracker = DialogueStateTracker.from_events("t", events, slots=domain.slots)
    prediction = rules.predict_action_probabilities(tracker, domain)
    best = max(range(len(prediction.probabilities)), key=prediction.probabilities.__getitem__)
    return domain.action_names_or_texts[best] if prediction.probabilities[best] >= 0.5 else "none"


def in_form(form: str, slot: str) -> list:
    return [ActionExecuted("action_session_start"), LISTEN, user("greet"), ActionExecuted(form), ActiveLoop(form),
            SlotSet("requested_slot", slot), LISTEN]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("intent", ANSWERS)
def test_an_interruption_is_answered_then_the_form_resumes(policy, form, intent):
    events = in_form(form, FORMS[form]) + [user(intent)]
    assert predicted(policy, events) == form  # the form reads the message first
    events.append(ActionExecutionRejected(form))  # it gives nothing for the slot: rejected
    assert predicted(policy, events) == ANSWERS[intent]
    events.append(ActionExecuted(ANSWERS[intent]))
    assert predicted(policy, events) == form  # and asks its question again


def report_recap(pending: str) -> list:
    return in_form("incident_form", "citizen_email") + [
        user("deny"), ActionExecuted("incident_form"), ActiveLoop(None), SlotSet("requested_slot", None),
        ActionExecuted("action_incident_recap"), SlotSet("incident_pending", pending), LISTEN,
    ]


@pytest.mark.parametrize("pending, answer, action", [
    ("confirm", "affirm", "action_submit_incident"), ("confirm", "deny", "action_cancel_incident"),
    ("join", "affirm", "action_join_incident"),
])
def test_nothing_left_for_the_fallback_after_the_report(policy, pending, answer, action):
    events = report_recap(pending) + [user(answer)]
    assert predicted(policy, events) == action
    events += [ActionExecuted(action), SlotSet("incident_pending", None)]
    assert predicted(policy, events) == "action_listen"  # not « je n'ai pas compris »
