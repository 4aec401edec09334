"""Sample conversations for the review tool: what citizens said and what the bot answered.

Used by the tests, and by the demo to fill the review tool; ``conversation_store.sample``
writes them in the dialogue engine's own format:

    python -m conversation_store.sample            # writes into TRACKER_DATABASE_URL's database
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class Said:
    """A citizen message and what the NLU predicted."""

    text: str
    intent: str
    confidence: float
    entities: list[tuple[int, int, str, str]] = field(default_factory=list)  # start, end, entity, value
    alternatives: list[tuple[str, float]] = field(default_factory=list)


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
