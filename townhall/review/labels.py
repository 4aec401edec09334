"""French labels of the names the review tool shows staff: intents, entities, channels, canonical values.

Staff read « Horaires d'ouverture », not ``ask_opening_hours``; the pages keep the code in a
``title`` attribute for the trainers who write training data. An unknown name is shown as it is.
"""
from __future__ import annotations

from townhall import codes

INTENTS: dict[str, str] = {
    "greet": "Salutation",
    "goodbye": "Au revoir",
    "thank": "Remerciement",
    "affirm": "Oui",
    "deny": "Non",
    "bot_challenge": "Demande si c'est un robot",
    "help": "Demande d'aide sur l'assistant",
    "out_of_scope": "Hors sujet",
    "request_human": "Demande à parler à un agent",
    "give_feedback": "Remarque ou réclamation",
    "ask_opening_hours": "Horaires d'ouverture",
    "ask_address": "Adresse d'un lieu",
    "ask_contact": "Coordonnées d'un service",
    "ask_procedure": "Démarche administrative",
    "ask_waste_collection": "Collecte des déchets",
    "ask_alerts": "Travaux et alertes",
    "book_appointment": "Prise de rendez-vous",
    "cancel_appointment": "Annulation de rendez-vous",
    "reschedule_appointment": "Report de rendez-vous",
    "report_incident": "Signalement",
    "check_report_status": "Suivi d'un signalement",
    "inform": "Réponse à une question",
    "privacy_request": "Données personnelles (RGPD)",
    "nlu_fallback": "Message non compris",
}

ENTITIES: dict[str, str] = {
    "facility": "Lieu ou service municipal",
    "procedure": "Démarche",
    "incident_category": "Catégorie de signalement",
    "waste_type": "Type de déchets",
    "address": "Adresse",
    "date": "Date",
    "time": "Heure",
    "reference": "Référence",
    "email": "Adresse électronique",
    "phone": "Téléphone",
    "ants_number": "Numéro de prédemande ANTS",
    "incident_latitude": "Latitude",
    "incident_longitude": "Longitude",
    "incident_photo": "Photo",
}

CHANNELS: dict[str, str] = {
    "rest": "Site web",
    "socketio": "Site web (fenêtre de discussion)",
    "facebook": "Messenger",
    "cmdline": "Ligne de commande",
}

PERTURBATIONS: dict[str, str] = {
    "typo_swap": "lettres inversées",
    "typo_drop": "lettre oubliée",
    "typo_double": "lettre doublée",
    "no_accents": "sans accents",
    "sms": "langage SMS",
    "upper_case": "en majuscules",
    "prefix_greeting": "salutation avant",
    "suffix_politeness": "formule de politesse après",
    "joined_requests": "deux demandes à la suite",
}


def intent(name: str | None) -> str:
    return INTENTS.get(name or "", name or "aucune")


def entity(name: str | None) -> str:
    return ENTITIES.get(name or "", name or "")


def channel(name: str | None) -> str:
    return CHANNELS.get(name or "", name or "inconnu")


def perturbation(name: str) -> str:
    return PERTURBATIONS.get(name, name)


def value(entity_name: str | None, code: object) -> str:
    """The French label of a canonical value (« Médiathèque » for ``mediatheque``), else the value."""
    return codes.label(entity_name or "", code) if isinstance(code, str) else ("" if code is None else str(code))
