"""Hiding a citizen's contacts in text shown to trainers or written to training files.

``find_contacts`` locates e-mail addresses, phone numbers (French and international, with
any usual separator: spaces, dots, dashes, slashes, "(0)"), ANTS pre-application numbers
(10 letters or digits, at least one digit) and the conversation's own slot values (name,
e-mail, phone, ANTS numbers, address) given as ``known_values``, case-insensitively.
``mask_contacts`` hides them and keeps the text's length, so that entity offsets stay valid.

Every step is linear in the length of the text: the e-mail and ANTS patterns are bounded and
may only start where a run of their characters starts, phone numbers are looked for with
``phonenumbers.PhoneNumberMatcher`` inside short runs of digits and separators only (a run too
long to be a list of numbers has all its digits hidden), and known values are plain literals.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher

MASK = "•"
_KEPT = frozenset("@. ")  # shown as they are, so that a masked e-mail still reads as one
REGION = "FR"

EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}(?![A-Za-z0-9-])")
ANTS = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9](?:[-.]?[A-Za-z0-9]){9}(?![A-Za-z0-9])")
# Digits and what separates them in a phone number; one greedy class: no backtracking.
_PHONE_RUN = re.compile(r"[0-9+()\s./\-\u00a0\u202f]+")
_SLASHED = re.compile(r"\d{1,4}(?:/\d{1,4}){2,7}")
# French numbers written one after another ("06 12 34 56 78 07 12 34 56 78"), which the
# matcher reads as one long number and rejects.
_FRENCH = re.compile(r"(?<![\d+])(?:(?:\+|00)33[\s.\-/]?(?:\(0\)[\s.\-/]?)?|0)[1-9](?:[\s.\-/]?\d{2}){4}(?!\d)")
MIN_PHONE_DIGITS = 8
MAX_PHONE_RUN = 300
MIN_KNOWN_CHARS = 3
# Slot values that are answers, not personal data.
NOT_PERSONAL = {"aucun", "aucune", "anonyme", "none", "non", "position", "other_day"}

_DIGITS = re.compile(r"\d")


@dataclass(frozen=True)
class Contact:
    start: int
    end: int
    kind: str  # email, phone, ants, known


def _phones(text: str) -> list[Contact]:
    found: list[Contact] = []
    for run in _PHONE_RUN.finditer(text):
        chunk = run.group(0)
        digits = len(_DIGITS.findall(chunk))
        if digits < MIN_PHONE_DIGITS:
            continue
        base = run.start()
        if len(chunk) > MAX_PHONE_RUN:  # not a phone number, maybe many: hide every digit
            found.extend(Contact(base + m.start(), base + m.end(), "phone") for m in re.finditer(r"\d+", chunk))
            continue
        # "06/12/34/56/78": slashes read as spaces (same length, offsets unchanged)
        normalised = _SLASHED.sub(lambda m: m.group(0).replace("/", " "), chunk)
        for match in PhoneNumberMatcher(normalised, REGION, leniency=Leniency.POSSIBLE):
            found.append(Contact(base + match.start, base + match.end, "phone"))
        for match in _FRENCH.finditer(normalised):
            found.append(Contact(base + match.start(), base + match.end(), "phone"))
    return found


def _ants(text: str) -> list[Contact]:
    return [Contact(m.start(), m.end(), "ants") for m in ANTS.finditer(text) if _DIGITS.search(m.group(0))]


def known_patterns(known_values: Iterable[object] = (), names: Iterable[object] = ()) -> re.Pattern | None:
    """One case-insensitive pattern for the conversation's own values (whole values, and each
    word of a name), or None. Spaces in a value match any run of spaces."""
    literals: set[str] = set()

    def add(value: str) -> None:
        value = " ".join(value.split())
        if len(value) >= MIN_KNOWN_CHARS and value.lower() not in NOT_PERSONAL:
            literals.add(value)

    for value in known_values:
        if isinstance(value, str):
            add(value)
            if value.startswith("+") and value[1:].isdigit():  # an E.164 phone: also as typed in France
                try:
                    number = phonenumbers.parse(value, REGION)
                    add(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))
                except phonenumbers.NumberParseException:
                    pass
    for name in names:
        if isinstance(name, str):
            for word in re.split(r"[\s,;]+", name):
                add(word.strip("-'’."))
    if not literals:
        return None
    parts = [r"\s+".join(re.escape(w) for w in value.split(" ")) for value in sorted(literals, key=len, reverse=True)]
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


def find_contacts(text: str | None, known_values: Iterable[object] = (), *,
                  known: re.Pattern | None = None) -> list[Contact]:
    """Every contact found in ``text``, sorted, overlapping ones merged."""
    if not text:
        return []
    found = [Contact(m.start(), m.end(), "email") for m in EMAIL.finditer(text)] if "@" in text else []
    found += _phones(text)
    found += _ants(text)
    pattern = known if known is not None else known_patterns(known_values)
    if pattern is not None:
        found += [Contact(m.start(), m.end(), "known") for m in pattern.finditer(text)]
    found.sort(key=lambda c: (c.start, -c.end))
    merged: list[Contact] = []
    for contact in found:
        if merged and contact.start < merged[-1].end:
            last = merged[-1]
            if contact.end > last.end:
                merged[-1] = Contact(last.start, contact.end, last.kind)
            continue
        merged.append(contact)
    return merged


def _hide(segment: str) -> str:
    return "".join(c if c in _KEPT else MASK for c in segment)


def mask_contacts(text: str | None, known_values: Iterable[object] = (), *,
                  known: re.Pattern | None = None) -> str:
    """``text`` with its contacts hidden by "•" (keeping "@", "." and spaces): same length."""
    if not text:
        return text or ""
    contacts = find_contacts(text, known_values, known=known)
    if not contacts:
        return text
    parts, cursor = [], 0
    for c in contacts:
        parts.append(text[cursor:c.start])
        parts.append(_hide(text[c.start:c.end]))
        cursor = c.end
    parts.append(text[cursor:])
    return "".join(parts)


def mask_value(value, known_values: Iterable[object] = (), *, known: re.Pattern | None = None):
    """A slot or entity value with its contacts hidden (strings inside lists and dicts too)."""
    if known is None and known_values:
        known = known_patterns(known_values)
    if isinstance(value, str):
        return mask_contacts(value, known=known)
    if isinstance(value, list):
        return [mask_value(v, known=known) for v in value]
    if isinstance(value, dict):
        return {k: mask_value(v, known=known) for k, v in value.items()}
    return value


def replace_contacts(text: str | None, replacements: dict[str, str], known_values: Iterable[object] = (), *,
                     known: re.Pattern | None = None) -> str:
    """``text`` with each contact replaced by the text given for its kind (a fictional contact
    in the export, "[masqué]" in public answers)."""
    if not text:
        return text or ""
    parts, cursor = [], 0
    for c in find_contacts(text, known_values, known=known):
        parts.append(text[cursor:c.start])
        parts.append(replacements.get(c.kind) or _hide(text[c.start:c.end]))
        cursor = c.end
    parts.append(text[cursor:])
    return "".join(parts)


def has_contact(text: str | None) -> bool:
    return bool(find_contacts(text))


def truncate(text: str | None, limit: int) -> str:
    """At most ``limit`` characters, with "…" when cut."""
    text = text or ""
    return text if len(text) <= limit else text[:limit] + "…"
