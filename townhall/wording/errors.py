"""One convention for refusals, across booking and incidents.

The core raises a typed error (``townhall.booking.motifs.BookingError`` and its subclasses,
``townhall.incidents.errors.ReportError`` and its subclasses); :func:`answer` turns it into
what the citizen is told: a domain response when the text is static, else the error's own
French detail (a report's errors say which input is at fault). Actions never word a refusal.
"""
from __future__ import annotations

from townhall.booking.appointments import AppointmentNotFound, NotChangeable, SlotTaken
from townhall.booking.contacts import InvalidContact
from townhall.booking.motifs import BookingError
from townhall.incidents.errors import ReportError

# most specific first: the first class the error is an instance of gives the response
BOOKING_RESPONSES = (
    (SlotTaken, "utter_booking_slot_taken_meanwhile"),
    (AppointmentNotFound, "utter_booking_not_found"),
    (NotChangeable, "utter_booking_not_changeable"),
    (BookingError, "utter_booking_failed"),
    (InvalidContact, "utter_booking_failed"),
)
REPORT_NOT_FILED = "utter_incident_not_filed"  # follows a report's refusal when nothing was filed


def answer(error: Exception, default: str = "utter_booking_failed") -> dict:
    """The ``dispatcher.utter_message`` arguments that tell the citizen why it was refused
    (``default``: the response for an error of no known kind, such as a malformed slot)."""
    if isinstance(error, ReportError):
        return {"text": error.message}
    for kind, response in BOOKING_RESPONSES:
        if isinstance(error, kind):
            return {"response": response}
    return {"response": default}
