"""Which place a question is about: this commune, or another town ("la mairie de Lyon").

The assistant knows only its own commune. A question naming a facility "de <another town>" must
not be answered with this commune's hours: ``other_town(text, ...)`` finds that town's name.
"""
from __future__ import annotations

import re

from rapidfuzz import fuzz

from townhall.knowledge.streets import STREET_TYPES
from townhall.text import fold

_STOP = {
    "est", "sont", "ouvre", "ouvert", "ouverte", "ouverts", "ouvertes", "ferme", "fermee", "fermes", "fermees",
    "c", "ce", "cet", "cette", "demain", "aujourd", "aujourd'hui", "hui", "svp", "stp", "s'il", "sil", "pour",
    "a", "au", "aux", "en", "et", "ou", "quand", "quel", "quels", "quelle", "quelles", "horaires", "horaire",
    "pendant", "jusqu", "merci", "le", "les", "la", "l", "ce", "il", "elle", "y", "svp", "si", "qui", "que",
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche", "matin", "soir", "midi", "apres",
    "ouvrent", "ferment", "adresse", "numero", "telephone", "mail", "email", "ca", "cela", "vous", "je", "j",
    "me", "m", "on", "nous", "please", "bien", "encore", "maintenant", "actuellement", "ajd", "today",
}
_NOT_PLACES = {
    "ville", "la ville", "commune", "la commune", "village", "le village", "quartier", "le quartier", "secteur",
    "centre", "centre ville", "la", "le", "les", "chez moi", "chez nous", "garde", "naissance", "mariage",
    "deces", "l'annee", "annee", "semaine", "la semaine", "noel", "paques", "ete", "l'ete", "hiver", "l'hiver",
    "printemps", "automne", "vacances", "mon domicile", "domicile", "proximite", "ici",
}
_DATE_WORDS = {  # "la mairie à la Toussaint" names a day, not a town
    "toussaint", "noel", "paques", "pentecote", "ascension", "assomption", "armistice", "vacances", "rentree",
    "partir", "nouvel", "jour", "fete", "janvier", "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout",
    "septembre", "octobre", "novembre", "decembre", "heure", "heures", "combien", "quelle", "quel", "midi", "minuit",
}
_POSSESSIVES = {"ma", "mon", "mes", "notre", "nos", "votre", "vos", "cette", "ce", "la ville", "son", "sa", "leur"}
_PARTICLES = {"sur", "en", "de", "la", "le", "les", "du", "des", "sous", "les", "d", "l", "lès", "et", "aux"}
_TOKEN = re.compile(r"[\w'’\-]+|[?!.,;:()]", re.UNICODE)


def _title(name: str) -> str:
    """"saint-nazaire" -> "Saint-Nazaire", "aix-en-provence" -> "Aix-en-Provence" (as typed when capitalised)."""
    if name != name.lower():
        return name
    words = re.split(r"([\s\-])", name)
    out = []
    for i, word in enumerate(words):
        if i > 0 and word in _PARTICLES:
            out.append(word)
        elif word.startswith(("d'", "l'")) and len(word) > 2:
            out.append(word[:2] + word[2:3].upper() + word[3:])
        else:
            out.append(word[:1].upper() + word[1:])
    return "".join(out)


def _is_own(candidate: str, own_names: list[str]) -> bool:
    folded = fold(candidate).replace("-", " ")
    for own in own_names:
        own = fold(own).replace("-", " ")
        if not own:
            continue
        if folded == own or own.startswith(folded) or folded.startswith(own.split()[0]):
            return True
        if fuzz.ratio(folded, own) >= 85 or fuzz.ratio(folded, own.split()[0]) >= 85:
            return True
    return False


def other_town(text: str | None, commune_name: str, own_names: list[str] = ()) -> str | None:
    """The other town a facility question names ("Lyon" in "horaires de la mairie de lyon"), or None.

    ``own_names``: names that belong to this commune (facilities' names, streets) and are not towns.
    """
    tokens = _TOKEN.findall((text or "")[:300].replace("’", "'"))
    keys = [fold(t) for t in tokens]
    for i, key in enumerate(keys):
        if key not in _FACILITY_KEYS and " ".join(keys[i:i + 2]) not in _FACILITY_KEYS \
                and " ".join(keys[i:i + 3]) not in _FACILITY_KEYS:
            continue
        width = 3 if " ".join(keys[i:i + 3]) in _FACILITY_KEYS else 2 if " ".join(keys[i:i + 2]) in _FACILITY_KEYS else 1
        j = i + width
        if j >= len(tokens):
            return None
        words = list(tokens[j:j + 6])
        if keys[j] == "du":  # "la mairie du Mans": de + Le Mans
            words = ["Le"] + words[1:]
        elif keys[j] in ("de", "a", "sur"):
            words = words[1:]
        elif keys[j].startswith("d'") and len(keys[j]) > 2:
            words[0] = words[0][2:]
        else:
            continue
        name = _candidate(words)
        if name and _is_other(name, commune_name, own_names):
            name = _title(name)
            return name[:1].upper() + name[1:]
        return None
    return None


_FACILITY_KEYS = {
    "mairie", "hotel de ville", "piscine", "mediatheque", "bibliotheque", "decheterie", "dechetterie",
    "cimetiere", "ccas", "police municipale", "service technique", "services techniques", "ville", "commune",
}


def _candidate(words: list[str]) -> str:
    candidate: list[str] = []
    for word in words[:5]:
        key = fold(word)
        if not key or not re.match(r"\w", key):
            break
        if key in _STOP and not (not candidate and key in ("la", "le", "les")):
            break
        candidate.append(word)
    while candidate and fold(candidate[-1]) in ("la", "le", "les", "l", "de", "du", "des", "d"):
        candidate.pop()
    return " ".join(candidate).strip("-' ")


def _is_other(name: str, commune_name: str, own_names) -> bool:
    key = fold(name)
    first = key.split()[0] if key else ""
    if not key or key in _NOT_PLACES or first in _POSSESSIVES or first in STREET_TYPES or key[:1].isdigit():
        return False
    if first in ("la", "le", "les") and (len(key.split()) == 1 or key.split()[1] in STREET_TYPES):
        return False
    if _DATE_WORDS & set(key.replace("'", " ").split()):
        return False
    if _is_own(name, [commune_name]):
        return False
    return not any(key in fold(own) for own in own_names)
