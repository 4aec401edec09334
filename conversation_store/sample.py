"""The review tool's sample conversations (``townhall.review.sample``) written with Rasa's own
SQLTrackerStore, so they are exactly in Rasa's format:

    python -m conversation_store.sample            # writes into TRACKER_DATABASE_URL's database
"""
from __future__ import annotations

import asyncio

from townhall import config
from townhall.review.sample import Said, demo_conversations


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
