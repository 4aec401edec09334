"""One convention for refusals, across booking and incidents.

The core raises a typed error (``townhall.booking.motifs.BookingError`` and its subclasses,
``townhall.incidents.errors.ReportError`` and its subclasses); :func:`answer` turns it into
what the citizen is told: a domain response when the text is static, else the French text of the
error's code (:func:`report_text`: a report's errors say which input is at fault). Actions never word a refusal.
"""
from __future__ import annotations

from townhall.booking.appointments import AppointmentNotFound, NotChangeable, SlotTaken
from townhall.booking.contacts import InvalidContact
from townhall.booking.motifs import BookingError
from townhall.incidents.errors import ReportError
from townhall.incidents.reports import STATUS_LABELS

# most specific first: the first class the error is an instance of gives the response
BOOKING_RESPONSES = (
    (SlotTaken, "utter_booking_slot_taken_meanwhile"),
    (AppointmentNotFound, "utter_booking_not_found"),
    (NotChangeable, "utter_booking_not_changeable"),
    (BookingError, "utter_booking_failed"),
    (InvalidContact, "utter_booking_failed"),
)
REPORT_NOT_FILED = "utter_incident_not_filed"  # follows a report's refusal when nothing was filed

_PHOTO_FORMATS = "envoyez une image JPEG, PNG, GIF ou WebP."
_STREET_EXAMPLE = "par exemple « 12 rue Pasteur », ou partagez votre position."
# a report error's code -> its French text; ``{fact}`` quotes one of the error's facts
# (``{status}`` and ``{current}`` are status codes, quoted by their label)
REPORT_TEXTS = {
    # the default of each kind (an error raised without a more precise code)
    "report_refused": "Ce signalement ne peut pas être enregistré.",
    "unknown_category": "Je ne connais pas cette catégorie de signalement.",
    "invalid_description": "Décrivez le problème en quelques mots.",
    "invalid_location": "Indiquez une adresse de la commune ou partagez votre position.",
    "outside_commune": "Cet endroit n'est pas dans la commune : je ne peux enregistrer que des signalements sur son territoire.",
    "invalid_photo": "Cette photo ne peut pas être acceptée.",
    "invalid_contact": "Cette adresse e-mail n'est pas valide.",
    "report_not_found": "Je ne trouve aucun signalement avec cette référence.",
    "invalid_transition": "Ce changement de statut n'est pas possible.",
    # filing
    "unknown_category_named": "La catégorie « {category} » n'existe pas.",
    "description_empty": "La description est vide : décrivez le problème en quelques mots.",
    "description_too_long": "Votre description fait {length} caractères : 4 000 au maximum. Pouvez-vous la raccourcir ?",
    "position_invalid": "Cette position GPS n'est pas valide.",
    "position_incomplete": "Il faut la latitude et la longitude de l'endroit.",
    "position_outside": "Cette position est en dehors de la commune : "
                        "je ne peux enregistrer que des signalements sur son territoire.",
    "address_missing": "Indiquez l'adresse du problème, " + _STREET_EXAMPLE,
    "street_unknown": "Je ne trouve pas « {address} » parmi les rues de la commune. "
                      "Indiquez le nom de la rue, " + _STREET_EXAMPLE,
    "email_invalid": "« {email} » n'est pas une adresse e-mail valide. Exemple : camille.martin@example.org.",
    "phone_invalid": "Ce numéro de téléphone n'est pas valide. Exemple : 06 12 34 56 78.",
    # photos
    "photo_empty": "Le fichier envoyé est vide.",
    "photo_too_heavy": "Cette photo est trop lourde : 5 Mo au maximum.",
    "photo_not_an_image": "Ce fichier n'est pas une photo : " + _PHOTO_FORMATS,
    "photo_unreadable": "Cette image est illisible ou abîmée : envoyez-en une autre.",
    "photo_format": "Ce format d'image n'est pas accepté : " + _PHOTO_FORMATS,
    "photo_too_large": "Cette image est trop grande : envoyez une photo plus petite.",
    "photo_missing": "Je n'ai pas reçu de photo.",
    "photo_link_too_long": "Ce lien de photo est trop long.",
    "photo_lost": "Je ne retrouve pas cette photo : envoyez-la de nouveau.",
    "photo_site_refused": "Je ne peux pas accepter une photo venant de ce site. "
                          "Envoyez-la directement dans la conversation.",
    "photo_not_a_photo": "Ce n'est pas une photo. Envoyez une image, ou répondez « non » pour continuer sans photo.",
    # following and changing a report
    "reference_unknown": "Je ne trouve aucun signalement avec la référence « {reference} ».",
    "status_unknown": "Le statut « {status} » n'existe pas.",
    "agent_missing": "Indiquez qui fait ce changement.",
    "duplicate_of_itself": "Un signalement ne peut pas être le doublon de lui-même.",
    "original_missing": "Indiquez la référence du signalement d'origine.",
    "reason_missing": "Indiquez la raison du refus : le citoyen la verra.",
    "status_unchanged": "Le signalement est déjà « {status} ».",
    "transition_forbidden": "Un signalement « {current} » ne peut pas passer à « {status} ».",
    "report_closed": "Ce signalement est déjà clos : vous pouvez en faire un nouveau.",
}


def report_text(error: ReportError) -> str:
    """The French text of a report's refusal, for the citizen (chat) or the agent (API, back office)."""
    template = REPORT_TEXTS.get(error.code) or REPORT_TEXTS[type(error).code]
    facts = {key: STATUS_LABELS.get(value, value) if key in ("status", "current") else value
             for key, value in error.facts.items()}
    return template.format(**facts)


def answer(error: Exception, default: str = "utter_booking_failed") -> dict:
    """The ``dispatcher.utter_message`` arguments that tell the citizen why it was refused
    (``default``: the response for an error of no known kind, such as a malformed slot)."""
    if isinstance(error, ReportError):
        return {"text": report_text(error)}
    for kind, response in BOOKING_RESPONSES:
        if isinstance(error, kind):
            return {"response": response}
    return {"response": default}
