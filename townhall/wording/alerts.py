"""Alerts (roadworks, closures, water cuts) in French: one line each, with their period."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from townhall import config, french
from townhall.knowledge import alerts, hours
from townhall.knowledge.answers import AlertsFacts
from townhall.wording import cap


def period(alert, now: datetime) -> str:
    """"le mardi 3 juin de 8 h à 12 h", "du lundi 2 juin au vendredi 6 juin", "jusqu'au vendredi 6 juin inclus"."""
    start, end = hours.local(alert.starts_at), hours.local(alert.ends_at)
    last_day = (end - timedelta(seconds=1)).date()
    if start.date() == last_day and start.time() != time(0):
        return f"le {french.day(start.date())} de {french.clock(start.time())} à {french.clock(end.time())}"
    if start > now:
        return f"du {french.day(start.date())} au {french.day(last_day)}"
    return f"jusqu'au {french.day(last_day)} inclus"


def line(alert, now: datetime) -> str:
    label = alerts.KIND_LABELS.get(alert.kind, "Information")
    # "Coupure d'eau : Coupure d'eau rue Pasteur" reads badly: no label when the title starts with it.
    prefix = "" if alert.title.lower().startswith(label.lower()) else f"{label} : "
    text = f"{prefix}{alert.title} ({period(alert, now)})."
    if alert.description:
        text += f" {alert.description}"
    return text


def _listing(found: list, now: datetime) -> str:
    return "\n".join("- " + line(a, now) for a in found)


def note(found: list, now: datetime) -> str | None:
    """"À noter : ..." after an answer, or None when nothing is announced."""
    if not found:
        return None
    if len(found) == 1:
        return "À noter : " + line(found[0], now)
    return "À noter :\n" + _listing(found, now)


def unknown_street(place_text: str) -> str:
    return f"Je ne trouve pas « {place_text[:80]} » parmi les rues de {config.commune().name}."


def answer(facts: AlertsFacts, now: datetime) -> list[str]:
    """The answer to "il y a des travaux ?", for a street, a facility or the whole commune."""
    prefix = [unknown_street(facts.unknown_place) + " Voici toutes les alertes."] if facts.unknown_place else []
    if facts.subject is not None:
        if not facts.alerts:
            return prefix + [f"Rien de signalé en ce moment pour {facts.subject}."]
        return prefix + [f"{cap(facts.subject)} :\n" + _listing(facts.alerts, now)]
    if not facts.alerts:
        return prefix + ["Aucune alerte en cours dans la commune : ni travaux, ni fermeture, ni coupure signalés."]
    return prefix + ["Alertes en cours et à venir :\n" + _listing(facts.alerts, now)]
