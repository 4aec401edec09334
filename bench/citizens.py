"""Simulated citizens for the load benchmark: whole conversations in realistic French.

Each conversation has a goal (practical questions, a booking, a report, a follow-up) and
answers what the assistant actually asks, the way a citizen would: it reads the bot's last
messages and picks its next message (a button the bot offered, or a typed answer). The
messages are written like citizens write: missing accents, typos, short and long forms.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence

REFERENCE = re.compile(r"(?:Votre référence : |sous la référence |joint au signalement )((?:RDV|SIG)-[A-Z2-9]{6})")

GREETINGS = ["bonjour", "Bonjour madame", "slt", "bonsoir", "bjr", "Bonjour, j'ai une question"]
HOURS = [
    "la piscine est ouverte dimanche ?", "c koi les horaires de la mediatheque", "la mairie ouvre a quelle heure demain ?",
    "horaires de la decheterie svp", "le cimetière ferme à quelle heure ce soir ?", "piscine ouverte ce week-end ?",
]
FOLLOW_UPS = ["et le samedi ?", "et demain ?", "et lundi ?"]
ADDRESSES = ["c'est où la déchèterie ?", "adresse du ccas svp", "ou se trouve la mediatheque", "la police municipale c'est ou"]
CONTACTS = ["le numéro du CCAS svp", "comment joindre la police municipale", "mail des services techniques", "tel de la mairie"]
WASTE = [
    "quand passent les encombrants rue Pasteur ?", "collecte du verre avenue Jean Jaurès", "poubelle jaune rue Victor Hugo c quand",
    "ramassage des dechets verts place de la Mairie", "les ordures ménagères rue de la République c'est quel jour ?",
]
ALERTS = ["il y a des travaux en ce moment ?", "des alertes en cours ?", "y a des coupures d'eau ?"]
PROCEDURES = ["quels papiers pour refaire ma carte d'identité ?", "comment faire un passeport", "inscription sur les listes electorales"]
GOODBYES = ["merci beaucoup, au revoir", "merci bonne journée", "super merci", "ok merci a+"]

BOOKING_STARTS = [
    "je voudrais un rendez-vous pour une carte d'identité", "je voudrais un rdv pour un passeport",
    "prendre rdv carte d'identite svp", "Bonjour, je souhaiterais prendre rendez-vous pour faire mon passeport",
]
NAMES = ["Camille Martin", "Jean Dupont", "Fatima Benali", "Lucas Bernard", "Chloé Petit", "Mehdi Haddad", "Léa Moreau"]
INCIDENT_STARTS = [
    "il y a un nid de poule énorme rue Pasteur", "lampadaire en panne avenue Jean Jaurès",
    "dépôt sauvage de déchets rue Victor Hugo", "un tag sur le mur rue de la République",
    "banc cassé place de la Mairie", "le feu rouge ne marche plus avenue Jean Jaurès",
]
DESCRIPTIONS = [
    "Un trou profond sur la chaussée devant la boulangerie.", "Il ne s'allume plus depuis trois jours.",
    "Des sacs et un matelas abandonnés sur le trottoir.", "Un grand tag sur le mur de l'école.",
    "Le banc est cassé, une planche manque.",
]
GOALS = (("info", 0.4), ("booking", 0.3), ("report", 0.2), ("followup", 0.1))
STREETS = ["rue Pasteur", "avenue Jean Jaurès", "rue Victor Hugo", "place de la Mairie", "rue de la République"]


@dataclass
class Reply:
    """What the assistant answered to one message: its texts and the buttons it offered."""

    texts: List[str]
    buttons: List[dict]

    @classmethod
    def from_rest(cls, messages: Sequence[dict]) -> "Reply":
        texts = [m["text"] for m in messages if isinstance(m.get("text"), str)]
        buttons = [b for m in messages for b in (m.get("buttons") or []) if isinstance(b, dict)]
        return cls(texts, buttons)

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    def says(self, *fragments: str) -> bool:
        low = self.text.lower()
        return any(f.lower() in low for f in fragments)

    def references(self) -> List[str]:
        return REFERENCE.findall(self.text)

    def button(self, rng: random.Random, exclude: Sequence[str] = ()) -> Optional[str]:
        choices = [b for b in self.buttons if not any(x.lower() in str(b.get("title", "")).lower() for x in exclude)]
        if not choices:
            return None
        chosen = rng.choice(choices)
        return str(chosen.get("payload") or chosen.get("title"))


@dataclass
class Conversation:
    """One citizen's conversation: ``next_message(reply)`` gives the next message or None."""

    goal: str
    rng: random.Random
    email: str
    references: List[str] = field(default_factory=list)
    known_reports: List[str] = field(default_factory=list)
    sent: int = 0
    done: bool = False
    max_messages: int = 14
    _script: List[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        pick = self.rng.choice
        if self.goal == "info":
            self._script = [pick(GREETINGS), pick(HOURS), pick(FOLLOW_UPS), pick(ADDRESSES), pick(CONTACTS),
                            pick(WASTE), pick(ALERTS), pick(GOODBYES)]
        elif self.goal == "followup" and self.known_reports:
            self._script = [pick(GREETINGS), f"où en est mon signalement {pick(self.known_reports)} ?",
                            pick(PROCEDURES), pick(GOODBYES)]
        elif self.goal == "followup":
            self.goal = "info"
            self.__post_init__()

    def first_message(self) -> str:
        self.sent = 1
        if self.goal == "booking":
            return self.rng.choice(BOOKING_STARTS)
        if self.goal == "report":
            return self.rng.choice(INCIDENT_STARTS)
        return self._script[0]

    def next_message(self, reply: Reply) -> Optional[str]:
        self.references.extend(r for r in reply.references() if r not in self.references)
        if self.done or self.sent >= self.max_messages:
            return None
        message = self._react(reply)
        if message is None:
            self.done = True
            return None
        self.sent += 1
        return message

    # ------------------------------------------------------------------ goals
    def _react(self, reply: Reply) -> Optional[str]:
        if self.goal in ("info", "followup"):
            return self._script[self.sent] if self.sent < len(self._script) else None
        handler: Callable[[Reply], Optional[str]] = self._booking if self.goal == "booking" else self._report
        return handler(reply)

    def _booking(self, r: Reply) -> Optional[str]:
        if any(ref.startswith("RDV-") for ref in r.references()):
            return self.rng.choice(GOODBYES)
        if self.references and self.sent >= 2:
            return None
        if r.says("Confirmez-vous", "est-ce oui ou non", "oui » pour réserver"):  # after the recap
            return "oui"
        if r.says("pré-demande ANTS", "numéro de pré-demande"):
            return "non" if self.rng.random() < 0.6 else "".join(self.rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(10))
        if r.says("combien de personnes", "nombre de personnes"):
            return "1" if self.rng.random() < 0.8 else "2"
        if r.says("horaires libres", "horaire dans la liste", "encore libres", "plus proches", "Lequel vous convient"):
            return r.button(self.rng, exclude=("autre jour",)) or "10 h"
        if r.says("Quel jour", "autre jour", "Donnez un jour", "Quel autre jour"):
            return r.button(self.rng) or self.rng.choice(["mardi prochain", "jeudi", "dans 15 jours"])
        if r.says("À quel nom", "prénom et votre nom"):
            return self.rng.choice(NAMES)
        if r.says("adresse e-mail"):
            return self.email
        if r.says("Pour quelle démarche"):
            return r.button(self.rng) or "passeport"
        return r.button(self.rng) if r.buttons else None

    def _report(self, r: Reply) -> Optional[str]:
        if any(ref.startswith("SIG-") for ref in r.references()):
            return self.rng.choice(GOODBYES)
        if self.references and self.sent >= 2:
            return None
        if r.says("Je l'enregistre"):  # the recap also names the category: answer it first
            return "oui"
        if r.says("associer à ce signalement"):
            return "oui" if self.rng.random() < 0.5 else "non"
        if r.says("Où se trouve", "rue de la commune"):
            return self.rng.choice(STREETS)
        if r.says("décrire le problème", "Décrivez le problème", "Une phrase suffit"):
            return self.rng.choice(DESCRIPTIONS)
        if r.says("Avez-vous une photo", "Envoyez une image"):
            return "non"
        if r.says("informé par e-mail", "adresse e-mail"):
            return self.email if self.rng.random() < 0.5 else "non"
        if r.says("Quel type de problème", "catégorie"):
            return r.button(self.rng) or "voirie"
        return None


def pick_goal(rng: random.Random) -> str:
    """A conversation's goal, in the benchmark's mix (GOALS)."""
    return rng.choices([g for g, _ in GOALS], weights=[w for _, w in GOALS])[0]


def long_conversation_messages(count: int, rng: random.Random) -> List[str]:
    """A long conversation made of practical questions (no form): ``count`` messages."""
    pool = HOURS + FOLLOW_UPS + ADDRESSES + CONTACTS + WASTE + ALERTS + PROCEDURES
    return [rng.choice(GREETINGS)] + [rng.choice(pool) for _ in range(count - 1)]
