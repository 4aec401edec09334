"""No personal data in any process's log: a full booking and a full incident report through the
real REST channel, with personal data the model never saw, then a grep of what the Rasa
server, the action server and the back office wrote to their stdout/stderr.

At the default log level nothing may appear. At debug level (``rasa run --debug`` and the
action server's ``--debug``) Rasa prints the parsed message, the slots and the events, so the
citizen's data does appear there: the debug test only reports where (docs/ says not to run
production at debug level); set ``PII_LOG_DEBUG=0`` to skip it.
"""
from __future__ import annotations

import os
import re
import uuid

import httpx
import pytest

from tests.e2e.stack import Stack, newest_model

pytestmark = pytest.mark.rasa

NAME = "Gwendoline Kerbrat-Yilmaz"
EMAIL = "gwen.kerbrat@exemple-mail.fr"
PHONE = "07 81 23 45 67"
ANTS = "4Z7K2M9QX1"
ADDRESS = "27 rue des Tanneurs"
STAFF_TOKEN = "staff-token-for-the-log-test"

# What must not appear, in any case (the grep is case-insensitive).
FORBIDDEN = {
    "name": ["Gwendoline", "Kerbrat", "Yilmaz"],
    "e-mail": [EMAIL, EMAIL.upper(), "gwen.kerbrat", "exemple-mail.fr"],
    "phone": [PHONE, "0781234567", "+33781234567", "33781234567", "07.81.23.45.67", "07-81-23-45-67",
              "781234567", "81 23 45 67"],
    "ANTS": [ANTS, ANTS.lower()],
    "address": [ADDRESS, "rue des Tanneurs", "Tanneurs"],
}


def texts(replies: list) -> list[str]:
    return [r.get("text") or "" for r in replies]


def buttons(replies: list) -> list[dict]:
    return [b for r in replies for b in (r.get("buttons") or [])]


def last_question(replies: list) -> str:
    """The bot's last non-empty text (a location request, for one, comes as an empty text)."""
    said = [t for t in texts(replies) if t.strip()]
    return said[-1].lower() if said else ""


def book(stack: Stack, sender: str) -> str:
    """A whole passport/ID-card booking with the test's personal data; returns the reference."""
    replies = stack.say("je voudrais un rendez-vous pour une carte d'identité", sender)
    for _ in range(14):
        joined = " ".join(texts(replies))
        found = re.search(r"RDV-[A-HJ-NP-Z2-9]{6}", joined)
        if found:
            return found.group(0)
        question = last_question(replies)
        time_buttons = [b for b in buttons(replies) if re.fullmatch(r"\d{1,2} h( \d\d)?", b.get("title", ""))]
        if "pré-demande" in question:
            replies = stack.say(f"mon numéro de pré-demande est {ANTS}", sender)
        elif "combien de personnes" in question:
            replies = stack.say("1", sender)
        elif "quel jour" in question:
            replies = stack.say("mardi prochain", sender)
        elif time_buttons:
            replies = stack.say(time_buttons[0]["payload"], sender)
        elif "quel nom" in question:
            replies = stack.say(NAME, sender)
        elif "e-mail" in question:
            replies = stack.say(EMAIL, sender)
        elif "téléphone" in question:
            replies = stack.say(PHONE, sender)
        elif "confirme" in question:
            replies = stack.say("/affirm", sender)
        else:
            pytest.fail(f"unexpected question in the booking: {texts(replies)}")
    pytest.fail(f"no booking reference: {texts(replies)}")


def report(stack: Stack, sender: str) -> str:
    """A whole incident report located at the test's address; returns the reference."""
    replies = stack.say(f"il y a un nid de poule énorme devant le {ADDRESS}", sender)
    location_asked = 0
    for _ in range(14):
        found = re.search(r"SIG-[A-HJ-NP-Z2-9]{6}", " ".join(texts(replies)))
        if found:
            return found.group(0)
        question = last_question(replies)
        if "où se trouve" in question or "adresse" in question and "e-mail" not in question:
            location_asked += 1
            # the address of the test first; a street of the demo commune if it is not accepted
            replies = stack.say(ADDRESS if location_asked == 1 else "12 rue Pasteur", sender)
        elif "décri" in question:
            replies = stack.say(f"Un trou profond sur la chaussée. Contact : {NAME}, {PHONE}.", sender)
        elif "photo" in question:
            replies = stack.say("non pas de photo", sender)
        elif "e-mail" in question:
            replies = stack.say(EMAIL, sender)
        elif "téléphone" in question:
            replies = stack.say(PHONE, sender)
        elif "associer" in question:
            replies = stack.say("/deny", sender)
        elif "confirm" in question or "enregistre" in question:
            replies = stack.say("/affirm", sender)
        else:
            pytest.fail(f"unexpected question in the report: {texts(replies)}")
    pytest.fail(f"no report reference: {texts(replies)}")


