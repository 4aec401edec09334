"""The compiled check of action server responses behaves exactly like Rasa's own."""
from __future__ import annotations

import pytest
from jsonschema import ValidationError, validate

from nlu_components import patches, rasa_speedups

patches.apply()  # as deploy.rasa_entry does at start-up


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


def test_the_patch_is_applied_by_the_explicit_call():
    from rasa.core.actions.action import RemoteAction

    assert RemoteAction._validate_action_result is rasa_speedups.validate_action_result


def test_importing_the_components_patches_nothing():
    """Rasa imports nlu_components when it loads a model: that alone must leave Rasa as shipped."""
    import subprocess
    import sys
    from pathlib import Path

    code = ("import nlu_components, nlu_components.canonical, nlu_components.spacy_nlp\n"
            "from rasa.core.actions.action import RemoteAction\n"
            "from rasa.core.policies.rule_policy import RulePolicy\n"
            "from rasa.shared.core.events import Event\n"
            "print(RemoteAction._validate_action_result.__module__, RulePolicy._get_possible_keys.__module__,"
            " Event.resolve_by_type.__module__)")
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
                          capture_output=True, text=True, timeout=300, check=True)
    assert "nlu_components" not in done.stdout and done.stdout.count("rasa.") == 3, done.stdout


def test_another_rasa_version_is_left_as_shipped(monkeypatch, caplog):
    calls = []
    monkeypatch.setattr(rasa_speedups, "apply", lambda: calls.append(1))
    assert not patches.apply("3.7.2")
    assert calls == [] and "Rasa 3.7.2 is not 3.6.x" in caplog.text
    assert patches.apply("3.6.21") and calls == [1]


def test_rasa_entry_applies_the_patches_before_rasas_command_line(monkeypatch):
    import sys

    import rasa.__main__

    from deploy import rasa_entry

    seen = []
    monkeypatch.setattr(patches, "apply", lambda: seen.append("patches"))
    monkeypatch.setattr(rasa.__main__, "main", lambda: seen.append(list(sys.argv)))
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    assert rasa_entry.main(["train", "--domain", "domain"]) == 0
    assert seen == ["patches", ["rasa", "train", "--domain", "domain"]]


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
