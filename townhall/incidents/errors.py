"""Why a report (or a change to one) is refused, as a code and plain facts.

The French text the citizen or the agent reads is in :mod:`townhall.wording.errors`
(``report_text``); the core holds no sentence.
"""
from __future__ import annotations


class ReportError(ValueError):
    """A refused report or change. ``code``: why (a key of the wording's table); ``field``: the input
    at fault (Open311 name); ``facts``: what the text quotes (the input, a status code, a length)."""

    code = "report_refused"
    field: str | None = None

    def __init__(self, code: str | None = None, field: str | None = None, **facts):
        self.code = code or type(self).code
        if field is not None:
            self.field = field
        self.facts = facts
        super().__init__(self.code)


class UnknownCategory(ReportError):
    code = "unknown_category"
    field = "service_code"


class InvalidDescription(ReportError):
    code = "invalid_description"
    field = "description"


class InvalidLocation(ReportError):
    code = "invalid_location"
    field = "address_string"


class OutsideCommune(InvalidLocation):
    code = "outside_commune"


class InvalidPhoto(ReportError):
    code = "invalid_photo"
    field = "media_url"


class InvalidContact(ReportError):
    code = "invalid_contact"
    field = "email"


class ReportNotFound(ReportError):
    code = "report_not_found"
    field = "service_request_id"


class InvalidTransition(ReportError):
    code = "invalid_transition"
    field = "status"
