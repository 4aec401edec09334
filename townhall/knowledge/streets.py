"""The commune's streets and the sectors they belong to, and fuzzy matching of what citizens type.

``match("4 av jean jaures")`` finds "avenue Jean Jaurès": accents, case, typos, abbreviations
(av., bd, pl., r., imp., ch., rte, st) and leading house numbers are tolerated.
"""
from __future__ import annotations

import re

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.orm import Session

from townhall.knowledge.models import Street
from townhall.text import fold

# (min_lat, min_lon, max_lat, max_lon) of the (fictional) commune of Villeneuve-sur-Loire
COMMUNE_BBOX = (47.195, -1.625, 47.255, -1.525)

MAX_QUERY_CHARS = 200
MIN_SCORE = 82
STREET_TYPES = {
    "rue": "rue", "r": "rue",
    "avenue": "avenue", "av": "avenue", "ave": "avenue", "avn": "avenue",
    "boulevard": "boulevard", "bd": "boulevard", "bld": "boulevard", "boul": "boulevard", "blvd": "boulevard",
    "place": "place", "pl": "place",
    "impasse": "impasse", "imp": "impasse",
    "allee": "allee", "all": "allee",
    "chemin": "chemin", "ch": "chemin", "chem": "chemin",
    "route": "route", "rte": "route",
    "quai": "quai", "square": "square", "sq": "square", "cours": "cours", "passage": "passage",
}
_WORDS = {"st": "saint", "ste": "sainte", "gal": "general", "mal": "marechal", "pdt": "president"}
_LEADING = re.compile(r"^(?:(?:au|a|aux|en|sur|dans|devant|vers|pres|du|de|la|le|les|l|d)\s+)+")
_NUMBER = re.compile(r"^\d+\s*(?:bis|ter|quater|[a-d])?\b\s*,?\s*")
_SAYING = re.compile(r"^(?:j habite|je suis|je vis|je reside|moi c est|ma rue c est|c est|chez moi)\s+(?:(?:au|a|dans la|dans l|en|sur)\s+)?(?:\d+\s*(?:bis|ter)?\s+)?")
_SECTOR_WORDS = re.compile(r"^(?:le\s+|la\s+)?(?:secteur|quartier|zone)\s+")


def in_commune(lat: float, lon: float) -> bool:
    """Whether a GPS position lies within the commune's bounding box."""
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError):
        return False
    min_lat, min_lon, max_lat, max_lon = COMMUNE_BBOX
    return min_lat <= lat <= max_lat and min_lon <= lon <= max_lon


def normalise(text: str | None) -> str:
    """Folded street text: "4, Av. Jean-Jaurès" -> "avenue jean jaures"."""
    folded = fold((text or "")[:MAX_QUERY_CHARS]).replace("-", " ").replace("'", " ").replace(".", " ")
    folded = re.sub(r"\s+", " ", folded).strip()
    folded = _LEADING.sub("", folded)
    folded = _NUMBER.sub("", folded)
    folded = _LEADING.sub("", folded)
    words = folded.split()
    if words and words[0] in STREET_TYPES:
        words[0] = STREET_TYPES[words[0]]
    elif words and len(words) > 1 and len(words[0]) >= 4:  # "avenu", "boulvard"
        kind = max(set(STREET_TYPES.values()), key=lambda t: fuzz.ratio(words[0], t))
        if fuzz.ratio(words[0], kind) >= 80:
            words[0] = kind
    words = [_WORDS.get(w, w) for w in words]
    return " ".join(words)


def _split(normalised: str) -> tuple[str | None, str]:
    """("avenue", "jean jaures"); articles after the type are dropped from the distinctive part."""
    words = normalised.split()
    kind = words[0] if words and words[0] in STREET_TYPES.values() else None
    rest = words[1:] if kind else words
    while rest and rest[0] in ("de", "du", "des", "la", "le", "l", "d"):
        rest = rest[1:]
    return kind, " ".join(rest)


def all(session: Session) -> list[Street]:  # noqa: A001
    return list(session.execute(select(Street).order_by(Street.name)).scalars())


def sectors(session: Session) -> list[str]:
    return list(session.execute(select(Street.sector).distinct().order_by(Street.sector)).scalars())


def _score(query: str, street: Street) -> float:
    target = normalise(street.name)
    q_kind, q_core = _split(query)
    t_kind, t_core = _split(target)
    if not q_core or not t_core:
        return 0.0
    if f" {target} " in f" {query} ":
        return 100.0 + len(target)  # the full name typed inside a longer text: the longest wins
    core = fuzz.ratio(q_core, t_core)
    if q_kind and t_kind and q_kind != t_kind:
        core -= 15  # "rue Jean Jaurès" is not "avenue Jean Jaurès", but may be what was meant
    if len(q_core) > len(t_core) + 3:  # a longer text that contains a street name with a typo
        core = max(core, fuzz.partial_ratio(t_core, q_core) - 5 if len(t_core) >= 6 else 0)
    return core


def match(session: Session, text: str | None) -> Street | None:
    """The commune's street meant by ``text``, or None when nothing is close enough."""
    query = normalise(text)
    if len(query) < 3:
        return None
    best, best_score = None, 0.0
    for street in all(session):
        score = _score(query, street)
        if score > best_score:
            best, best_score = street, score
    return best if best_score >= MIN_SCORE else None


def match_sector(session: Session, text: str | None) -> str | None:
    """A sector name typed by the citizen ("secteur nord", "Nord"), or None."""
    query = _SECTOR_WORDS.sub("", fold((text or "")[:MAX_QUERY_CHARS])).strip()
    if not query:
        return None
    for sector in sectors(session):
        if fold(sector) == query or fuzz.ratio(fold(sector), query) >= 85:
            return sector
    return None


def alone(session: Session, text: str | None) -> Street | None:
    """The street when ``text`` is nothing but a street of the commune ("rue Pasteur", "au 4 av
    jean jaures"), None when it says more ("un trou rue Pasteur")."""
    query = _SAYING.sub("", normalise(text))
    street = match(session, text)
    if street is None:
        return None
    target = normalise(street.name)
    if fuzz.ratio(query, target) >= MIN_SCORE or fuzz.ratio(_split(query)[1], _split(target)[1]) >= MIN_SCORE:
        return street
    return None
