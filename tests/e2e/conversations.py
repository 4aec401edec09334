"""A citizen's conversation with the running assistant, for end-to-end tests over REST.

    conversation = Conversation(stack)
    conversation.say("je voudrais un rdv pour un passeport")
    conversation.expect_asked("ants_predemande")
    conversation.say("9XK2LM4PQ8")

What the form asks is read from the tracker (``requested_slot``, names of shared/CONTRACT.md
section 4) rather than from the wording, so that rephrased questions do not break the tests.
Every turn is recorded: a failure shows the whole conversation, text in and answers out.
"""
from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple, Union
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.e2e.stack import Stack

PARIS = ZoneInfo("Europe/Paris")
APPOINTMENT_REFERENCE = re.compile(r"\bRDV-[A-HJ-NP-Z2-9]{6}\b")
REPORT_REFERENCE = re.compile(r"\bSIG-[A-HJ-NP-Z2-9]{6}\b")
TIME_TITLE = re.compile(r"^(\d{1,2}) h(?: (\d\d))?$")  # "9 h", "14 h 30"
MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = range(7)

Answer = Union[str, Callable[["Conversation"], str]]


class Conversation:
    """One citizen (one sender id) talking to the stack's REST channel."""

    def __init__(self, stack: Stack, sender: Optional[str] = None) -> None:
        self.stack = stack
        self.sender = sender or f"e2e-{uuid.uuid4().hex[:10]}"
        self.turns: List[Tuple[str, List[str]]] = []
        self.replies: List[Dict[str, Any]] = []

    # -- talking
    def say(self, text: str) -> List[Dict[str, Any]]:
        self.replies = self.stack.say(text, self.sender)
        shown = [reply.get("text") or "" for reply in self.replies]
        titles = [b.get("title") or "" for b in self.buttons()]
        if titles:
            shown.append("[boutons : " + " | ".join(titles) + "]")
        self.turns.append((text, shown))
        return self.replies

    def buttons(self) -> List[Dict[str, Any]]:
        return [b for reply in self.replies for b in (reply.get("buttons") or [])]

    def click(self, title_contains: str) -> List[Dict[str, Any]]:
        """Clicks the first button whose title contains the words, else types them."""
        for button in self.buttons():
            if title_contains.lower() in (button.get("title") or "").lower():
                return self.say(button["payload"])
        return self.say(title_contains)

    @property
    def text(self) -> str:
        """Everything the assistant said in answer to the last message."""
        return " ".join(reply.get("text") or "" for reply in self.replies)

    def said_since(self, turn: int) -> str:
        return " ".join(" ".join(answers) for _, answers in self.turns[turn:])

    # -- the assistant's state
    def tracker(self) -> Dict[str, Any]:
        answer = httpx.get(
            f"{self.stack.rasa_url}/conversations/{self.sender}/tracker",
            params={"token": self.stack.auth_token}, timeout=30,
        )
        answer.raise_for_status()
        return answer.json()

    def form(self) -> Tuple[Optional[str], Optional[str]]:
        """(active form, requested slot), both None outside a form."""
        tracker = self.tracker()
        loop = (tracker.get("active_loop") or {}).get("name")
        return loop, (tracker.get("slots") or {}).get("requested_slot") if loop else None

    def slot(self, name: str) -> Any:
        return (self.tracker().get("slots") or {}).get(name)

    # -- expectations, with the transcript on failure
    def transcript(self) -> str:
        lines = [f"conversation {self.sender}:"]
        for text, answers in self.turns:
            lines.append(f"  citoyen > {text}")
            lines.extend(f"  bot     < {answer}" for answer in answers if answer)
        return "\n".join(lines)

    def fail(self, why: str) -> None:
        pytest.fail(f"{why}\n{self.transcript()}", pytrace=False)

    def check(self, condition: Any, why: str) -> None:
        if not condition:
            self.fail(why)

    def expect_asked(self, slot: str, form: Optional[str] = None) -> None:
        active, requested = self.form()
        if requested != slot or (form is not None and active != form):
            self.fail(f"expected the form to ask {form or ''}.{slot}, it asks {active}.{requested}")

    def expect_no_form(self) -> None:
        active, requested = self.form()
        self.check(active is None, f"expected no active form, {active} asks {requested}")

    def time_buttons(self) -> List[Tuple[int, int, Dict[str, Any]]]:
        found = []
        for button in self.buttons():
            match = TIME_TITLE.match((button.get("title") or "").strip())
            if match:
                found.append((int(match.group(1)), int(match.group(2) or 0), button))
        return found

    def pick_time(self, accept: Callable[[int, int], bool] = lambda h, m: True) -> None:
        """Clicks the first time button offered that ``accept``s (hour, minute)."""
        for hour, minute, button in self.time_buttons():
            if accept(hour, minute):
                self.say(button["payload"])
                return
        self.fail("no suitable time button offered")

    def fill(self, answers: Dict[str, Answer], form: str, until: Optional[str] = None, max_turns: int = 12) -> None:
        """Answers what the form asks (``answers`` by slot name) until it is no longer active,
        or until it asks ``until``."""
        for _ in range(max_turns):
            active, requested = self.form()
            if active != form or (until is not None and requested == until):
                return
            if requested not in answers:
                self.fail(f"{form} asks {requested}, which this conversation does not expect")
            answer = answers[requested]
            if callable(answer):
                answer(self)  # e.g. Conversation.pick_time
            else:
                self.say(answer)
        self.fail(f"{form} still active after {max_turns} answers")

    def reference(self, pattern: re.Pattern = APPOINTMENT_REFERENCE) -> str:
        match = pattern.search(self.text)
        self.check(match, f"no reference matching {pattern.pattern} in the last answer")
        return match.group(0)  # type: ignore[union-attr]


# --------------------------------------------------------------------------- staff side

def staff_get(stack: Stack, path: str, token: str) -> Dict[str, Any]:
    answer = httpx.get(f"{stack.backoffice_url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    answer.raise_for_status()
    return answer.json()


def local_start(appointment: Dict[str, Any]) -> datetime:
    """The appointment's start in the commune's time zone (the API gives an ISO instant)."""
    start = datetime.fromisoformat(appointment["start"])
    if start.tzinfo is None:  # stored in UTC
        start = start.replace(tzinfo=ZoneInfo("UTC"))
    return start.astimezone(PARIS)


# --------------------------------------------------------------------------- dates

def today() -> date:
    return datetime.now(PARIS).date()


def next_weekday(weekday: int, after: Optional[date] = None, include_today: bool = False) -> date:
    start = after or today()
    ahead = (weekday - start.weekday()) % 7
    if ahead == 0 and not include_today:
        ahead = 7
    return start + timedelta(days=ahead)


def weekday_in_a_week(weekday: int) -> set[date]:
    """"jeudi en huit": the Thursday of next week (said on a Thursday: in seven days)."""
    return {next_weekday(weekday, include_today=True) + timedelta(days=7)}


def next_day_of_month(day: int) -> date:
    """"le 24": the next 24th (today excluded)."""
    current = today() + timedelta(days=1)
    while current.day != day:
        current += timedelta(days=1)
    return current


def bookable_weekday(day: date) -> bool:
    """A weekday that is not a French public holiday (the desks are closed then)."""
    import holidays

    return day.weekday() < SATURDAY and day not in holidays.France(years=day.year)


def days_of(dates: Iterable[date]) -> str:
    return ", ".join(sorted(d.isoformat() for d in dates))
