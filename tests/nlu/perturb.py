"""CheckList-style perturbations of the held-out NLU set (Ribeiro et al., ACL 2020).

Each perturbation turns one held-out example into a copy written the way citizens really
write (a typo, no accents, SMS forms, capitals, a greeting before, politeness after, a second
request after the first) and says what the NLU must still answer: the same intent, and the
same entities wherever the perturbation leaves them readable. Everything is deterministic:
the choices of an example come from a ``random.Random`` seeded with the CRC-32 of the
perturbation's name and the text, never from the global generator, so every run (and every
machine) evaluates the same copies.

Entity annotations follow the text: offsets are recomputed after each edit, and an edit never
straddles an entity's boundary (typos and SMS forms are only made outside entity spans;
accents and capitals change characters one for one). Each entity keeps its ``value``: for
categorical entities it is the canonical value or the synonym it came from, which an accent
or a capital does not change; free-text entities are read from the new span.

    from tests.nlu.perturb import PERTURBATIONS, load_examples, perturbed_set
    examples = load_examples("tests/nlu/heldout.yml")
    noisy = perturbed_set(examples, "typo_swap")   # examples it applies to, perturbed

A perturbation that cannot apply to an example (no accent to remove, no word of four letters
outside the entities, a bare "oui" that takes no greeting) leaves it out, so each set reports
its own ``n``.
"""
from __future__ import annotations

import random
import re
import unicodedata
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

# Intents that carry a request of their own: the first of two joined requests must win.
REQUEST_INTENTS = frozenset({
    "ask_opening_hours", "ask_address", "ask_contact", "ask_procedure", "ask_waste_collection",
    "ask_alerts", "book_appointment", "cancel_appointment", "reschedule_appointment",
    "report_incident", "check_report_status",
})
# A greeting before these, or politeness after the first three, changes nothing worth testing
# ("Bonjour, bonjour") or makes the message ambiguous ("Bonjour, non").
NO_PREFIX_INTENTS = frozenset({"greet", "goodbye", "thank", "affirm", "deny"})
NO_SUFFIX_INTENTS = frozenset({"greet", "goodbye", "thank"})

GREETINGS = ("Bonjour, ", "Bonsoir madame, ", "Bonjour madame, monsieur, ", "bjr, ", "Bonsoir, ")
POLITENESS = (" merci", " svp", " s'il vous plaît", ", merci d'avance")
# How citizens chain two requests; a bare « et » is the commonest and the hardest.
JOINERS = (" et aussi ", " et puis ", ", et sinon ", ". Autre question : ", " et ")

# Written forms of SMS French (lower case), longest first when they overlap ("pour" / "pourquoi").
SMS_FORMS: Dict[str, str] = {
    "s'il vous plaît": "svp", "s'il vous plait": "svp", "s'il te plaît": "stp", "s'il te plait": "stp",
    "qu'est-ce que": "kesk", "est-ce que": "esk", "je ne sais pas": "jsp", "je sais pas": "jsp",
    "je voudrais": "jvoudrais", "je veux": "jveux", "je peux": "jpeux", "je suis": "jsuis",
    "je dois": "jdois", "j'ai": "jai", "rendez-vous": "rdv", "rendez vous": "rdv",
    "bonjour": "bjr", "bonsoir": "bsr", "salut": "slt", "merci": "mrc", "c'est": "c",
    "pourquoi": "pk", "quoi": "koi", "pour": "pr", "quand": "qd", "quelles": "kels", "quels": "kels",
    "quelle": "kel", "quel": "kel", "beaucoup": "bcp", "aujourd'hui": "ajd", "vous": "vs",
    "avec": "avc", "dans": "ds", "comment": "cmt", "quelqu'un": "qqn", "quelque chose": "qqch",
    "problème": "pb", "téléphone": "tel", "d'accord": "dac", "toujours": "tjrs", "parce que": "pcq",
    "numéro": "num", "qu'il": "kil", "tout": "tt",
}
_SMS_PATTERN = re.compile(
    r"(?<!\w)(?:" + "|".join(re.escape(k).replace("'", "['’]")
                             for k in sorted(SMS_FORMS, key=len, reverse=True)) + r")(?!\w)",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_]{4,}")  # a word of four letters or more
_GREETING_START = re.compile(r"^\W*(?:bonjour|bonsoir|bjr|slt|salut|hello|coucou|cc|hey)\b", re.IGNORECASE)
_TRAILING = re.compile(r"[\s?!.…]*$")


