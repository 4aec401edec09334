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
