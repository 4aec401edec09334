"""The canonical codes of the categorical entities, each with its French label.

This is the one list of facility, procedure, incident category and waste type codes
(``shared/CONTRACT.md`` section 2). The NLU component, the tables' constraints, the loaders,
the actions and the back office take their codes from here; what cannot import Python (the
domain's categorical slot values, the NLU data, ``commune_data/``) is checked against it by
``tests/core/test_codes.py``.

The labels are short French names for staff pages and buttons ("Dépôt sauvage"); the words used
inside sentences ("les encombrants sont collectés") belong to the wording modules.
"""
from __future__ import annotations

from typing import Dict, Mapping

FACILITY = "facility"
PROCEDURE = "procedure"
INCIDENT_CATEGORY = "incident_category"
WASTE_TYPE = "waste_type"

FACILITIES: Dict[str, str] = {
    "mairie": "Mairie",
    "piscine": "Piscine",
    "mediatheque": "Médiathèque",
    "decheterie": "Déchèterie",
    "cimetiere": "Cimetière",
    "ccas": "CCAS",
    "police_municipale": "Police municipale",
    "services_techniques": "Services techniques",
}

PROCEDURES: Dict[str, str] = {
    "passeport": "Passeport",
    "carte_identite": "Carte d'identité",
    "acte_naissance": "Acte de naissance",
    "acte_mariage": "Acte de mariage",
    "acte_deces": "Acte de décès",
    "inscription_electorale": "Inscription électorale",
    "recensement_citoyen": "Recensement citoyen",
    "mariage": "Mariage",
    "pacs": "Pacs",
    "urbanisme": "Urbanisme",
    "inscription_scolaire": "Inscription scolaire",
    "attestation_accueil": "Attestation d'accueil",
}

INCIDENT_CATEGORIES: Dict[str, str] = {
    "voirie": "Voirie et trottoirs",
    "eclairage": "Éclairage public",
    "proprete": "Propreté",
    "depot_sauvage": "Dépôt sauvage",
    "graffiti": "Graffitis et affichage sauvage",
    "mobilier_urbain": "Mobilier urbain",
    "espaces_verts": "Espaces verts",
    "signalisation": "Signalisation et feux",
    "eau": "Eau et assainissement",
}

WASTE_TYPES: Dict[str, str] = {
    "ordures_menageres": "Ordures ménagères",
    "recyclables": "Emballages recyclables (bac jaune)",
    "verre": "Verre",
    "encombrants": "Encombrants",
    "dechets_verts": "Déchets verts",
}

# Entity (and slot) name -> its codes, in the order lists and buttons show them.
BY_KIND: Mapping[str, Dict[str, str]] = {
    FACILITY: FACILITIES,
    PROCEDURE: PROCEDURES,
    INCIDENT_CATEGORY: INCIDENT_CATEGORIES,
    WASTE_TYPE: WASTE_TYPES,
}


def codes(kind: str) -> tuple[str, ...]:
    """The codes of one kind (``"facility"``, ``"procedure"``...), in their canonical order."""
    return tuple(BY_KIND[kind])


def label(kind: str, code: str | None) -> str:
    """The French label of ``code`` ("Dépôt sauvage"); an unknown code is returned as it is."""
    if code is None:
        return ""
    return BY_KIND.get(kind, {}).get(code, code)


def is_code(kind: str, value: object) -> bool:
    return isinstance(value, str) and value in BY_KIND.get(kind, {})