@dataclass(frozen=True)
class Example:
    """One message with its gold intent and entities ({"entity", "start", "end", "value"})."""

    text: str
    intent: str
    entities: Tuple[Dict[str, object], ...] = field(default_factory=tuple)

    def spans(self) -> List[Tuple[int, int]]:
        return [(int(e["start"]), int(e["end"])) for e in self.entities]


Edit = Tuple[int, int, str]  # replace text[start:end] by the string (start == end: insertion)


def load_examples(path: str | Path) -> List[Example]:
    """The examples of a Rasa NLU YAML file, entities as annotated (value = synonym or span)."""
    from rasa.shared.nlu.training_data.loading import load_data

    examples = []
    for message in load_data(str(path)).intent_examples:
        text = message.get("text")
        entities = tuple(
            {"entity": e["entity"], "start": e["start"], "end": e["end"],
             "value": e.get("value", text[e["start"]:e["end"]])}
            for e in message.get("entities", []) or []
        )
        examples.append(Example(text, message.get("intent"), entities))
    return examples


def seed_for(name: str, text: str) -> int:
    return zlib.crc32(f"{name}\x00{text}".encode("utf-8"))


def apply_edits(example: Example, edits: Sequence[Edit]) -> Example:
    """The example with ``edits`` made and every entity's offsets moved to follow its text.

    Edits must not overlap, and each one is either outside an entity or inside it; an edit
    across an entity's boundary is refused (ValueError). An insertion at an entity's start
    goes before the entity, one at its end after it.
    """
    edits = sorted(edits, key=lambda e: (e[0], e[1]))
    for (s1, e1, _), (s2, _, _) in zip(edits, edits[1:]):
        if s2 < e1:
            raise ValueError("overlapping edits")
    for start, end, _ in edits:
        for ent_start, ent_end in example.spans():
            outside = end <= ent_start or start >= ent_end
            inside = ent_start <= start and end <= ent_end and start < ent_end
            if not (outside or inside):
                raise ValueError("an edit crosses an entity boundary")
    pieces, cursor = [], 0
    for start, end, new in edits:
        pieces += [example.text[cursor:start], new]
        cursor = end
    pieces.append(example.text[cursor:])

    def moved(position: int, is_end: bool) -> int:
        shift = 0
        for start, end, new in edits:
            before = (end <= position and start < position) if is_end else end <= position
            if before:
                shift += len(new) - (end - start)
        return position + shift

    entities = tuple({**e, "start": moved(int(e["start"]), False), "end": moved(int(e["end"]), True)}
                     for e in example.entities)
    return replace(example, text="".join(pieces), entities=entities)


def _outside_entities(example: Example, start: int, end: int) -> bool:
    return all(end <= s or start >= e for s, e in example.spans())


def _words(example: Example) -> List[re.Match]:
    return [m for m in _WORD.finditer(example.text) if _outside_entities(example, m.start(), m.end())]


def _typo(example: Example, rng: random.Random, make: Callable[[str, random.Random], Optional[Tuple[int, int, str]]]
          ) -> Optional[Example]:
    words = _words(example)
    rng.shuffle(words)
    for word in words:
        edit = make(word.group(0), rng)
        if edit:
            start, end, new = edit
            return apply_edits(example, [(word.start() + start, word.start() + end, new)])
    return None


def _swap(word: str, rng: random.Random) -> Optional[Edit]:
    # Two neighbouring letters that differ, the first letter kept ("horaires" -> "hoarires").
    positions = [i for i in range(1, len(word) - 1) if word[i].lower() != word[i + 1].lower()]
    if not positions:
        return None
    i = rng.choice(positions)
    return i, i + 2, word[i + 1] + word[i]


def _drop(word: str, rng: random.Random) -> Optional[Edit]:
    i = rng.randrange(1, len(word))
    return i, i + 1, ""


def _double(word: str, rng: random.Random) -> Optional[Edit]:
    i = rng.randrange(1, len(word))
    return i, i, word[i]


def typo_swap(example: Example, rng: random.Random, pool: Sequence[Example] = ()) -> Optional[Example]:
    return _typo(example, rng, _swap)


def typo_drop(example: Example, rng: random.Random, pool: Sequence[Example] = ()) -> Optional[Example]:
    return _typo(example, rng, _drop)


def typo_double(example: Example, rng: random.Random, pool: Sequence[Example] = ()) -> Optional[Example]:
    return _typo(example, rng, _double)


