"""What a citizen's words say about when they would like to come: a day named, or a part of the day."""
from __future__ import annotations

import re
from datetime import time

from townhall.text import fold

# Words that name a day (not only a time of the day): "jeudi", "demain", "le 24", "le 3 janvier",
# "dans 15 jours", "la semaine prochaine", "jeudi en huit", "après les vacances".
_DAY_WORDS = re.compile(
    r"\b(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|aujourd'hui|aujourd hui|demain|apres-demain|"
    r"apres demain|surlendemain|semaine|quinzaine|mois|vacances|noel|toussaint|paques|"
    r"janvier|janv|fevrier|fevr|mars|avril|avr|mai|juin|juillet|juil|aout|septembre|sept|octobre|oct|"
    r"novembre|nov|decembre|dec|le \d{1,2}(?:er)?|\d{1,2}(?:er)? (?:et|ou)|\d{1,2}\s*[/.\-]\s*\d{1,2}|"
    r"dans \d{1,3} jours?|dans (?:un|une|deux|trois|quinze) (?:jours?|semaines?))\b"
)

# Parts of the day and the time they point at (the offer shows the free times nearest to it);
# the first that matches wins, so "fin de matinée" comes before "matin" and "après-midi" before "midi".
_PERIODS = (
    (re.compile(r"\b(tot le matin|de bonne heure|debut de (?:la )?matinee|a l ouverture|des l ouverture)\b"), time(8, 30)),
    (re.compile(r"\b(fin de (?:la )?matinee|fin de matin|avant midi|avant le dejeuner)\b"), time(11, 0)),
    (re.compile(r"\b(matin|matinee)\b"), time(9, 30)),
    (re.compile(r"\b(debut d apres midi|debut d aprem|debut de l apres midi)\b"), time(14, 0)),
    (re.compile(r"\b(fin d apres midi|fin d aprem|fin de l apres midi|fin de journee)\b"), time(16, 30)),
    (re.compile(r"\b(apres midi|aprem)\b"), time(14, 30)),
    (re.compile(r"\b(soir|le plus tard possible|tard)\b"), time(17, 0)),
    (re.compile(r"\b(midi|pause dejeuner|heure du dejeuner)\b"), time(12, 0)),
)


def names_a_day(text: str | None) -> bool:
    """Whether the words name a day ("plutôt jeudi"), not only a part of it ("en fin de matinée")."""
    return bool(_DAY_WORDS.search(fold(text).replace("’", "'")))


def preferred_time(text: str | None) -> time | None:
    """The time a part of the day points at: "plutôt en fin de matinée" -> 11:00, "l'après-midi" -> 14:30."""
    folded = re.sub(r"[-'’]", " ", fold(text))
    for pattern, at in _PERIODS:
        if pattern.search(folded):
            return at
    return None
