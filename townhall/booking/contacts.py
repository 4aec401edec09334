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
