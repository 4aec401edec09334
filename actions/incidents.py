"""Incident reports in the conversation: the report form, recap and confirmation, joining a
nearby open report, emergencies diverted to 112/18/15/17, and follow-up of a ``SIG-`` reference.

Inputs from the channels (documented for the channel and widget code):

- a shared GPS position: ``/inform{"incident_latitude": 47.22, "incident_longitude": -1.57}``,
  or any user message whose metadata carries ``{"location": {"lat": ..., "long": ...}}``
  (also ``latitude``/``longitude`` keys);
- a photo: ``/inform{"incident_photo": "<url>"}`` where the URL is an upload stored by
  :func:`townhall.incidents.photos.store` (``/uploads/incidents/<name>``) or a Messenger
  attachment URL (``*.fbcdn.net``, ``*.fbsbx.com``).
"""
from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import channel_of, in_unit_of_work, latest_text
from actions.form_validation import TownFormValidationAction, is_question
from townhall.booking.contacts import says_nothing_to_give
from townhall import references
from townhall.incidents import duplicates, emergency, photos, reports, services
from townhall.incidents.errors import ReportError
from townhall.knowledge import streets
from townhall.text import clean, fold
from townhall.wording import errors
from townhall.wording import incidents as words

logger = logging.getLogger(__name__)

NO_EMAIL = "anonyme"
NO_PHOTO = "aucune"
INCIDENT_SLOTS = (
    "incident_category",
    "incident_location",
    "incident_description",
    "incident_photo",
    "incident_latitude",
    "incident_longitude",
    "incident_pending",
    "incident_duplicate_of",
    "incident_emergency",
)
_NO_WORDS = {"non", "no", "nan", "aucune", "aucun", "pas de photo", "sans photo", "non merci", "pas d e mail", "pas de mail",
             "pas d email", "anonyme", "anonymement", "je prefere rester anonyme", "rester anonyme", "sans", "rien", "pas besoin"}


def reset_events(tracker: Tracker) -> List[EventType]:
    events: List[EventType] = [SlotSet(name, None) for name in INCIDENT_SLOTS]
    if tracker.get_slot("citizen_email") == NO_EMAIL:
        events.append(SlotSet("citizen_email", None))
    return events


def _entity(tracker: Tracker, name: str) -> Any:
    for item in (tracker.latest_message or {}).get("entities") or []:
        if item.get("entity") == name and item.get("value") not in (None, ""):
            return item.get("value")
    return None


def _intent(tracker: Tracker) -> Optional[str]:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def shared_position(tracker: Tracker) -> Optional[tuple]:
    """Coordinates shared in the latest message (payload entities or message metadata), or None."""
    lat, lon = _entity(tracker, "incident_latitude"), _entity(tracker, "incident_longitude")
    if lat is None or lon is None:
        metadata = (tracker.latest_message or {}).get("metadata") or {}
        if not metadata:
            for event in reversed(tracker.events):
                if event.get("event") == "user":
                    metadata = event.get("metadata") or {}
                    break
        place = metadata.get("location") if isinstance(metadata.get("location"), dict) else metadata
        lat = place.get("lat", place.get("latitude")) if isinstance(place, dict) else None
        lon = place.get("long", place.get("lon", place.get("longitude"))) if isinstance(place, dict) else None
    if lat is None or lon is None:
        return None
    return lat, lon


def _says_no(tracker: Tracker) -> bool:
    text = fold(latest_text(tracker)).strip(" .!")
    return _intent(tracker) == "deny" or text in _NO_WORDS or says_nothing_to_give(text)


def _position_in_text(tracker: Tracker, value: Any = None) -> Optional[tuple]:
    """A position shared by the channel, or typed as text ("47.2184, -1.5536")."""
    return shared_position(tracker) or reports.typed_position(str(value if value is not None else latest_text(tracker)))


_STREET_WORDS = re.compile(
    r"\b(rue|avenue|av|boulevard|bd|place|allee|impasse|chemin|route|square|quai|cours|passage|parvis|rond-point|"
    r"residence|lotissement|sentier|ruelle|promenade|parking|parc|pont|carrefour|devant|en face|a cote|au coin|angle|pres de)\b"
)
# What a description is not: a question to the town hall asked in the middle of the report.
DESCRIPTION_INTENTS = ("report_incident", "inform")


def _category_buttons() -> List[Dict[str, str]]:
    return [
        {"title": s.name, "payload": '/inform{"incident_category":"%s"}' % s.code} for s in services.catalogue()
    ]