def staff_reads(stack: Stack, appointment: str, incident: str) -> None:
    """The back office handles the same records (staff API and Open311), so its log counts too."""
    auth = {"Authorization": f"Bearer {STAFF_TOKEN}"}
    for path in (f"/api/appointments/{appointment}", f"/api/incidents/{incident}",
                 f"/open311/v2/requests/{incident}.json"):
        answer = httpx.get(stack.backoffice_url + path, headers=auth, timeout=30)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])


def stored_the_data(stack: Stack, appointment: str) -> None:
    """The data did go through every process (so the grep below is not vacuous)."""
    import sqlite3

    with sqlite3.connect(stack.database_url.split("///", 1)[1]) as db:
        row = db.execute("SELECT citizen_name, citizen_email FROM booking_appointments WHERE reference = ?",
                         (appointment,)).fetchone()
    assert row == (NAME, EMAIL), row
    with sqlite3.connect(stack.tracker_database) as db:
        events = " ".join(r[0] for r in db.execute("SELECT data FROM events").fetchall())
    assert EMAIL in events and ANTS in events


def leaks(stack: Stack) -> dict[str, list[str]]:
    """{process: [what appeared]} over the three processes' logs."""
    found = {}
    for process in ("rasa", "actions", "backoffice"):
        log = stack.log(process)
        assert log, f"no log captured for {process}"
        lowered = log.lower()
        hits = [f"{kind}: {value!r}" for kind, values in FORBIDDEN.items() for value in values
                if value.lower() in lowered]
        if hits:
            found[process] = hits
    return found


def context(log: str, value: str, width: int = 160) -> str:
    at = log.lower().find(value.lower())
    return log[max(0, at - width): at + width].replace("\n", " | ") if at >= 0 else ""


def run_conversations(debug: bool) -> tuple[Stack, dict[str, list[str]], dict[str, str]]:
    model = newest_model()
    if model is None or not model.exists():
        if os.environ.get("CI"):
            pytest.fail("no trained model: scripts/test.sh trains one before pytest")
        pytest.skip("no trained model")
    with Stack(model=model, demo_data=True, debug=debug, env={"STAFF_API_TOKEN": STAFF_TOKEN}) as stack:
        appointment = book(stack, f"pii-{uuid.uuid4().hex[:8]}")
        incident = report(stack, f"pii-{uuid.uuid4().hex[:8]}")
        staff_reads(stack, appointment, incident)
        stored_the_data(stack, appointment)
        found = leaks(stack)
        excerpts = {}
        for process, hits in found.items():
            value = hits[0].split(": ", 1)[1].strip("'\"")
            excerpts[process] = context(stack.log(process), value)
        return stack, found, excerpts


def test_no_personal_data_in_the_logs_at_the_default_level():
    _, found, excerpts = run_conversations(debug=False)
    assert not found, "personal data in the logs:\n" + "\n".join(
        f"{process}: {hits}\n    ...{excerpts[process]}..." for process, hits in found.items())


@pytest.mark.skipif(os.environ.get("PII_LOG_DEBUG") == "0", reason="PII_LOG_DEBUG=0")
def test_what_the_debug_level_reveals(capsys):
    """Reported, not asserted: debug logging is for a developer's machine, never production."""
    _, found, excerpts = run_conversations(debug=True)
    with capsys.disabled():
        print("\nDebug level: personal data in the logs of", sorted(found) or "no process")
        for process, hits in found.items():
            print(f"  {process}: {', '.join(hits[:8])}\n    ...{excerpts[process][:300]}...")
