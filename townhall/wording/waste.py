"""Waste-collection days in French, by street or sector."""
from __future__ import annotations

from datetime import datetime

from townhall import french
from townhall.knowledge import waste
from townhall.knowledge.answers import WasteFacts
from townhall.wording import Reply, alerts, cap

# French grammar of each waste type: (article + label, gender and number) for agreement
GRAMMAR = {
    "ordures_menageres": ("les ordures ménagères", "fp"),
    "recyclables": ("les emballages recyclables (bac jaune)", "mp"),
    "verre": ("le verre", "m"),
    "encombrants": ("les encombrants", "mp"),
    "dechets_verts": ("les déchets verts", "mp"),
}
_ENDINGS = {"f": "e", "m": "", "fp": "es", "mp": "s"}


def collected(waste_type: str) -> str:
    """"les encombrants sont collectés", "le verre est collecté", "les ordures ménagères sont collectées"."""
    label, gender = GRAMMAR.get(waste_type, (waste.LABELS.get(waste_type, waste_type), "mp"))
    verb = "sont" if gender.endswith("p") else "est"
    return f"{label} {verb} collecté{_ENDINGS[gender]}"


def of_label(waste_type: str) -> str:
    """"des encombrants", "du verre"."""
    label, _gender = GRAMMAR.get(waste_type, (waste.LABELS.get(waste_type, waste_type), "mp"))
    if label.startswith("les "):
        return "des " + label[4:]
    if label.startswith("le "):
        return "du " + label[3:]
    return "de " + label


def unknown_place(place_text: str, facts: WasteFacts) -> list[str | Reply]:
    """The street was not found: say so, and offer the sectors with their streets."""
    sectors = facts.streets_by_sector
    listing = "\n".join(f"- {sector} : {', '.join(names)}" for sector, names in sectors.items())
    return [
        alerts.unknown_street(place_text),
        Reply(f"Choisissez votre secteur :\n{listing}",
              [{"title": f"Secteur {sector}", "payload": f'/inform{{"address":"secteur {sector}"}}'}
               for sector in sectors]),
    ]


def answer(facts: WasteFacts, now: datetime) -> list[str]:
    """The next collections (of one waste type when asked), then the alerts of the street."""
    where = f"{facts.street.name} (secteur {facts.sector})" if facts.street else f"secteur {facts.sector}"
    collections = facts.collections
    messages = []
    if facts.waste_type and collections:
        c = collections[0]
        if c.dates:
            following = f", puis le {french.day(c.dates[1])}" if len(c.dates) > 1 else ""
            text = f"{cap(where)} : {collected(c.waste_type)} le {french.day(c.dates[0])}{following}."
        else:
            text = f"{cap(where)} : aucune collecte {of_label(c.waste_type)} n'est prévue prochainement."
        if c.note:
            text += f"\n{c.note}"
        messages.append(text)
    elif collections:
        lines = [f"Prochaines collectes, {where} :"]
        for c in collections:
            when = " puis ".join(french.day(d) for d in c.dates) if c.dates else "pas de date prévue"
            lines.append(f"- {c.label} : {when}")
        messages.append("\n".join(lines))
    else:
        messages.append(f"Je n'ai pas le calendrier de collecte du secteur {facts.sector}.")
    alert_text = alerts.note(facts.alerts, now)
    if alert_text:
        messages.append(alert_text)
    return messages
