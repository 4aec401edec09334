"""Record the saved trackers of this folder by running real conversations in this process.

    .venv/bin/python -m tests.actions.trackers.record

Rasa's own message processor logs each citizen message, runs ``action_extract_slots`` and the
actions a trained model's policies would choose (the rules of data/rules/*.yml, written out
below), the forms included; the custom actions run through an action endpoint that calls the
project's action server code (rasa_sdk's executor) in this process. No Rasa server, model or
NLU: each message comes with the parse the NLU gives it. The clock is frozen and the demo data
loaded in a temporary database, so a recording is the same every time it is made; each file
keeps the instant it must be replayed at. Each dump ends with the message the test's action
answers: the events are those Rasa's tracker store keeps (``Event.as_dict()``), in order.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Optional
from unittest import mock

HERE = Path(__file__).parent
LISTEN = "action_listen"
SECONDS_PER_TURN = 20


@dataclass
class Turn:
    """One citizen message, as the NLU parses it, and the actions the policies then run."""

    text: str
    intent: str
    entities: list = field(default_factory=list)
    actions: list = field(default_factory=list)  # empty: the saved tracker ends with this message
    confidence: float = 0.97


def span(text: str, entity: str, words: str, value: Any = None, extractor: str = "DIETClassifier") -> dict:
    """An entity as the NLU gives it: where ``words`` stand in ``text`` and the value it maps to."""
    start = text.index(words)
    return {"entity": entity, "start": start, "end": start + len(words), "value": words if value is None else value,
            "extractor": extractor}


def form(name: str) -> list:
    return [name, LISTEN]


@dataclass
class Scenario:
    sender_id: str
    recorded_at: str  # when the conversation starts: an instant of tests/conftest.py INSTANTS
    turns: list

    def answered_at(self) -> datetime:
        """When the last message arrives, the moment its action runs."""
        from tests.conftest import frozen_instant

        return frozen_instant(self.recorded_at) + timedelta(seconds=SECONDS_PER_TURN * (len(self.turns) - 1))


BOOKING_START = [
    Turn("Bonjour, je voudrais un rendez-vous pour un passeport", "book_appointment",
         [span("Bonjour, je voudrais un rendez-vous pour un passeport", "procedure", "passeport")], form("booking_form")),
    Turn("7A2B3C4D5E", "inform", [span("7A2B3C4D5E", "ants_number", "7A2B3C4D5E", extractor="RegexEntityExtractor")],
         form("booking_form")),
    Turn("juste moi", "inform", [], form("booking_form")),
]
THURSDAY = Turn("jeudi", "inform", [span("jeudi", "date", "jeudi")], form("booking_form"))
AT_TEN_TWENTY = "à 10 h 20"
MAIL = "camille.martin@example.org"

SCENARIOS = {
    # Booking, mid-way: the time chosen among those offered for Thursday.
    "booking_time_chosen": Scenario("saved-booking-time", "weekday_morning", BOOKING_START + [
        THURSDAY,
        Turn(AT_TEN_TWENTY, "inform", [span(AT_TEN_TWENTY, "time", "10 h 20")]),
    ]),
    # Booking, last step: the recap confirmed with « oui ».
    "booking_confirmed": Scenario("saved-booking-confirmed", "weekday_morning", BOOKING_START + [
        THURSDAY,
        Turn(AT_TEN_TWENTY, "inform", [span(AT_TEN_TWENTY, "time", "10 h 20")], form("booking_form")),
        Turn("Camille Martin", "inform", [], form("booking_form")),
        Turn(MAIL, "inform", [span(MAIL, "email", MAIL, extractor="RegexEntityExtractor")], form("booking_form")),
        Turn("oui", "affirm"),
    ]),
    # Incident report at the location prompt: the citizen gives the address.
    "incident_location": Scenario("saved-incident-location", "saturday", [
        Turn("il y a un lampadaire cassé", "report_incident",
             [span("il y a un lampadaire cassé", "incident_category", "lampadaire", "eclairage")], form("incident_form")),
        Turn("devant le 12 rue Pasteur", "inform", [span("devant le 12 rue Pasteur", "address", "12 rue Pasteur")]),
    ]),
    # Hand-over asked in the middle of a booking: the form rejects the turn, the rule hands over.
    "handover_during_booking": Scenario("saved-handover", "closing_day", BOOKING_START + [
        Turn("je peux parler à quelqu'un de la mairie ?", "request_human", [], ["booking_form"]),
    ]),
}


class InProcessActionEndpoint:
    """Rasa's action endpoint, answered by the project's action server code in this process."""

    url = "http://in-process-action-server/webhook"
    kwargs: dict = {}  # no endpoint option (e.g. "enable_selective_domain")

    def __init__(self) -> None:
        from rasa_sdk.executor import ActionExecutor

        self.executor = ActionExecutor()
        self.executor.register_package("actions")

    async def request(self, method: str = "post", subpath: Optional[str] = None, json: Any = None, **kwargs: Any):
        return await self.executor.run(json)


def _processor(domain):
    """Rasa's message processor without a model: the scenarios choose the actions."""
    from rasa.core.lock_store import InMemoryLockStore
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.core.processor import MessageProcessor
    from rasa.core.tracker_store import InMemoryTrackerStore

    processor = MessageProcessor.__new__(MessageProcessor)
    processor.nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    processor.tracker_store = InMemoryTrackerStore(domain)
    processor.lock_store = InMemoryLockStore()
    processor.max_number_of_predictions = 10
    processor.on_circuit_break = None
    processor.action_endpoint = InProcessActionEndpoint()
    processor.model_filename, processor.model_path = "scripted", Path("scripted")
    processor.model_metadata = SimpleNamespace(domain=domain, assistant_id="townhall", training_type=None, model_id=None)
    processor.domain = domain
    processor.http_interpreter = None
    processor.graph_runner = None
    return processor


