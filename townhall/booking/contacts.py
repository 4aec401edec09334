"""E-mail addresses, phone numbers and ANTS pre-application numbers as citizens type them."""
from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from townhall.text import clean

ANTS_URL = "https://ants.gouv.fr/"
_ANTS_TOKEN = re.compile(r"\b[A-Z0-9]{10}\b")
_EMAIL_LIKE = re.compile(r"[^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+")


class InvalidContact(ValueError):
    """An e-mail address or phone number that cannot be used."""


def normalise_email(text: str | None) -> str:
    """The address found in ``text``, lowercased domain, or :class:`InvalidContact`."""
    text = clean(text, limit=400)
    match = _EMAIL_LIKE.search(text)
    if not match:
        raise InvalidContact("no e-mail address")
    candidate = match.group(0).strip(".")
    try:
        result = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidContact(str(exc)) from exc
    return result.normalized.lower()


def normalise_phone(text: str | None) -> str:
    """A French (or international) phone number in E.164 (``+33612345678``), or :class:`InvalidContact`."""
    text = clean(text, limit=100)
    if not text or not re.search(r"\d", text):
        raise InvalidContact("no phone number")
    try:
        number = phonenumbers.parse(text, "FR")
    except phonenumbers.NumberParseException as exc:
        raise InvalidContact(str(exc)) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidContact("invalid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def same_contact(given: str | None, email: str | None, phone: str | None) -> bool:
    """Whether ``given`` (an e-mail or a phone, as typed) is the booking's e-mail or phone."""
    if not given:
        return False
    if "@" in given:
        try:
            return bool(email) and normalise_email(given) == email.lower()
        except InvalidContact:
            return False
    try:
        return bool(phone) and normalise_phone(given) == phone
    except InvalidContact:
        return False


def ants_numbers(text: str | None) -> list[str]:
    """ANTS pre-application numbers (10 uppercase letters or digits) found in ``text``.

    A token must hold at least one digit unless it is the whole message, so that a word
    such as "maintenant" is never taken for a number.
    """
    raw = clean(text, limit=500).upper()
    compact = re.sub(r"[\s\-.]", "", raw)
    if re.fullmatch(r"[A-Z0-9]{10}(?:[A-Z0-9]{10})*", compact) and len(compact) <= 100 and " " not in raw.strip():
        return [compact[i : i + 10] for i in range(0, len(compact), 10)]
    found = []
    for token in _ANTS_TOKEN.findall(re.sub(r"(?<=[A-Z0-9])[\-.](?=[A-Z0-9])", "", raw)):
        if re.search(r"\d", token) and token not in found:
            found.append(token)
    return found


# --- every contact slot, whatever its source (an NLU entity or the text) ------------------

NAME_MAX_CHARS = 100
ADDRESS_MAX_CHARS = 200
# Letters (any alphabet), then words joined by spaces, hyphens, apostrophes or an initial's dot.
_NAME = re.compile(r"[^\W\d_]+(?:(?:[ \-'’]|\. ?)[^\W\d_]+)*\.?")
_NAME_PREFIX = re.compile(r"^(?:je m'appelle|je m’appelle|je suis|mon nom est|c'est|moi c'est)\s+", re.IGNORECASE)
# Answers kept in the e-mail slot by the forms: no e-mail (incident reports, anonymous).
EMAIL_SLOT_ANSWERS = {"anonyme"}


def normalise_name(text: str | None) -> str:
    """A person's name: letters, spaces, hyphens, apostrophes (2 to 100 characters)."""
    name = _NAME_PREFIX.sub("", " ".join(clean(text, limit=400).split())).strip(" ,")
    if not (2 <= len(name) <= NAME_MAX_CHARS) or not _NAME.fullmatch(name):
        raise InvalidContact("invalid name")
    if sum(c.isalpha() for c in name) < 2:
        raise InvalidContact("invalid name")
    return name


def normalise_address(text: str | None) -> str:
    """A street address or a named place: bounded, with letters, no markup."""
    address = " ".join(clean(text, limit=1000).split())
    if not (3 <= len(address) <= ADDRESS_MAX_CHARS) or not re.search(r"[^\W\d_]{2}", address):
        raise InvalidContact("invalid address")
    if re.search(r"[<>{}\[\]|\\@]", address):
        raise InvalidContact("invalid address")
    return address


def check_contact_slot(slot: str, value) -> None:
    """Raise :class:`InvalidContact` when a stored contact slot holds something unusable
    (the NLU once took ``')>'`` for a phone number). ``citizen_email`` may hold the e-mail or
    the phone used to book (cancel, reschedule) or "anonyme" (incident report)."""
    if value is None:
        return
    text = str(value)
    if slot == "citizen_phone":
        normalise_phone(text)
    elif slot == "citizen_email":
        if text in EMAIL_SLOT_ANSWERS:
            return
        try:
            normalise_email(text)
        except InvalidContact:
            normalise_phone(text)
    elif slot == "citizen_name":
        normalise_name(text)
    elif slot in ADDRESS_SLOTS:
        normalise_address(text)


CONTACT_SLOTS = ("citizen_name", "citizen_email", "citizen_phone", "incident_location")
ADDRESS_SLOTS = ("incident_location",)
