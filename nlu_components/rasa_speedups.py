"""Faster, equivalent versions of two hot spots of the Rasa server (Rasa 3.6.21).

1. The check of action server responses.

Rasa validates every action server response with ``jsonschema.validate(result, schema)``,
which first checks the *schema itself* against the JSON Schema metaschema, then builds a
validator: about 30 ms of CPU per custom-action call on these machines, measured by
bench/profile_message.py, for a schema that never changes. Here the schema is checked once
and its validator built once; every response is then validated exactly as before (same
schema, same ``best_match`` error, same message), in well under a millisecond.

2. ``Event.resolve_by_type``, which finds an event's class from its type name by walking every
subclass of ``Event`` (with ``inspect.isabstract`` on each) for every event deserialised: the
tracker store's reads and every action server response, 2 % of a Rasa process under load
(py-spy). Here a class found once is remembered by its type name; names not found (and the
``default``) go through Rasa's own code, so errors and defaults are unchanged.

3. ``RulePolicy._get_possible_keys``, which filters the rules against every state of the
conversation, from the latest back to the first, although a rule of N states can only be
ruled out by the last N (Rasa's ``_is_rule_applicable`` answers True for older states). Here
the loop stops once it is older than the longest rule still in play: the same rules remain,
without the calls that could not remove any (RulePolicy was 10 % of a Rasa process).

Nothing is patched on import: ``nlu_components.patches.apply()`` (called once at start-up by
deploy.rasa_entry, and only on Rasa 3.6.x) calls ``apply`` below.
"""
from __future__ import annotations

import functools
from typing import Any, Dict

_APPLIED = False


@functools.lru_cache(maxsize=1)
def response_validator():
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(self, result: Dict[str, Any]) -> bool:
    """Drop-in replacement of ``RemoteAction._validate_action_result``."""
    from jsonschema import exceptions
    from rasa.shared.constants import DOCS_BASE_URL

    error = exceptions.best_match(response_validator().iter_errors(result))
    if error is not None:
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


_EVENT_CLASSES: Dict[str, Any] = {}


def resolve_event_type(type_name, default=None):
    """Drop-in replacement of ``Event.resolve_by_type`` (a staticmethod)."""
    cls = _EVENT_CLASSES.get(type_name)
    if cls is None:
        cls = _original_resolve_by_type(type_name, default)
        if cls is not None and getattr(cls, "type_name", None) == type_name:
            _EVENT_CLASSES[type_name] = cls
    return cls


_original_resolve_by_type = None
_original_get_possible_keys = None


@functools.lru_cache(maxsize=4096)
def _rule_length(rule_key: str) -> int:
    from rasa.core.policies.rule_policy import RulePolicy

    return len(RulePolicy._rule_key_to_state(rule_key))


def get_possible_keys(self, lookup, states):
    """Drop-in replacement of ``RulePolicy._get_possible_keys``."""
    possible_keys = set(lookup.keys())
    for i, state in enumerate(reversed(states)):
        if not possible_keys or i >= max(_rule_length(key) for key in possible_keys):
            break  # every remaining rule is shorter than this: Rasa would keep them all
        possible_keys = {key for key in possible_keys if self._is_rule_applicable(key, i, state)}
    return possible_keys


def apply() -> None:
    global _APPLIED, _original_resolve_by_type, _original_get_possible_keys
    if _APPLIED:
        return
    try:
        from rasa.core.actions.action import RemoteAction
        from rasa.shared.core.events import Event
    except ImportError:  # rasa_sdk alone (the action server) has nothing to patch
        return
    RemoteAction._validate_action_result = validate_action_result
    _original_resolve_by_type = Event.resolve_by_type
    Event.resolve_by_type = staticmethod(resolve_event_type)
    from rasa.core.policies.rule_policy import RulePolicy

    _original_get_possible_keys = RulePolicy._get_possible_keys
    RulePolicy._get_possible_keys = get_possible_keys
    _APPLIED = True