async def _play(scenario: Scenario, domain, clock=None) -> list[dict]:
    from rasa.core.actions.action import action_for_name_or_text
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.policies.policy import PolicyPrediction

    processor = _processor(domain)
    output = CollectingOutputChannel()
    for number, turn in enumerate(scenario.turns):
        if clock is not None and number:
            clock.shift(SECONDS_PER_TURN)  # the citizen reads and types
        parse = {"text": turn.text, "intent": {"name": turn.intent, "confidence": turn.confidence},
                 "entities": turn.entities,
                 "intent_ranking": [{"name": turn.intent, "confidence": turn.confidence}]}
        message = UserMessage(turn.text, output, scenario.sender_id, parse_data=parse, input_channel="rest",
                              message_id=f"{scenario.sender_id}-{number}")
        tracker = await processor.log_message(message, should_save_tracker=False)
        tracker = await processor.run_action_extract_slots(output, tracker)
        for name in turn.actions:
            action = action_for_name_or_text(name, domain, processor.action_endpoint)
            prediction = PolicyPrediction.for_action_name(domain, name, "RulePolicy")
            await processor._run_action(action, tracker, output, processor.nlg, prediction)
        await processor.save_tracker(tracker)
    tracker = await processor.tracker_store.retrieve(scenario.sender_id)
    return [event.as_dict() for event in tracker.events]


def record(name: str, scenario: Scenario) -> Path:
    """Play ``scenario`` at its frozen instant on a fresh demo database; write ``<name>.json``."""
    import time_machine

    from tests.conftest import frozen_instant
    from tests.trackers import rasa_domain
    from townhall import db, demo, schema

    moment = frozen_instant(scenario.recorded_at)
    with tempfile.TemporaryDirectory() as folder, time_machine.travel(moment, tick=False) as clock:
        url = f"sqlite:///{folder}/townhall.db"
        with mock.patch.dict(os.environ, {"DATABASE_URL": url, "TOWNHALL_OUTBOX": f"{folder}/outbox"}):
            schema.upgrade(url)  # the start-up's migration step
            demo.load(url, moment.date())
            events = asyncio.run(_play(scenario, rasa_domain(), clock))
        db._engines.pop(url).dispose()
    path = HERE / f"{name}.json"
    document = {"sender_id": scenario.sender_id, "replay_at": scenario.answered_at().isoformat(), "events": events}
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def main() -> None:
    from rasa.utils.log_utils import configure_structlog

    logging.basicConfig(level=logging.WARNING)
    configure_structlog(logging.WARNING)
    for name, scenario in SCENARIOS.items():
        print(record(name, scenario).relative_to(HERE.parents[2]))


if __name__ == "__main__":
    main()
