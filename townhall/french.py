"""How the assistant writes dates, times, phone numbers and lists in French."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import phonenumbers
from babel.dates import format_date

from townhall import config


def day(d: date) -> str:
    """"mardi 3 décembre" (and the year when it is not the current one)."""
    today = datetime.now(config.TIMEZONE).date()
    pattern = "EEEE d MMMM" if d.year == today.year or (d - today).days < 120 else "EEEE d MMMM y"
    text = format_date(d, pattern, locale="fr_FR")
    return text.replace(" 1 ", " 1er ", 1)


def clock(t: time) -> str:
    """"14 h 30", "9 h"."""
    return f"{t.hour} h {t.minute:02d}" if t.minute else f"{t.hour} h"


def moment(dt: datetime) -> str:
    """"mardi 3 décembre à 14 h 30", in the commune's time zone."""
    local = dt.astimezone(config.TIMEZONE)
    return f"{day(local.date())} à {clock(local.time())}"


def relative_moment(dt: datetime, now: datetime) -> str:
    """"aujourd'hui à 14 h", "demain à 9 h", "mardi 3 décembre à 9 h" (commune's time zone)."""
    local = dt.astimezone(config.TIMEZONE)
    today = now.astimezone(config.TIMEZONE).date()
    if local.date() == today:
        return f"aujourd'hui à {clock(local.time())}"
    if local.date() == today + timedelta(days=1):
        return f"demain à {clock(local.time())}"
    return moment(local)


def phone(number: str | None) -> str:
    """"01 23 45 67 89" for a French number, international format otherwise."""
    if not number:
        return ""
    try:
        parsed = phonenumbers.parse(number, "FR")
    except phonenumbers.NumberParseException:
        return number
    if parsed.country_code == 33:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def enumerate_fr(items: list[str]) -> str:
    """"a, b et c"."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " et " + items[-1]


_ELIDING = set("aeiouhàâäéèêëîïôöûüœæ")
_VOWELS = set("aeiouyàâäéèêëîïôöûüœæ")


def of(word: str | None) -> str:
    """"de Camille", "d'Émilie", "d'Yves", "de Yasmine": the preposition "de" elided before a vowel.

    A name beginning with a vowel sound takes "d'" (and the h of a first name is mute:
    "d'Hugo", "d'Hélène"); a y before a vowel is a consonant ("de Yann").
    """
    text = (word or "").strip()
    if not text:
        return "de"
    first, second = text[0].lower(), text[1:2].lower()
    if first in _ELIDING or (first == "y" and second and second not in _VOWELS):
        return f"d'{text}"
    return f"de {text}"
