"""Why a report (or a change to one) is refused; ``message`` is French, for the citizen or the agent."""
from __future__ import annotations


class ReportError(ValueError):
    """A refused report or change. ``message``: French; ``field``: the input at fault (Open311 name)."""

    default_message = "Ce signalement ne peut pas être enregistré."
    field: str | None = None

    def __init__(self, message: str | None = None, field: str | None = None):
        self.message = message or self.default_message
        if field is not None:
            self.field = field
        super().__init__(self.message)


class UnknownCategory(ReportError):
    default_message = "Je ne connais pas cette catégorie de signalement."
    field = "service_code"


class InvalidDescription(ReportError):
    default_message = "Décrivez le problème en quelques mots."
    field = "description"


class InvalidLocation(ReportError):
    default_message = "Indiquez une adresse de la commune ou partagez votre position."
    field = "address_string"


class OutsideCommune(InvalidLocation):
    default_message = "Cet endroit n'est pas dans la commune : je ne peux enregistrer que des signalements sur son territoire."


class InvalidPhoto(ReportError):
    default_message = "Cette photo ne peut pas être acceptée."
    field = "media_url"


class InvalidContact(ReportError):
    default_message = "Cette adresse e-mail n'est pas valide."
    field = "email"


class ReportNotFound(ReportError):
    default_message = "Je ne trouve aucun signalement avec cette référence."
    field = "service_request_id"


class InvalidTransition(ReportError):
    default_message = "Ce changement de statut n'est pas possible."
    field = "status"
