"""Public references: ``RDV-7K3F9Q`` for appointments, ``SIG-4HX2PL`` for incident reports.

Six characters from an alphabet without 0, 1, O and I, so that nobody confuses them when
reading a reference over the phone. Citizens may type them in any case, with or without
the dash, with a space instead ("rdv 7k3f9q"): :func:`parse` accepts all of that.
"""
from __future__ import annotations

import re
import secrets

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
LENGTH = 6
PREFIXES = ("RDV", "SIG")
APPOINTMENT = "RDV"
INCIDENT = "SIG"

_CODE = f"[{ALPHABET}]{{{LENGTH}}}"
_PATTERN = re.compile(rf"\b(RDV|SIG)[\s\-_.:#]*({_CODE})\b", re.IGNORECASE)


def generate(prefix: str) -> str:
    if prefix not in PREFIXES:
        raise ValueError(f"unknown reference prefix {prefix!r}")
    return f"{prefix}-" + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def parse(text: str | None, prefix: str | None = None) -> str | None:
    """The canonical reference found in ``text`` (``RDV-7K3F9Q``), or None.

    With ``prefix``, only a reference of that kind is accepted. A bare six-character code
    is accepted when ``prefix`` is given and the text holds nothing else.
    """
    if not text:
        return None
    for match in _PATTERN.finditer(text.upper()):
        found_prefix, code = match.group(1).upper(), match.group(2).upper()
        if prefix is None or found_prefix == prefix:
            return f"{found_prefix}-{code}"
    if prefix:
        bare = re.fullmatch(rf"\s*({_CODE})\s*", text.upper())
        if bare:
            return f"{prefix}-{bare.group(1)}"
    return None


def kind(reference: str) -> str | None:
    canonical = parse(reference)
    return canonical.split("-", 1)[0] if canonical else None
