"""Every sentence the assistant and the back office compute from data, in French.

The core (``townhall.knowledge``, ``townhall.booking``, ``townhall.incidents``) returns plain
facts; the modules here turn them into French, one module per concern:

- ``hours``: facilities' opening states and hours (assistant and staff pages alike);
- ``rules``: what an ``opening_hours`` rule means, for staff;
- ``places``: addresses, contacts, questions about another town;
- ``procedures``, ``waste``, ``alerts``: the other practical answers;
- ``booking``, ``incidents``: appointments and reports, including the error messages of both.

Static texts stay in the domain (``utter_*`` responses); only text computed from data is here.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reply:
    """One message with buttons (a plain ``str`` is a message without)."""

    text: str
    buttons: list[dict] | None = None


def cap(text: str) -> str:
    """The first letter in upper case: "la mairie est ouverte" -> "La mairie est ouverte"."""
    return text[:1].upper() + text[1:] if text else text
