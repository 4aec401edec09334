"""Figures of the dashboard: activity per day, fallbacks and handoffs, top intents,
unanswered questions, feedback, appointments and reports created."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from townhall import config
from townhall.review import conversations as conv
from townhall.masking import truncate
from townhall.text import fold


@dataclass
class Figures:
    since: date
    days: list[tuple[date, int, int]] = field(default_factory=list)  # day, conversations, messages
    conversations: int = 0
    messages: int = 0
    fallback_share: float = 0.0
    handoff_share: float = 0.0
    top_intents: list[tuple[str, int]] = field(default_factory=list)
    unanswered: list[tuple[str, int]] = field(default_factory=list)
    feedback: int = 0
    handoff_requests: int = 0
    appointments: int | None = None
    reports: int | None = None


def _count_created(session: Session, module: str, class_names: tuple[str, ...], since: datetime) -> int | None:
    """Rows created since a date in another concern's table (None when that model is not there yet)."""
    import importlib

    try:
        models = importlib.import_module(module)
    except ImportError:
        return None
    for name in class_names:
        model = getattr(models, name, None)
        column = getattr(model, "created_at", None) if model is not None else None
        if column is not None:
            return session.execute(select(func.count()).select_from(model).where(column >= since)).scalar_one()
    return None


def figures(store: conv.ConversationStore, session: Session, days: int = 30, now: datetime | None = None) -> Figures:
    from townhall.feedback import Feedback
    from townhall.handoff import HandoffRequest

    tz = config.TIMEZONE
    now = now or datetime.now(tz)
    since_day = now.astimezone(tz).date() - timedelta(days=days - 1)
    since = datetime.combine(since_day, datetime.min.time(), tz)
    result = Figures(since=since_day)
    per_day_conversations: Counter = Counter()
    per_day_messages: Counter = Counter()
    intents: Counter = Counter()
    unanswered: Counter = Counter()
    samples: dict[str, str] = {}
    summaries = [s for s in conv.summaries(store) if s.last_at >= since]
    result.conversations = len(summaries)
    if summaries:
        result.fallback_share = sum(s.has_fallback for s in summaries) / len(summaries)
        result.handoff_share = sum(s.has_handoff for s in summaries) / len(summaries)
    seen_conversations: set[tuple[str, date]] = set()
    for event in sorted(store.read(kinds=("user",), since=since.timestamp()), key=lambda e: e.event_id):
        message = event.message
        day = message.at.astimezone(tz).date()
        per_day_messages[day] += 1
        if (event.sender_id, day) not in seen_conversations:
            seen_conversations.add((event.sender_id, day))
            per_day_conversations[day] += 1
        result.messages += 1
        if message.intent:
            intents[message.intent] += 1
        low = message.confidence is not None and message.confidence < conv.LOW_CONFIDENCE
        if event.fallback or message.intent == "out_of_scope" or low:
            k = fold(message.text[:conv.SEARCH_CHARS])  # a huge message is cut, never folded whole
            if k:
                unanswered[k] += 1
                samples.setdefault(k, truncate(message.text, conv.DISPLAY_CHARS))
    result.days = [(since_day + timedelta(days=i), per_day_conversations[since_day + timedelta(days=i)],
                    per_day_messages[since_day + timedelta(days=i)]) for i in range(days)]
    result.top_intents = intents.most_common(10)
    result.unanswered = [(samples[k], n) for k, n in unanswered.most_common(10)]
    result.feedback = session.execute(select(func.count()).select_from(Feedback)
                                      .where(Feedback.created_at >= since)).scalar_one()
    result.handoff_requests = session.execute(select(func.count()).select_from(HandoffRequest)
                                              .where(HandoffRequest.created_at >= since)).scalar_one()
    result.appointments = _count_created(session, "townhall.booking.models", ("Appointment", "Booking"), since)
    result.reports = _count_created(session, "townhall.incidents.models", ("IncidentReport", "Report", "Incident"), since)
    return result
