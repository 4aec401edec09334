"""E-mail addresses, phone numbers and ANTS pre-application numbers as citizens type them."""
from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from townhall.text import clean

ANTS_URL = "https://ants.gouv.fr/"
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


_VOWELS = set("AEIOUY")


def _is_ants_code(code: str, whole_message: bool) -> bool:
    """10 letters or digits; a letters-only code only when it is the whole answer and is no word.

    Ten digits starting with 0 are a French phone number, never a code. A run of letters alone ("maintenant",
    "abandonner") is a French word far more often than a code: French words of ten letters have
    four vowels or more, random codes rarely, so a letters-only answer is a code with three at most.
    """
    if len(code) != 10 or not code.isalnum() or (code.isdigit() and code.startswith("0")):
        return False
    if any(c.isdigit() for c in code):
        return True
    return whole_message and sum(c in _VOWELS for c in code) <= 3


def ants_numbers(text: str | None) -> list[str]:
    """ANTS pre-application numbers (10 letters or digits, uppercased) found in ``text``.

    Case, spaces and dashes are tolerated: "9xk2lm4pq8", "9XK2-LM4P-Q8", "9XK2 LM4 PQ8",
    "Mon numéro de pré-demande est QW3ER5TY7U", several numbers for a family.
    """
    raw = clean(text, limit=500).upper()
    tokens = re.findall(r"[A-Z0-9]+(?:[\-.][A-Z0-9]+)*", raw)
    compact = "".join(re.sub(r"[\-.]", "", t) for t in tokens)
    # the whole answer is one or more codes, however it is cut up
    cut_up = all(len(re.sub(r"[\-.]", "", t)) == 10 or any(c.isdigit() for c in t) for t in tokens)
    if tokens and (len(tokens) == 1 or cut_up) and re.fullmatch(r"[A-Z0-9\s\-.,;/]+", raw) \
            and len(compact) % 10 == 0 and len(compact) <= 100:
        codes = [compact[i : i + 10] for i in range(0, len(compact), 10)]
        if all(_is_ants_code(c, whole_message=len(codes) == 1) for c in codes):
            return list(dict.fromkeys(codes))
    found: list[str] = []
    groups: list[str] = []  # consecutive short groups that each hold a digit: "9XK2 LM4 PQ8"
    for token in tokens + [""]:
        plain = re.sub(r"[\-.]", "", token)
        if len(plain) == 10 and _is_ants_code(plain, whole_message=False):
            found.append(plain)
            groups = []
            continue
        if plain and len(plain) < 10 and any(c.isdigit() for c in plain) and not plain.isdigit():
            # a group of a code cut up ("9XK2 LM4 PQ8"); digits alone are a phone number being typed
            groups.append(plain)
            joined = "".join(groups)
            while len(joined) > 10:
                groups.pop(0)
                joined = "".join(groups)
            if len(joined) == 10 and len(groups) > 1 and _is_ants_code(joined, whole_message=False):
                found.append(joined)
                groups = []
            continue
        groups = []
    return list(dict.fromkeys(found))


# What citizens write when they have nothing to give for an optional question (folded text).
_NOTHING = re.compile(
    r"(?:(?:non|nan|no|bah non|ben non|euh non)\b[ ,.!]*)?(?:merci[ ,.!]*)?"
    r"(?:non|nan|no|aucun|aucune|rien|sans|pas encore|pas pour l'instant|pas maintenant|pas du tout|"
    r"pas de \w+(?: \w+)?|pas d'\w+|(?:je n|j)'? ?en ai (?:pas|aucun|aucune)(?: encore)?|"
    r"je (?:ne )?l'? ?ai pas(?: encore)?(?: fait)?|"
    r"(?:je n|j)'? ?ai (?:pas|aucun|aucune) (?:encore )?(?:de |d'|fait (?:de |d'|la |ma |le |mon )?)?[\w\-]+(?: [\w\-]+)?|"
    r"pas encore fait|pas fait|pas besoin|non merci|je prefere pas|je prefere ne pas|"
    r"je prefere rester anonyme|rester anonyme|anonyme|anonymement)"
    r"(?:[ ,.!]+(?:encore|merci|non|desole|desolee|pas encore|pour l'instant|pour le moment|en ligne|"
    r"de pre-demande|de numero|de mail|d'e-mail|d'email|de photo))*[ ,.!]*"
)


