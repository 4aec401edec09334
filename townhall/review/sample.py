"""Sample conversations written with Rasa's own SQLTrackerStore (exactly Rasa's format).

Used by the tests, and by the demo to fill the review tool:

    python -m townhall.review.sample            # writes into TRACKER_DATABASE_URL's database
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from townhall import config


@dataclass
class Said:
    """A citizen message and what the NLU predicted."""

    text: str
    intent: str
    confidence: float
    entities: list[tuple[int, int, str, str]] = field(default_factory=list)  # start, end, entity, value
    alternatives: list[tuple[str, float]] = field(default_factory=list)


def _user(said: Said, channel: str, ts: float):
    from rasa.shared.core.events import UserUttered

    ranking = [{"name": said.intent, "confidence": said.confidence}] + [
        {"name": n, "confidence": c} for n, c in said.alternatives]
    entities = [{"start": s, "end": e, "entity": name, "value": value, "extractor": "DIETClassifier"}
                for s, e, name, value in said.entities]
    return UserUttered(said.text, intent={"name": said.intent, "confidence": said.confidence},
                       entities=entities, parse_data={"intent": {"name": said.intent, "confidence": said.confidence},
                                                      "intent_ranking": ranking, "entities": entities,
                                                      "text": said.text},
                       input_channel=channel, timestamp=ts)


def build_events(script: list, channel: str, start: float) -> list:
    """``script``: Said objects, bot texts (str), ("action", name), ("slot", name, value), ("form", name|None)."""
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SessionStarted, SlotSet

    ts = start
    events = [ActionExecuted("action_session_start", timestamp=ts), SessionStarted(timestamp=ts),
              ActionExecuted("action_listen", timestamp=ts)]
    for item in script:
        ts += 5
        if isinstance(item, Said):
            events.append(_user(item, channel, ts))
        elif isinstance(item, str):
            events.append(BotUttered(item, timestamp=ts))
        elif item[0] == "action":
            events.append(ActionExecuted(item[1], timestamp=ts))
        elif item[0] == "slot":
            events.append(SlotSet(item[1], item[2], timestamp=ts))
        elif item[0] == "form":
            events.append(ActiveLoop(item[1], timestamp=ts))
        elif item[0] == "buttons":
            events.append(BotUttered(item[1], data={"buttons": item[2]}, timestamp=ts))
    return events


def demo_conversations(now: float | None = None) -> dict[str, tuple[str, float, list]]:
    """sender_id -> (channel, start timestamp, script)."""
    now = now or time.time()
    return {
        "demo-piscine": ("socketio", now - 3600, [
            Said("bonjour", "greet", 0.98), "Bonjour, je suis l'assistant de la mairie.",
            Said("la piscine est ouverte dimanche ?", "ask_opening_hours", 0.93, [(3, 10, "facility", "piscine")],
                 [("ask_address", 0.04)]),
            ("action", "action_opening_hours"), "La piscine est ouverte dimanche de 9 h à 12 h.",
        ]),
        "demo-confus": ("rest", now - 1800, [
            Said("jveu un truc pr mon gamin a l ecole", "ask_procedure", 0.41, [],
                 [("book_appointment", 0.33), ("inform", 0.12)]),
            ("action", "action_default_fallback"), "Je n'ai pas bien compris. Pouvez-vous reformuler ?",
            Said("je veux parler à quelqu'un", "request_human", 0.88),
            ("action", "action_handoff"), "Je transmets votre demande à un agent.",
        ]),
        "demo-rdv": ("facebook", now - 600, [
            Said("je voudrais un rdv pour un passeport", "book_appointment", 0.95,
                 [(27, 36, "procedure", "passeport")]),
            ("form", "booking_form"), ("slot", "procedure", "passeport"),
            Said("camille@example.org ou 06 12 34 56 78", "inform", 0.52,
                 [(0, 19, "email", "camille@example.org"), (23, 37, "phone", "06 12 34 56 78")]),
            ("slot", "citizen_email", "camille@example.org"), ("slot", "citizen_phone", "+33612345678"),
            ("form", None), "C'est noté : votre rendez-vous RDV-7K3F9Q est confirmé.",
            ("slot", "reference", "RDV-7K3F9Q"),
        ]),
    }


async def write(tracker_url: str, conversations: dict[str, tuple[str, float, list]]) -> None:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker
    from sqlalchemy.engine.url import make_url

    url = make_url(tracker_url)
    if url.drivername.startswith("sqlite"):
        store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=url.database)
    else:
        store = SQLTrackerStore(Domain.empty(), dialect=url.drivername, host=url.host, port=url.port,
                                db=url.database, username=url.username, password=url.password)
    for sender_id, (channel, start, script) in conversations.items():
        tracker = DialogueStateTracker.from_events(sender_id, build_events(script, channel, start))
        await store.save(tracker)
    store.engine.dispose()


def main() -> int:
    asyncio.run(write(config.tracker_database_url(), demo_conversations()))
    print("Conversations d'exemple écrites.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