def _strip_accent(char: str) -> str:
    base = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
    return base if len(base) == 1 else char  # one character for one: offsets stay valid


def no_accents(example: Example, rng: random.Random, pool: Sequence[Example] = ()) -> Optional[Example]:
    text = "".join(_strip_accent(c) for c in example.text)
    return replace(example, text=text) if text != example.text else None


def upper_case(example: Example, rng: random.Random, pool: Sequence[Example] = ()) -> Optional[Example]:
    text = "".join(c.upper() if len(c.upper()) == 1 else c for c in example.text)
    return replace(example, text=text) if text != example.text else None


def sms(example: Example, rng: random.Random, pool: Sequence[Example] = ()) -> Optional[Example]:
    edits = []
    for match in _SMS_PATTERN.finditer(example.text):
        if _outside_entities(example, match.start(), match.end()):
            key = match.group(0).lower().replace("’", "'")
            edits.append((match.start(), match.end(), SMS_FORMS[key]))
    return apply_edits(example, edits) if edits else None


def _lower_first(text: str) -> Optional[str]:
    """The first letter in lower case, unless the first word is an acronym or a code (CCAS, RDV-...)."""
    if text[:1].isupper() and not text[1:2].isupper() and not text[1:2].isdigit():
        return text[0].lower()
    return None


def prefix_greeting(example: Example, rng: random.Random, pool: Sequence[Example] = ()) -> Optional[Example]:
    if example.intent in NO_PREFIX_INTENTS or _GREETING_START.match(example.text):
        return None
    edits: List[Edit] = [(0, 0, rng.choice(GREETINGS))]
    first = _lower_first(example.text)
    if first:
        edits.append((0, 1, first))
    return apply_edits(example, edits)


def suffix_politeness(example: Example, rng: random.Random, pool: Sequence[Example] = ()) -> Optional[Example]:
    if example.intent in NO_SUFFIX_INTENTS:
        return None
    at = _TRAILING.search(example.text).start()
    if at == 0 or any(start < at < end for start, end in example.spans()):
        return None
    return apply_edits(example, [(at, at, rng.choice(POLITENESS))])


def joined_requests(example: Example, rng: random.Random, pool: Sequence[Example] = ()) -> Optional[Example]:
    """Two requests in one message ("... et aussi ..."): the first one's intent is expected."""
    if example.intent not in REQUEST_INTENTS:
        return None
    others = sorted((o for o in pool if o.intent in REQUEST_INTENTS and o.intent != example.intent
                     and not _GREETING_START.match(o.text)), key=lambda o: (o.intent, o.text))
    if not others:
        return None
    second = rng.choice(others)
    joiner = rng.choice(JOINERS)
    end = _TRAILING.search(example.text).start()
    end = max([end] + [int(e["end"]) for e in example.entities])  # never cut an entity
    first = apply_edits(example, [(end, len(example.text), "")]) if end < len(example.text) else example
    lower = _lower_first(second.text)
    if lower and not joiner.endswith(": "):
        second = apply_edits(second, [(0, 1, lower)])
    offset = len(first.text) + len(joiner)
    shifted = tuple({**e, "start": int(e["start"]) + offset, "end": int(e["end"]) + offset}
                    for e in second.entities)
    return Example(first.text + joiner + second.text, example.intent, first.entities + shifted)


Perturbation = Callable[[Example, random.Random, Sequence[Example]], Optional[Example]]
PERTURBATIONS: Dict[str, Perturbation] = {
    "typo_swap": typo_swap,
    "typo_drop": typo_drop,
    "typo_double": typo_double,
    "no_accents": no_accents,
    "sms": sms,
    "upper_case": upper_case,
    "prefix_greeting": prefix_greeting,
    "suffix_politeness": suffix_politeness,
    "joined_requests": joined_requests,
}


def perturb(example: Example, name: str, pool: Sequence[Example] = ()) -> Optional[Example]:
    """The perturbed copy of one example, or None when the perturbation does not apply to it."""
    rng = random.Random(seed_for(name, example.text))
    return PERTURBATIONS[name](example, rng, pool)


def perturbed_set(examples: Sequence[Example], name: str) -> List[Example]:
    """The perturbed copies of the examples the perturbation applies to (the pool is the set itself)."""
    result = []
    for example in examples:
        copy = perturb(example, name, examples)
        if copy is not None and copy.text != example.text:
            result.append(copy)
    return result
