"""Incident reports in French: the recap, a nearby open report, the reference, the follow-up."""
from __future__ import annotations

from townhall import config, french
from townhall.incidents import services
from townhall.incidents.reports import PublicStatus
from townhall.text import clean


def distance(distance_m: float) -> str:
    """How far the open report is, in words: « au même endroit », « tout près », « à 30 m »."""
    if distance_m < 5:
        return "au même endroit"
    if distance_m < 20:
        return "tout près"
    return f"à {round(distance_m)} m"


GPS_PLACE = "position GPS"


def gps_place(latitude: float, longitude: float) -> str:
    """The place of a report given as a position only (kept in the ``incident_location`` slot)."""
    return f"{GPS_PLACE} ({latitude:.5f}, {longitude:.5f})"


def is_gps_place(location: str) -> bool:
    return location.startswith(GPS_PLACE)


def place_corrected(label: str) -> str:
    return f"C'est corrigé : le lieu est {label}."


def recap(category: str | None, location: str | None, description: str | None, with_photo: bool,
          email: str | None) -> str:
    """The report as it will be filed, before the citizen confirms (``email`` None: anonymous)."""
    lines = [
        "Voici votre signalement :",
        f"- catégorie : {services.name_of(category)} ;",
        f"- lieu : {location} ;",
        f"- description : {clean(description, 300).rstrip(' .;!')} ;",
        f"- photo : {'oui' if with_photo else 'non'} ;",
        f"- suivi par e-mail : {email if email else 'non (signalement anonyme)'}.",
    ]
    return "\n".join(lines)


def similar_open(report, distance_m: float) -> str:
    """An open report of the same kind nearby, offered instead of a duplicate."""
    place = f" ({report.address})" if report.address else ""
    return (f"Un signalement semblable est déjà en cours {distance(distance_m)}{place} : "
            f"« {clean(report.description, 160)} », référence {report.reference}.")


def filed(reference: str) -> str:
    return f"Merci ! Votre signalement est enregistré sous la référence {reference}."


def joined(reference: str) -> str:
    return f"C'est noté : votre signalement est joint au signalement {reference}."


def status(found: PublicStatus) -> str:
    """The citizen's answer: current status, date of the latest change, latest staff note."""
    updated = french.day(found.updated_at.astimezone(config.TIMEZONE).date())
    text = (
        f"Votre signalement {found.reference} ({found.category_name.lower()}) est {found.status_label}, "
        f"depuis le {updated}."
    )
    if found.note:
        text += f" Message des services : « {found.note.rstrip(' .')} »."
    if found.duplicate_of:
        text += f" Le suivi se fait sous la référence {found.duplicate_of}."
    return text
