"""Emergencies are not reports: they go to the emergency numbers at once.

:func:`detect` reads French text (any case, with or without accents, with common typos) and
returns which number to call and what to tell the citizen, or None. It errs on the side of
caution for gas, fallen power lines, fire, injured people and flooded homes, and stays quiet
for ordinary reports ("une fuite d'eau sur le trottoir", "le feu rouge est en panne").
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz.distance import DamerauLevenshtein

from townhall.text import fold

GAS = "gas"
POWER_LINE = "power_line"
FLOODED_HOME = "flooded_home"
INJURED = "injured"
FIRE = "fire"
VIOLENCE = "violence"


@dataclass(frozen=True)
class Emergency:
    kind: str
    numbers: tuple[str, ...]  # the first one is the one to call
    message: str  # French, for the citizen


_NOT_FILED = "Je n'enregistre pas de signalement pour cela."
_MESSAGES = {
    GAS: Emergency(
        GAS,
        ("112", "18"),
        "Une odeur ou une fuite de gaz est une urgence. Éloignez-vous, n'allumez rien, ne touchez à "
        "aucun interrupteur et appelez tout de suite le 112 ou les pompiers au 18. "
        "Urgence gaz (GRDF) : 0 800 47 33 33. " + _NOT_FILED,
    ),
    POWER_LINE: Emergency(
        POWER_LINE,
        ("112", "18"),
        "Un câble électrique tombé est dangereux. Ne vous en approchez pas et éloignez les autres. "
        "Appelez tout de suite le 112 ou les pompiers au 18. " + _NOT_FILED,
    ),
    FLOODED_HOME: Emergency(
        FLOODED_HOME,
        ("18", "112"),
        "Un logement inondé est une urgence. Coupez l'électricité si vous pouvez le faire sans risque "
        "et appelez les pompiers au 18 ou le 112. " + _NOT_FILED,
    ),
    INJURED: Emergency(
        INJURED,
        ("15", "112"),
        "Une personne est blessée : appelez tout de suite le SAMU au 15 ou le 112. "
        "Restez auprès d'elle si vous le pouvez sans danger. " + _NOT_FILED,
    ),
    FIRE: Emergency(
        FIRE,
        ("18", "112"),
        "Un incendie est une urgence : appelez tout de suite les pompiers au 18 ou le 112. " + _NOT_FILED,
    ),
    VIOLENCE: Emergency(
        VIOLENCE,
        ("17", "112"),
        "En cas d'agression ou de danger immédiat, appelez tout de suite la police au 17 ou le 112. " + _NOT_FILED,
    ),
}

# Distinctive words whose typos we repair before matching (one edit, two from 8 letters on).
_VOCABULARY = (
    "odeur",
    "electrique",
    "electriques",
    "electricite",
    "inondation",
    "inonde",
    "inondee",
    "blesse",
    "blessee",
    "blesses",
    "blessure",
    "incendie",
    "inconscient",
    "inconsciente",
    "agression",
)

_HOME = r"(maison|appartement|appart|logement|cave|sous sol|salon|cuisine|chambre|garage|chez (moi|nous|lui|elle|mes|ma|mon))"
_PATTERNS: tuple[tuple[str, re.Pattern], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        (GAS, r"\b(odeur|sent|sens|sentir|fuite|fuit|fuyait|respire|pue)\b.{0,30}\bga[zs]\b"),
        (GAS, r"\bga[zs]\b.{0,20}\b(fuit|fuite|odeur|sent|pue)\b"),
        (GAS, r"\b(conduite|canalisation|compteur) de ga[zs]\b"),
        (
            POWER_LINE,
            r"\b(cable|cables|fil|fils|ligne|lignes)( electri[a-z]*| haute tension| edf| enedis)\b.{0,40}"
            r"\b(tombe|tombes|tombee|tombees|par terre|au sol|arrache|arraches|arrachee|pend|pendent|dénude|denude|sectionne|casse|cassee)",
        ),
        (
            POWER_LINE,
            r"\b(tombe|tombes|tombee|tombees|arrache|arrachee)\b.{0,20}\b(cable|fil|ligne)s? electri[a-z]*\b",
        ),
        (POWER_LINE, r"\b(poteau|pylone) electri[a-z]*.{0,30}\b(tombe|couche|casse)"),
        (FLOODED_HOME, rf"\b(inonde|inondee|inondes|inondees|inondation)\b.{{0,40}}{_HOME}"),
        (FLOODED_HOME, rf"{_HOME}.{{0,40}}\b(inonde|inondee|inondes|inondees|inondation|sous l eau|prend l eau|l eau monte)\b"),
        (FLOODED_HOME, rf"\b(l eau|eau) (monte|rentre|entre)\b.{{0,30}}{_HOME}"),
        (INJURED, r"\b(blesse|blessee|blesses|blessees|blessure|blessures|saigne|inconscient|inconsciente)\b"),
        (INJURED, r"\b(ne respire plus|fait un malaise|a fait un malaise|crise cardiaque|renverse par une voiture|renversee par une voiture)\b"),
        (INJURED, r"\b(accident)\b.{0,40}\b(personne|pieton|cycliste|enfant|victime|homme|femme)\b"),
        (FIRE, r"\b(incendie|incendies|au feu|en feu|prend feu|pris feu|flammes|ca brule|qui brule)\b"),
        (VIOLENCE, r"\b(agression|agresse|agressee|arme a feu|arme blanche|couteau|bagarre|on me menace|menace de mort)\b"),
    )
)


def _normalise(text: str) -> str:
    words = re.findall(r"[a-z0-9]+", fold(text))
    repaired = []
    for word in words:
        if len(word) >= 5 and word not in _VOCABULARY:
            allowed = 2 if len(word) >= 8 else 1
            best = min(_VOCABULARY, key=lambda target: DamerauLevenshtein.distance(word, target))
            if DamerauLevenshtein.distance(word, best) <= allowed:
                word = best
        repaired.append(word)
    return " ".join(repaired)


def detect(text: str | None) -> Emergency | None:
    """The emergency ``text`` describes, or None. Slash payloads ("/inform{...}") are never emergencies."""
    if not text or text.lstrip().startswith("/"):
        return None
    normalised = _normalise(text[:4000])
    for kind, pattern in _PATTERNS:
        if pattern.search(normalised):
            return _MESSAGES[kind]
    return None


def message_for(kind: str) -> Emergency | None:
    return _MESSAGES.get(kind)
