"""Addresses, contacts and questions about another town, in French."""
from __future__ import annotations

from datetime import datetime

from townhall import config, french
from townhall.knowledge.answers import FacilityFacts, OtherTown
from townhall.wording import alerts, cap, hours, rules

ANNUAIRE_URL = "https://lannuaire.service-public.fr"


def other_town(facts: OtherTown) -> str:
    """We only know our own commune: say so, and where to look."""
    town = facts.town
    subject = f"{facts.facility.short_name} {rules.elide(town, 'de')}" if facts.facility else rules.elide(town, "de")
    commune = config.commune().name
    return (
        f"Je ne peux vous renseigner que sur les services de la commune {rules.elide(commune, 'de')}. "
        f"Pour {subject}, consultez l'annuaire de l'administration sur service-public.fr : "
        f"{ANNUAIRE_URL} (horaires, adresse et contact de chaque mairie), ou le site de cette commune."
    )


def address(facts: FacilityFacts, now: datetime) -> list[str]:
    facility = facts.facility
    messages = [f"{cap(facility.name)} : {facility.address}.\nPlan : {facts.map_url}"]
    if facility.accessibility:
        messages.append(f"Accessibilité : {facility.accessibility}")
    alert_text = alerts.note(facts.alerts, now)
    if alert_text:
        messages.append(alert_text)
    return messages


def contact(facts: FacilityFacts, now: datetime) -> list[str]:
    facility = facts.facility
    ways = []
    if facility.phone:
        ways.append(f"au {french.phone(facility.phone)}")
    if facility.email:
        ways.append(f"par e-mail à {facility.email}")
    if not ways:
        commune = config.commune()
        ways = [f"au {french.phone(commune.main_phone)}", f"par e-mail à {commune.main_email}"]
    messages = [f"Vous pouvez joindre {facility.short_name} {' ou '.join(ways)}."]
    messages.append(hours.now_sentence(facility, facts.status, now))
    if facility.hours_note:
        messages.append(facility.hours_note)
    return messages


TOWN_HALL_DESK = "l'accueil de la mairie"  # who is reached when no service is known


def handoff_contact(name: str | None, phone: str | None, email: str | None, status, now: datetime) -> str:
    """How to reach the service a citizen asked a person from, with its opening state now
    (``name`` None: the town hall's front desk; ``status`` None: the state is unknown)."""
    text = f"Vous pouvez joindre {name or TOWN_HALL_DESK}"
    if phone:
        text += f" au {french.phone(phone)}"
    if email:
        text += f" ou par e-mail à {email}" if phone else f" par e-mail à {email}"
    lines = [text + "."]
    if status is not None:
        if status.is_open and status.closes_at:
            lines.append(f"C'est ouvert en ce moment, jusqu'à {french.clock(status.closes_at.astimezone(config.TIMEZONE).time())}.")
        elif not status.is_open:
            closed = "C'est fermé en ce moment"
            if status.reason:
                closed += f" ({status.reason})"
            if status.next_opening:
                closed += f". Réouverture {french.relative_moment(status.next_opening, now)}"
            lines.append(closed + ".")
    return " ".join(lines)
