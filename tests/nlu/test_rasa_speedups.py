"""The compiled check of action server responses behaves exactly like Rasa's own."""
from __future__ import annotations

import pytest
from jsonschema import ValidationError, validate

import nlu_components  # noqa: F401  (applies the patch, as Rasa's model loading does)
from nlu_components import rasa_speedups


def rasa_original(result):
    from rasa.core.actions.action import RemoteAction

    validate(result, RemoteAction.action_response_format_spec())
    return True


VALID = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "timestamp": None, "name": "facility", "value": "piscine"}],
     "responses": [{"text": "Bonjour", "buttons": [{"title": "Oui", "payload": "/affirm"}]}]},
    {"events": [{"event": "active_loop", "name": None}, {"event": "followup", "name": "action_listen"}]},
    {},
]
INVALID = [
    {"events": "not a list"},
    {"events": [{"no_event_key": 1}]},
    {"events": [{"event": "slot", "name": 3}]},
    {"responses": "texte"},
    {"events": [{"event": "unknown_event_type"}]},
]


def test_the_patch_is_applied_when_the_package_is_imported():
    from rasa.core.actions.action import RemoteAction

    assert RemoteAction._validate_action_result is rasa_speedups.validate_action_result


@pytest.mark.parametrize("result", VALID)
def test_valid_responses_pass_as_before(result):
    from rasa.core.actions.action import RemoteAction

    assert rasa_original(result) is True
    assert RemoteAction("action_x", None)._validate_action_result(result) is True


@pytest.mark.parametrize("result", INVALID)
def test_invalid_responses_fail_with_the_same_error(result):
    from rasa.core.actions.action import RemoteAction

    with pytest.raises(ValidationError) as original:
        rasa_original(result)
    with pytest.raises(ValidationError) as patched:
        RemoteAction("action_x", None)._validate_action_result(result)
    assert patched.value.message.startswith(original.value.message)
    assert "Failed to validate Action server response" in patched.value.message
    assert list(patched.value.path) == list(original.value.path)


def test_event_classes_are_found_as_rasa_finds_them():
    from rasa.shared.core import events
    from rasa.shared.utils.common import all_subclasses

    assert events.Event.resolve_by_type is rasa_speedups.resolve_event_type
    for cls in all_subclasses(events.Event):
        assert events.Event.resolve_by_type(cls.type_name) is rasa_speedups._original_resolve_by_type(cls.type_name)
    assert events.Event.resolve_by_type("topic") is None
    assert events.Event.resolve_by_type("no_such_event", default=events.SlotSet) is events.SlotSet
    with pytest.raises(ValueError):
        events.Event.resolve_by_type("no_such_event")
    serialised = [events.SlotSet("facility", "piscine").as_dict(), events.ActionExecuted("action_listen").as_dict()]
    assert events.deserialise_events(serialised) == [events.SlotSet("facility", "piscine"),
                                                     events.ActionExecuted("action_listen")]


def test_rules_in_play_are_the_ones_rasa_finds():
    """The shortened loop keeps exactly the rules that Rasa's own loop keeps."""
    import json
    import random

    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.shared.core.constants import SHOULD_NOT_BE_SET

    from nlu_components.rasa_speedups import get_possible_keys

    original = rasa_speedups._original_get_possible_keys
    policy = RulePolicy.__new__(RulePolicy)  # both versions only use static helpers
    rng = random.Random(5)
    actions = ["action_listen", "utter_greet", "booking_form", "action_answer_opening_hours", None]
    intents = ["greet", "inform", "affirm", "deny", "book_appointment"]

    def state():
        s = {}
        action = rng.choice(actions)
        if action:
            s["prev_action"] = {"action_name": action}
        if rng.random() < 0.6:
            s["user"] = {"intent": rng.choice(intents)}
        if rng.random() < 0.4:
            s["slots"] = {"incident_pending": rng.choice([(1.0, 0.0), (0.0, 1.0), SHOULD_NOT_BE_SET])}
        if rng.random() < 0.3:
            s["active_loop"] = {"name": rng.choice(["booking_form", SHOULD_NOT_BE_SET])}
        return s

    for _ in range(400):
        lookup = {json.dumps([state() for _ in range(rng.randint(1, 5))]): "x" for _ in range(rng.randint(1, 30))}
        states = [state() for _ in range(rng.randint(0, 14))]
        assert get_possible_keys(policy, lookup, states) == original(policy, lookup, states)