def says_nothing_to_give(text: str | None) -> bool:
    """"non", "je n'en ai pas", "pas encore", "aucun", "non merci": the citizen has nothing to give."""
    from townhall.text import fold

    folded = fold(text).replace("’", "'")
    return bool(folded) and len(folded) <= 80 and _NOTHING.fullmatch(folded) is not None


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


def _french_stop_words() -> frozenset[str]:
    """spaCy's list of French function words (``spacy/lang/fr/stop_words.py``), read without
    importing spaCy itself (seconds and 100 MB the action server does not need)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("spacy")
    if spec is None or not spec.origin:
        return frozenset()
    path = Path(spec.origin).parent / "lang" / "fr" / "stop_words.py"
    module_spec = importlib.util.spec_from_file_location("_townhall_fr_stop_words", path)
    if module_spec is None or module_spec.loader is None:
        return frozenset()
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return frozenset(fold_word for word in module.STOP_WORDS for fold_word in [_fold(word)])


def _fold(text: str) -> str:
    from townhall.text import fold

    return fold(text)


# Particles of French and foreign names ("de La Fontaine", "d'Artagnan", "Van der Berg", "Ben Ali").
_NAME_PARTICLES = frozenset(
    "de du des d la le l van von der den ter ten da di del della dos do ben bin ibn el al mac mc saint sainte st ste".split()
)
_NAME_TITLES = frozenset("m mr mme mlle monsieur madame mademoiselle docteur dr".split())
# Words of the conversation that are no names although spaCy does not list them.
_NOT_NAME_WORDS = frozenset(
    """bonjour bonsoir salut coucou hello merci oui ouais ok okay accord parfait super stop annule annuler annulez
    abandon arrete arreter laisse laissez tomber rdv rendez vous horaire horaires mairie question aide svp stp plait
    passeport carte identite numero telephone mail email adresse rue avenue jour demain lundi mardi mercredi jeudi
    vendredi samedi dimanche matin soir midi heure heures non pardon excusez desole comment pourquoi quand combien
    quel quelle quels quelles ouvert ouverte ferme fermee agent robot humain personne signalement probleme""".split()
)
_NAME_ANSWER_PREFIX = re.compile(
    r"^(?:(?:bonjour|bonsoir|oui|ok|alors|euh|donc)[ ,!.]+)*"
    r"(?:(?:c'est |ce sera |ça sera |ca sera )?(?:au nom de |à mon nom[ ,:]*|a mon nom[ ,:]*)|"
    r"mon nom (?:est |c'est |: ?)|mon nom et (?:mon )?prénom (?:sont |: ?)|nom ?: ?|"
    r"je m'appelle |je m’appelle |je me nomme |je suis |moi c'est |c'est )",
    re.IGNORECASE,
)


def name_in_answer(text: str | None) -> str | None:
    """The person's name when ``text`` is an answer to "à quel nom ?", else None.

    "Camille Martin", "je m'appelle Émilie Durand-Leroy", "au nom de Jean de La Fontaine",
    "Mme N'Diaye" are names; a question, a greeting, "stop", a date or a sentence are not.
    """
    raw = " ".join(clean(text, limit=400).split())
    if not raw or "?" in raw or len(raw) > 120:
        return None
    candidate = _NAME_ANSWER_PREFIX.sub("", raw).strip(" ,.!;")
    candidate = re.sub(r"[ ,]+merci(?: beaucoup)?$", "", candidate, flags=re.IGNORECASE).strip(" ,.!")
    try:
        name = normalise_name(candidate)
    except InvalidContact:
        return None
    words = [w for w in re.split(r"[ \-'’.]+", _fold(name)) if w]
    core = [w for w in words if w not in _NAME_PARTICLES and w not in _NAME_TITLES]
    if not core or len(core) > 5:
        return None
    stop_words = _stop_words()
    if any(w in _NOT_NAME_WORDS or (w in stop_words and len(w) > 1) for w in core):
        return None
    return name


_STOP_WORDS: frozenset[str] | None = None


def _stop_words() -> frozenset[str]:
    global _STOP_WORDS
    if _STOP_WORDS is None:
        _STOP_WORDS = _french_stop_words() - _NAME_PARTICLES
    return _STOP_WORDS


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