# A correction of the place typed at the description prompt ("pardon, c'est rue du Stade").
_CORRECTION = re.compile(r"\b(pardon|je me suis trompe|je me suis trompee|erreur|en fait|plutot|non c est|ce n est pas)\b")
_STREET_AFTER_CORRECTION = re.compile(
    r"((?:\d+\s*(?:bis|ter)?\s*,?\s*)?(?:rue|avenue|av\.?|boulevard|bd|place|impasse|allée|allee|chemin|route|quai|square|cours)\b[^,.;!?]{2,60})",
    re.IGNORECASE,
)


class ValidateIncidentForm(TownFormValidationAction):
    """Checks each answer of the report form; diverts emergencies at once."""

    STOP_RESETS = INCIDENT_SLOTS

    def name(self) -> Text:
        return "validate_incident_form"

    async def gives_value(self, slot: str, tracker: Tracker) -> bool:
        text = latest_text(tracker)
        if slot == "incident_category":
            return bool(_entity(tracker, "incident_category") or services.guess(text))
        if slot == "incident_location":
            if _position_in_text(tracker) or _entity(tracker, "address") or _STREET_WORDS.search(fold(text)):
                return True
            return bool(text) and await in_unit_of_work(streets.match, text) is not None
        if slot == "incident_description":
            return bool(clean(text)) and not says_nothing_to_give(text) and (
                not is_question(text) or _intent(tracker) in DESCRIPTION_INTENTS
            )
        if slot == "incident_photo":
            return bool(_entity(tracker, "incident_photo") or _says_no(tracker) or "/" in text)
        if slot == "citizen_email":
            return "@" in text or _says_no(tracker)
        return False

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        found = emergency.detect(latest_text(tracker))
        if found is not None:
            dispatcher.utter_message(text=found.message)
            return [SlotSet("incident_emergency", found.kind), SlotSet("requested_slot", None)]
        return await super().run(dispatcher, tracker, domain)

    # --- category ---------------------------------------------------------------------------

    def validate_incident_category(self, value: Any, dispatcher, tracker, domain) -> Dict[Text, Any]:
        code = _entity(tracker, "incident_category")
        if code not in services.CATEGORIES:
            code = value if value in services.CATEGORIES else services.guess(str(value or ""))
        if code is None:
            return self.reject("incident_category", dispatcher, tracker, response="utter_incident_category_not_understood")
        return self.accept(tracker, incident_category=code)

    # --- location ---------------------------------------------------------------------------

    def extract_incident_location(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if not self.answering(tracker, "incident_location") or _position_in_text(tracker) is None:
            return {}
        return {"incident_location": latest_text(tracker) or "position"}

    async def validate_incident_location(self, value: Any, dispatcher, tracker, domain) -> Dict[Text, Any]:
        position = _position_in_text(tracker, value) if self.answering(tracker, "incident_location") else None
        position = position or shared_position(tracker)
        address = None
        if position is None:
            address = _entity(tracker, "address") if str(value or "").startswith("/") else str(value or "")
        try:
            if position is not None:
                place = await in_unit_of_work(reports.resolve_location, None, position[0], position[1])
            else:
                place = await in_unit_of_work(reports.resolve_location, address)
        except ReportError as error:
            return self.reject("incident_location", dispatcher, tracker, **errors.answer(error))
        label = place.address or words.gps_place(place.latitude, place.longitude)
        return self.accept(
            tracker, incident_location=label, incident_latitude=place.latitude, incident_longitude=place.longitude
        )

    # --- description ------------------------------------------------------------------------

    async def validate_incident_description(self, value: Any, dispatcher, tracker, domain) -> Dict[Text, Any]:
        corrected = await self._corrected_place(str(value or ""), dispatcher, tracker)
        if corrected is not None:
            return corrected
        if self.answering(tracker, "incident_description") and is_question(str(value or "")) \
                and _intent(tracker) not in DESCRIPTION_INTENTS:
            return self.reject("incident_description", dispatcher, tracker, response="utter_incident_description_is_question")
        try:
            text = reports.check_description(str(value or "") if not str(value or "").startswith("/") else "")
        except ReportError as error:
            return self.reject("incident_description", dispatcher, tracker, **errors.answer(error))
        return self.accept(tracker, incident_description=text)

    async def _corrected_place(self, text: str, dispatcher, tracker) -> Optional[Dict[Text, Any]]:
        """« pardon, c'est rue du Stade » at the description prompt corrects the place, not the description."""
        if not self.answering(tracker, "incident_description") or not _CORRECTION.search(fold(text)):
            return None
        address = _entity(tracker, "address") or _STREET_AFTER_CORRECTION.search(text)
        address = address.group(1) if hasattr(address, "group") else address
        if not address:
            return None
        try:
            place = await in_unit_of_work(reports.resolve_location, str(address))
        except ReportError:
            return None  # not a place we know: read the message as the description
        label = place.address or str(address)
        dispatcher.utter_message(text=words.place_corrected(label))
        return {"incident_location": label, "incident_latitude": place.latitude, "incident_longitude": place.longitude,
                "incident_description": None}

    # --- photo ------------------------------------------------------------------------------

    def extract_incident_photo(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if not self.answering(tracker, "incident_photo"):
            return {}
        if _entity(tracker, "incident_photo"):
            return {"incident_photo": str(_entity(tracker, "incident_photo"))}
        if _says_no(tracker):
            return {"incident_photo": NO_PHOTO}
        text = latest_text(tracker)
        return {"incident_photo": text} if text else {}

    def validate_incident_photo(self, value: Any, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value == NO_PHOTO:
            return self.accept(tracker, incident_photo=NO_PHOTO)
        candidate = _entity(tracker, "incident_photo") or value
        try:
            kept = photos.accept(str(candidate or ""))
        except ReportError as error:
            return self.reject("incident_photo", dispatcher, tracker, **errors.answer(error))
        return self.accept(tracker, incident_photo=kept)

    # --- e-mail -----------------------------------------------------------------------------

    def extract_citizen_email(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if not self.answering(tracker, "citizen_email"):
            return {}
        if _says_no(tracker):
            return {"citizen_email": NO_EMAIL}
        text = latest_text(tracker)
        if not tracker.get_slot("citizen_email") and "@" in text:
            return {"citizen_email": clean(text, 254)}
        return {}

    def validate_citizen_email(self, value: Any, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value == NO_EMAIL:
            return self.accept(tracker, citizen_email=NO_EMAIL)
        try:
            address = reports.check_email(str(value or ""))
        except ReportError as error:
            return self.reject("citizen_email", dispatcher, tracker, **errors.answer(error))
        if address is None:
            return self.reject("citizen_email", dispatcher, tracker, response="utter_incident_email_invalid")
        return self.accept(tracker, citizen_email=address)


class ActionAskIncidentCategory(Action):
    """Asks the category with one button per service (payloads are valid answers)."""

    def name(self) -> Text:
        return "action_ask_incident_category"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        dispatcher.utter_message(response="utter_ask_incident_category", buttons=_category_buttons())
        return []


def _recap(tracker: Tracker) -> str:
    photo = tracker.get_slot("incident_photo")
    email = tracker.get_slot("citizen_email")
    return words.recap(tracker.get_slot("incident_category"), tracker.get_slot("incident_location"),
                       tracker.get_slot("incident_description"), bool(photo and photo != NO_PHOTO),
                       email if email and email != NO_EMAIL else None)


class ActionIncidentRecap(Action):
    """After the form: offer to join a nearby open report, or recap and ask for confirmation."""

    def name(self) -> Text:
        return "action_incident_recap"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        if tracker.get_slot("incident_emergency"):
            return reset_events(tracker)  # the emergency numbers were given; nothing is filed
        declined = tracker.get_slot("incident_pending") == "join" and _intent(tracker) == "deny"
        lat, lon = tracker.get_slot("incident_latitude"), tracker.get_slot("incident_longitude")
        if not declined and lat is not None and lon is not None:
            nearby = await in_unit_of_work(duplicates.nearby_open, tracker.get_slot("incident_category"), lat, lon)
            if nearby:
                report = nearby[0]
                distance = duplicates.distance_m(lat, lon, report.latitude, report.longitude)
                dispatcher.utter_message(text=words.similar_open(report, distance))
                dispatcher.utter_message(response="utter_ask_incident_join")
                return [SlotSet("incident_pending", "join"), SlotSet("incident_duplicate_of", report.reference)]
        dispatcher.utter_message(text=_recap(tracker))
        dispatcher.utter_message(response="utter_ask_incident_confirm")
        return [SlotSet("incident_pending", "confirm"), SlotSet("incident_duplicate_of", None)]


class ActionSubmitIncident(Action):
    """Files the report once the citizen confirmed, and gives the reference."""

    def name(self) -> Text:
        return "action_submit_incident"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        photo = tracker.get_slot("incident_photo")
        email = tracker.get_slot("citizen_email")
        lat, lon = tracker.get_slot("incident_latitude"), tracker.get_slot("incident_longitude")
        location = tracker.get_slot("incident_location")
        try:
            report = (await in_unit_of_work(
                reports.create,
                category=tracker.get_slot("incident_category"),
                description=tracker.get_slot("incident_description"),
                address=location if location and not words.is_gps_place(location) else None,
                latitude=lat,
                longitude=lon,
                photo=photo if photo and photo != NO_PHOTO else None,
                email=email if email and email != NO_EMAIL else None,
                channel=channel_of(tracker),
                sender_id=tracker.sender_id,
            )).reference
        except ReportError as error:
            dispatcher.utter_message(**errors.answer(error))
            dispatcher.utter_message(response=errors.REPORT_NOT_FILED)
            return reset_events(tracker)
        dispatcher.utter_message(text=words.filed(report))
        dispatcher.utter_message(
            response="utter_incident_filed_with_email" if email and email != NO_EMAIL else "utter_incident_filed_anonymous",
            reference=report,
        )
        return reset_events(tracker) + [SlotSet("reference", report)]


class ActionJoinIncident(Action):
    """Adds the citizen to the nearby open report instead of filing a duplicate."""

    def name(self) -> Text:
        return "action_join_incident"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        reference = tracker.get_slot("incident_duplicate_of")
        email = tracker.get_slot("citizen_email")
        try:
            await in_unit_of_work(
                reports.join,
                reference,
                email=email if email and email != NO_EMAIL else None,
                channel=channel_of(tracker),
                sender_id=tracker.sender_id,
            )
        except ReportError as error:
            dispatcher.utter_message(**errors.answer(error))
            dispatcher.utter_message(response=errors.REPORT_NOT_FILED)
            return reset_events(tracker)
        dispatcher.utter_message(text=words.joined(reference))
        dispatcher.utter_message(response="utter_incident_joined", reference=reference)
        return reset_events(tracker) + [SlotSet("reference", reference)]


class ActionCancelIncident(Action):
    def name(self) -> Text:
        return "action_cancel_incident"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        dispatcher.utter_message(response="utter_incident_cancelled")
        return reset_events(tracker)


class ValidateReportStatusForm(TownFormValidationAction):
    """Asks for a ``SIG-`` reference until it names an existing report (an ``RDV-`` one goes to the booking lookup)."""

    STOP_RESETS = ("reference",)

    def name(self) -> Text:
        return "validate_report_status_form"

    async def gives_value(self, slot: str, tracker: Tracker) -> bool:
        text = latest_text(tracker)
        return slot == "reference" and bool(
            references.parse(text, references.INCIDENT) or references.parse(text, references.APPOINTMENT)
        )

    def extract_reference(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if tracker.get_slot("reference") and tracker.get_slot("requested_slot") != "reference":
            return {}
        text = latest_text(tracker)
        # an appointment reference is accepted too: action_report_status hands it to the booking lookup
        found = references.parse(text, references.INCIDENT) or references.parse(text, references.APPOINTMENT)
        return {"reference": found} if found else {}

    async def validate_reference(self, value: Any, dispatcher, tracker, domain) -> Dict[Text, Any]:
        canonical = references.parse(str(value or ""), references.INCIDENT)
        if canonical is None:
            appointment = references.parse(str(value or ""), references.APPOINTMENT)
            if appointment:  # "c'est quand mon rendez-vous RDV-..." : checked with the contact by the booking lookup
                return self.accept(tracker, reference=appointment)
            return self.reject("reference", dispatcher, tracker, response="utter_report_reference_invalid")
        found = await in_unit_of_work(reports.find, canonical)
        if found is None:
            return self.reject("reference", dispatcher, tracker, response="utter_report_not_found", reference=canonical)
        return self.accept(tracker, reference=canonical)


class ActionReportStatus(Action):
    """Follow-up: the report's public status and the latest staff note, never contact details."""

    def name(self) -> Text:
        return "action_report_status"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        reference = tracker.get_slot("reference")
        if references.kind(reference or "") == references.APPOINTMENT:
            # an appointment: the booking lookup takes over and asks for the e-mail or phone used to book
            return [SlotSet("citizen_email", None), ActiveLoop("appointment_lookup_form"),
                    FollowupAction("appointment_lookup_form")]
        status = await in_unit_of_work(reports.public_status, reference)
        if status is None:
            dispatcher.utter_message(response="utter_report_not_found", reference=reference or "")
        else:
            dispatcher.utter_message(text=words.status(status))
        return [SlotSet("reference", None)]
