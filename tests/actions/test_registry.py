"""The action server registers every custom action the domain names, and nothing breaks it."""
from rasa_sdk.executor import ActionExecutor

from tests.trackers import domain

RASA_DEFAULT_PREFIXES = ("utter_", "action_listen", "action_restart", "action_session_start",
                         "action_default_fallback", "action_deactivate_loop", "action_revert_fallback_events",
                         "action_default_ask_affirmation", "action_default_ask_rephrase", "action_two_stage_fallback",
                         "action_back", "action_unlikely_intent", "action_extract_slots")


def test_every_domain_action_is_registered():
    executor = ActionExecutor()
    executor.register_package("actions")  # raises if a base class is registered as an action
    registered = set(executor.actions)
    # an action with options (`- validate_booking_form: {send_domain: true}`) comes as a dict
    names = {a if isinstance(a, str) else next(iter(a)) for a in domain()["actions"]}
    custom = {a for a in names if not a.startswith(RASA_DEFAULT_PREFIXES)}
    validators = {f"validate_{form}" for form in domain().get("forms", {})}
    assert custom - registered == set()
    assert validators - registered == set()
