"""Appointment booking, cancelling and rescheduling: Rasa adapters over ``townhall.booking``.

Forms (slot names from shared/CONTRACT.md 4):
- ``booking_form``: procedure, ants_predemande (passport, ID card), party_size (motifs for
  several people), appointment_date, appointment_slot, citizen_name, citizen_email or
  citizen_phone, booking_confirmed. The booking itself happens when the citizen confirms
  (``validate_booking_confirmed``): a time taken meanwhile is re-offered and the form goes on.
- ``cancel_appointment_form`` / ``reschedule_appointment_form``: reference, citizen_email (an
  e-mail or the phone used to book), then for rescheduling appointment_date and appointment_slot.
- ``appointment_lookup_form`` ("c'est quand mon rendez-vous RDV-... ?", intent check_report_status):
  reference, citizen_email, then ``action_appointment_lookup`` gives the date, time, place and
  documents. The follow-up form of actions/incidents.py hands RDV- references over to it.

Each requested slot is read from the citizen's text first, whatever the intent (``gives_value``):
an ANTS number classified ``out_of_scope``, a name classified ``affirm`` are answers. A question
that gives nothing for the slot is rejected, answered by the rules of data/rules/booking.yml, and
the form resumes; « laissez tomber » stops it (actions/form_validation.py). A new day given later
in the form ("non, plutôt jeudi") replaces the day and offers its times.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timezone
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import channel_of, first_entity, in_unit_of_work, latest_text, say
from actions.form_validation import FAILURES_SLOT, TownFormValidationAction, is_new_message
from townhall import config, dates, references
from townhall.booking import appointments, availability, motifs
from townhall.booking.preferences import names_a_day, preferred_time
from townhall.booking.contacts import (
    ANTS_URL, InvalidContact, ants_numbers, name_in_answer, normalise_email, normalise_phone, says_nothing_to_give,
)
from townhall.text import clean, fold
from townhall.wording import booking as words
from townhall.wording import errors

ANTS_ENTITY = "ants_number"  # regex entity of data/nlu/entities/patterns.yml
NO_ANTS = "aucun"
# Entities that tell a message is about something else than a person's name.
NOT_A_NAME_ENTITIES = ("facility", "procedure", "incident_category", "waste_type", "date", "time", "reference",
                       "email", "phone", ANTS_ENTITY)
# Words that turn a day typed later in the form into a change of day ("non, plutôt jeudi").
_CORRECTION = re.compile(r"\b(plutot|finalement|en fait|changer|change|modifier|non|autre|prefere|preferer)\b")
_YES = re.compile(r"(oui|ouais|ok|d'accord|daccord|je confirme|c'est bon|parfait|exact|tout a fait)\b.*")
_NO = re.compile(r"(non|nan|pas d'accord)\b.*")
BOOKING_SLOTS = [
    "procedure", "ants_predemande", "party_size", "appointment_date", "appointment_slot", "citizen_name",
    "booking_confirmed", "booking_preferred_time", "booking_no_email", "booking_changing",
]


def _intent(tracker: Tracker) -> str:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""


_A_WEEK_LATER = re.compile(r"\s+en\s+(huit|quinze)\b")


def _with_week_offset(words: str, text: str) -> str:
    """"jeudi" read by the NLU in "jeudi en huit": the day a week (or two) later, not this week's."""
    at = text.lower().find(words.lower())
    later = _A_WEEK_LATER.match(text.lower(), at + len(words)) if at >= 0 else None
    return f"{words} en {later.group(1)}" if later and not _A_WEEK_LATER.search(words.lower()) else words


def said_day(tracker: Tracker) -> str | None:
    """The day words of the latest message ("jeudi", "le 24"), whether the day is valid or not."""
    words = first_entity(tracker, "date")
    if words and names_a_day(words):
        return _with_week_offset(words, latest_text(tracker))
    text = clean(latest_text(tracker), limit=200)
    if not names_a_day(text):
        return None  # "plutôt en fin de matinée" is a time of the day, not a day
    parsed = dates.parse(text, now=datetime.now(config.TIMEZONE))
    if parsed.day is not None or parsed.problem in (dates.DateProblem.PAST, dates.DateProblem.NONEXISTENT):
        return text
    return None


def day_correction(tracker: Tracker) -> str | None:
    """A new day given after the day was chosen: "non, plutôt jeudi", "finalement le 24"."""
    requested = tracker.get_slot("requested_slot")
    if requested in (None, "appointment_date", "reference", "procedure") or not is_new_message(tracker):
        return None
    if not tracker.get_slot("appointment_date"):
        return None  # no day chosen yet: nothing to correct
    text = latest_text(tracker)
    if requested != "appointment_slot" and not _CORRECTION.search(fold(text)):
        return None  # at the name or contact prompt, only an explicit change of mind
    if "autre" in fold(text) or dates.parse_time(text) is not None and requested == "appointment_slot":
        return None  # "un autre jour" / a time of the day offered
    words = said_day(tracker)
    if not words:
        return None
    parsed = dates.parse(words, now=datetime.now(config.TIMEZONE))
    if parsed.day is not None and parsed.day.isoformat() == tracker.get_slot("appointment_date"):
        return None  # the same day again
    return words


def name_given(tracker: Tracker) -> str | None:
    """The name typed at the name prompt, or None when the message is something else."""
    if any(first_entity(tracker, e) for e in NOT_A_NAME_ENTITIES):
        return None
    return name_in_answer(latest_text(tracker))


def gives_contact(text: str) -> bool:
    for normalise in (normalise_email, normalise_phone):
        try:
            normalise(text)
            return True
        except InvalidContact:
            pass
    return "@" in text or bool(re.search(r"\d{2}\D{0,3}\d{2}\D{0,3}\d{2}", text))


async def gives_booking_value(slot: str, tracker: Tracker) -> bool:
    """Whether the latest text answers ``slot`` of the appointment forms (valid or not)."""
    text = latest_text(tracker)
    folded = fold(text)
    intent = _intent(tracker)
    if slot != "appointment_date" and day_correction(tracker):
        return True
    if slot == "procedure":
        return bool(first_entity(tracker, "procedure") or motifs.match_procedure(text))
    if slot == "ants_predemande":
        return bool(ants_numbers(text) or first_entity(tracker, ANTS_ENTITY) or says_nothing_to_give(text)
                    or intent in ("affirm", "deny"))
    if slot == "party_size":
        return parse_party_size(text) is not None and len(folded.split()) <= 8
    if slot == "appointment_date":
        return bool(said_day(tracker) or "autre" in folded)
    if slot == "appointment_slot":
        return bool(dates.parse_time(text) or first_entity(tracker, "time") or "autre" in folded or said_day(tracker)
                    or preferred_time(text))
    if slot == "citizen_name":
        return name_given(tracker) is not None
    if slot in ("citizen_email", "citizen_phone"):
        return gives_contact(text) or says_nothing_to_give(text)
    if slot == "booking_confirmed":
        return intent in ("affirm", "deny") or bool(_YES.fullmatch(folded) or _NO.fullmatch(folded))
    if slot == "reference":
        return bool(first_entity(tracker, "reference") or references.parse(text, prefix=references.APPOINTMENT))
    return False


def _local_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _start(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _party(tracker: Tracker) -> int:
    try:
        return max(1, int(float(tracker.get_slot("party_size") or 1)))
    except (TypeError, ValueError):
        return 1


def parse_party_size(text: str) -> int | None:
    folded = fold(text)
    match = re.search(r"\b(\d{1,2})\b", folded)
    if match:
        return int(match.group(1))
    in_words = dates.number_words(text)  # "deux personnes", "nous serons trois"
    if in_words is not None:
        return in_words
    if re.search(r"\b(seul|seule|moi|juste moi|moi seul|moi meme)\b", folded):
        return 1
    return None


def _say_offer(dispatcher: CollectingDispatcher, offer: availability.Offer) -> None:
    """Times of a day as buttons, or why there are none and the next days."""
    say(dispatcher, words.offer(offer))
    if not offer.times and not offer.next_days:
        dispatcher.utter_message(response="utter_booking_no_availability")


class _AppointmentFormMixin:
    """What the booking and rescheduling forms share: the day and the time."""

    async def _procedure_facts(self, procedure: str | None) -> dict | None:
        if not procedure:
            return None
        return await in_unit_of_work(motifs.facts, procedure)

    def _text_if_requested(self, tracker: Tracker, slot: str) -> Dict[Text, Any]:
        if not self.answering(tracker, slot):
            return {}
        text = clean(latest_text(tracker), limit=500)
        return {slot: text or " "}

    async def gives_value(self, slot: str, tracker: Tracker) -> bool:
        return await gives_booking_value(slot, tracker)

    async def extract_appointment_date(self, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        if self.answering(tracker, "appointment_date"):
            return {"appointment_date": first_entity(tracker, "date") or clean(latest_text(tracker), limit=200) or " "}
        words = day_correction(tracker)
        if words:  # a change of mind: "non, plutôt jeudi" while the time or the confirmation is asked
            return {"appointment_date": words, "appointment_slot": None}
        return {}

    async def validate_appointment_date(self, value, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        if value is None:
            return {"appointment_date": None}
        if _local_day(value):
            return self.accept(tracker, appointment_date=value)
        procedure = await self._procedure_of(tracker)
        if isinstance(value, str) and is_new_message(tracker):
            value = _with_week_offset(value, latest_text(tracker))
        parsed = dates.parse(value, now=datetime.now(config.TIMEZONE))
        if parsed.problem == dates.DateProblem.PAST:
            return self.reject("appointment_date", dispatcher, tracker, response="utter_booking_date_past")
        if parsed.problem == dates.DateProblem.NONEXISTENT:
            return self.reject("appointment_date", dispatcher, tracker, response="utter_booking_date_nonexistent")
        if not parsed.ok:
            return self.reject("appointment_date", dispatcher, tracker, response="utter_booking_date_not_understood")
        offer = await in_unit_of_work(
            availability.offer, procedure, parsed.day, _party(tracker), parsed.at
        )
        if not offer.times and parsed.end_day:  # "la semaine prochaine": the first free day of the range
            for day in parsed.days()[1:]:
                candidate = await in_unit_of_work(availability.offer, procedure, day, _party(tracker), parsed.at)
                if candidate.times:
                    offer = candidate
                    break
        if not offer.times:
            _say_offer(dispatcher, offer)
            result = self.reject("appointment_date", dispatcher, tracker)
            result[FAILURES_SLOT] = self.failures(tracker)  # a full day is not the citizen's mistake
            return result
        return self.accept(
            tracker,
            appointment_date=offer.day.isoformat(),
            booking_preferred_time=parsed.at.strftime("%H:%M") if parsed.at else tracker.get_slot("booking_preferred_time"),
        )

    async def extract_appointment_slot(self, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        if not self.answering(tracker, "appointment_slot") or day_correction(tracker):
            return {}
        words = first_entity(tracker, "date") or ""
        if "autre" in fold(words) or "autre" in fold(latest_text(tracker)):
            return {"appointment_slot": "other_day"}
        at = first_entity(tracker, "time") or clean(latest_text(tracker), limit=200)
        return {"appointment_slot": at or " "}

    async def validate_appointment_slot(self, value, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        if value is None:  # the day has just changed: its times are offered next
            return {"appointment_slot": None}
        if _start(value):
            return self.accept(tracker, appointment_slot=value)
        if value == "other_day":
            dispatcher.utter_message(response="utter_booking_other_day")
            return {"appointment_slot": None, "appointment_date": None, "booking_preferred_time": None}
        day = _local_day(tracker.get_slot("appointment_date"))
        parsed_day = dates.parse(value, now=datetime.now(config.TIMEZONE))
        chosen = dates.parse_time(value)
        period = preferred_time(value)
        if chosen is None and period is not None and not names_a_day(value):
            # "plutôt en fin de matinée": the same day, the free times nearest to that part of the day
            return {"appointment_slot": None, "booking_preferred_time": period.strftime("%H:%M")}
        if parsed_day.ok and parsed_day.day != day and chosen is None:  # another day typed instead of a time
            return {"appointment_slot": None, "appointment_date": None, "booking_preferred_time": None}
        if chosen is None or day is None:
            return self.reject("appointment_slot", dispatcher, tracker, response="utter_booking_slot_not_understood")
        start = availability.local(day, chosen)
        free = await in_unit_of_work(
            availability.is_free, await self._procedure_of(tracker), start, _party(tracker)
        )
        if not free:
            dispatcher.utter_message(**words.slot_unavailable(chosen))
            return {"appointment_slot": None, "booking_preferred_time": chosen.strftime("%H:%M")}
        return self.accept(tracker, appointment_slot=start.astimezone(availability.timezone.utc).isoformat())

    async def _procedure_of(self, tracker: Tracker) -> str | None:
        return tracker.get_slot("procedure")


class ActionAskAppointmentSlot(Action):
    """The nearest free times of the chosen day, as buttons, with "Un autre jour"."""

    def name(self) -> Text:
        return "action_ask_appointment_slot"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[Dict[Text, Any]]:
        day = _local_day(tracker.get_slot("appointment_date"))
        procedure = tracker.get_slot("procedure")
        if procedure is None and tracker.get_slot("reference"):
            found = await in_unit_of_work(appointments.find, tracker.get_slot("reference"))
            procedure = found.procedure if found else None
        if day is None or procedure is None:
            dispatcher.utter_message(response="utter_ask_appointment_date")
            return []
        preferred = tracker.get_slot("booking_preferred_time")
        preferred_time = time.fromisoformat(preferred) if preferred else None
        offer = await in_unit_of_work(availability.offer, procedure, day, _party(tracker), preferred_time)
        _say_offer(dispatcher, offer)
        return [] if offer.times else [SlotSet("appointment_date", None)]


class ActionAskAppointmentDate(Action):
    def name(self) -> Text:
        return "action_ask_appointment_date"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[Dict[Text, Any]]:
        procedure = tracker.get_slot("procedure")
        days: list[date] = []
        if procedure:
            days = await in_unit_of_work(availability.next_free_days, procedure, None, _party(tracker))
        dispatcher.utter_message(response="utter_ask_appointment_date", buttons=words.day_buttons(days))
        return []


class ValidateBookingForm(_AppointmentFormMixin, TownFormValidationAction):
    def name(self) -> Text:
        return "validate_booking_form"

    STOP_RESETS = tuple(BOOKING_SLOTS) + ("reference",)

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> List[Text]:
        slots = ["procedure"]
        facts = await self._procedure_facts(tracker.get_slot("procedure"))
        if facts:
            if facts["needs_ants"]:
                slots.append("ants_predemande")
            if facts["max_party_size"] > 1:
                slots.append("party_size")
        slots += ["appointment_date", "appointment_slot", "citizen_name"]
        requested = tracker.get_slot("requested_slot")
        email, phone = tracker.get_slot("citizen_email"), tracker.get_slot("citizen_phone")
        if requested in ("citizen_email", "citizen_phone"):  # still being validated this turn
            if is_new_message(tracker) and requested not in tracker.slots_to_validate():
                # the answer is still to be read: a phone typed at the e-mail prompt was already put in
                # citizen_phone by the NLU mapping, unchecked; the requested slot is read and validated first
                slots.append(requested)
            elif requested == "citizen_email" and email is None and phone:
                pass  # a phone number was given instead
            elif requested == "citizen_phone" and phone is None and email:
                pass  # an e-mail address was given instead
            elif requested == "citizen_email" and email is None and tracker.get_slot("booking_no_email"):
                slots.append("citizen_phone")
            else:
                slots.append(requested)
        elif not tracker.get_slot("citizen_email") and not tracker.get_slot("citizen_phone"):
            slots.append("citizen_phone" if tracker.get_slot("booking_no_email") else "citizen_email")
        slots.append("booking_confirmed")
        return slots

    # procedure -----------------------------------------------------------
    async def extract_procedure(self, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        if tracker.get_slot("requested_slot") != "procedure" or tracker.get_slot("procedure"):
            return {}
        if not is_new_message(tracker):
            return {}
        found = motifs.match_procedure(latest_text(tracker))
        return {"procedure": found or "?"}

    async def validate_procedure(self, value, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        facts = await self._procedure_facts(value if value != "?" else None)
        if not facts:
            labels = await in_unit_of_work(motifs.bookable_labels)
            dispatcher.utter_message(
                response="utter_booking_procedure_not_bookable",
                buttons=[{"title": label, "payload": '/inform{"procedure":"%s"}' % code} for code, label in labels],
            )
            return self.reject("procedure", dispatcher, tracker)
        return self.accept(tracker, procedure=value)

    # ANTS pre-application number ------------------------------------------
    async def extract_ants_predemande(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if not self.answering(tracker, "ants_predemande"):
            return {}
        text = latest_text(tracker)
        found = ants_numbers(text)
        for value in [first_entity(tracker, ANTS_ENTITY)] if not found else []:
            found = ants_numbers(value)
        if found:
            return {"ants_predemande": " ".join(found)}
        if _intent(tracker) == "deny" or says_nothing_to_give(text) or re.search(r"\b(pas|aucun|non)\b", fold(text)):
            return {"ants_predemande": NO_ANTS}
        return {"ants_predemande": clean(text, limit=500) or " "}

    async def validate_ants_predemande(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value == NO_ANTS:
            dispatcher.utter_message(response="utter_booking_ants_link", ants_url=ANTS_URL)
            return self.accept(tracker, ants_predemande=NO_ANTS)
        found = ants_numbers(value)
        if not found:
            if _intent(tracker) == "affirm":
                dispatcher.utter_message(response="utter_booking_ants_which")
                return {"ants_predemande": None}
            return self.reject("ants_predemande", dispatcher, tracker, response="utter_booking_ants_invalid")
        return self.accept(tracker, ants_predemande=" ".join(found))

    # party size -------------------------------------------------------------
    async def extract_party_size(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return self._text_if_requested(tracker, "party_size")

    async def validate_party_size(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        size = value if isinstance(value, (int, float)) else parse_party_size(str(value))
        facts = await self._procedure_facts(tracker.get_slot("procedure"))
        maximum = facts["max_party_size"] if facts else 1
        if size is None or not 1 <= int(size) <= maximum:
            return self.reject("party_size", dispatcher, tracker, response="utter_booking_party_invalid", maximum=maximum)
        return self.accept(tracker, party_size=int(size))

    # name and contacts -------------------------------------------------------
    async def extract_citizen_name(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return self._text_if_requested(tracker, "citizen_name")

    async def validate_citizen_name(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        name = name_in_answer(str(value or ""))
        if name is None:
            return self.reject("citizen_name", dispatcher, tracker, response="utter_booking_name_invalid")
        return self.accept(tracker, citizen_name=name)

    async def extract_citizen_email(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if not self.answering(tracker, "citizen_email"):
            return {}
        if first_entity(tracker, "email"):
            return {}  # the from_entity mapping set it
        text = latest_text(tracker)
        if first_entity(tracker, "phone") or (re.search(r"\d{2}.*\d{2}.*\d{2}", text) and "@" not in text):
            return {"citizen_email": "phone:" + (first_entity(tracker, "phone") or text)}
        if says_nothing_to_give(text) or (_intent(tracker) == "deny" and "@" not in text):
            return {"citizen_email": "none"}
        return {"citizen_email": clean(text, limit=400) or " "}

    async def validate_citizen_email(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value == "none":
            return {"citizen_email": None, "booking_no_email": True}
        if str(value).startswith("phone:"):
            try:
                return self.accept(tracker, citizen_email=None, citizen_phone=normalise_phone(value[6:]))
            except InvalidContact:
                return self.reject("citizen_email", dispatcher, tracker, response="utter_booking_phone_invalid")
        try:
            return self.accept(tracker, citizen_email=normalise_email(value))
        except InvalidContact:
            return self.reject("citizen_email", dispatcher, tracker, response="utter_booking_email_invalid")

    async def extract_citizen_phone(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if not self.answering(tracker, "citizen_phone"):
            return {}
        return {"citizen_phone": first_entity(tracker, "phone") or clean(latest_text(tracker), limit=500) or " "}

    async def validate_citizen_phone(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if "@" in str(value):
            try:
                return self.accept(tracker, citizen_email=normalise_email(value), citizen_phone=None)
            except InvalidContact:
                return self.reject("citizen_phone", dispatcher, tracker, response="utter_booking_email_invalid")
        try:
            return self.accept(tracker, citizen_phone=normalise_phone(value))
        except InvalidContact:
            return self.reject("citizen_phone", dispatcher, tracker, response="utter_booking_phone_invalid")

    # confirmation: the booking itself -----------------------------------------
    async def extract_booking_confirmed(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if not self.answering(tracker, "booking_confirmed") or day_correction(tracker):
            return {}  # a new day: extract_appointment_date takes it
        folded = fold(latest_text(tracker))
        if tracker.get_slot("booking_changing") or _intent(tracker) not in ("affirm", "deny") or _CORRECTION.search(folded):
            if re.search(r"\b(jour|date)\b", folded) or first_entity(tracker, "date"):
                return {"booking_confirmed": "change:date"}
            if re.search(r"\b(heure|horaire|creneau)\b", folded) or first_entity(tracker, "time"):
                return {"booking_confirmed": "change:slot"}
            if re.search(r"\b(nom)\b", folded):
                return {"booking_confirmed": "change:name"}
            if re.search(r"\b(mail|e-mail|telephone|numero|coordonnees)\b", folded):
                return {"booking_confirmed": "change:contact"}
        if _intent(tracker) == "affirm" or (_intent(tracker) != "deny" and _YES.fullmatch(folded)):
            return {"booking_confirmed": True}
        if _intent(tracker) == "deny" or _NO.fullmatch(folded):
            return {"booking_confirmed": False}
        return {"booking_confirmed": "?"}

    async def validate_booking_confirmed(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value is None:
            return {"booking_confirmed": None}
        changes = {
            "change:date": {"appointment_date": None, "appointment_slot": None},
            "change:slot": {"appointment_slot": None},
            "change:name": {"citizen_name": None},
            "change:contact": {"citizen_email": None, "citizen_phone": None, "booking_no_email": None},
        }
        if value in changes:
            return {**changes[value], "booking_confirmed": None, "booking_changing": None}
        if value is False:
            dispatcher.utter_message(response="utter_booking_what_to_change")
            return {"booking_confirmed": None, "booking_changing": True}
        if value is not True:
            return self.reject("booking_confirmed", dispatcher, tracker, response="utter_booking_confirm_yes_no")
        ants = tracker.get_slot("ants_predemande")
        try:
            booked = await in_unit_of_work(
                appointments.book,
                procedure=tracker.get_slot("procedure"),
                start=_start(tracker.get_slot("appointment_slot")),
                party_size=_party(tracker),
                name=tracker.get_slot("citizen_name"),
                email=tracker.get_slot("citizen_email"),
                phone=tracker.get_slot("citizen_phone"),
                channel=channel_of(tracker),
                sender_id=tracker.sender_id,
                ants_numbers=[] if not ants or ants == NO_ANTS else ants.split(),
            )
        except appointments.SlotTaken as error:
            dispatcher.utter_message(**errors.answer(error))
            return {"appointment_slot": None, "booking_confirmed": None}
        except (appointments.BookingError, InvalidContact, ValueError, TypeError) as error:
            dispatcher.utter_message(**errors.answer(error))
            return {"appointment_slot": None, "appointment_date": None, "booking_confirmed": None}
        return self.accept(tracker, booking_confirmed=True, reference=booked.reference)


class ActionAskBookingConfirmed(Action):
    """The recap, then "Je confirme ?" with Oui / Non buttons."""

    def name(self) -> Text:
        return "action_ask_booking_confirmed"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[Dict[Text, Any]]:
        facts = await in_unit_of_work(motifs.facts, tracker.get_slot("procedure")) or {}
        dispatcher.utter_message(text=words.recap(
            facts.get("label", ""), _party(tracker), _start(tracker.get_slot("appointment_slot")),
            facts.get("place", ""), tracker.get_slot("citizen_name"), tracker.get_slot("citizen_email"),
            tracker.get_slot("citizen_phone"),
        ))
        dispatcher.utter_message(response="utter_ask_booking_confirmed")
        return []


class ActionBookingConfirmation(Action):
    """After the booking: the reference, the documents to bring and the calendar file."""

    def name(self) -> Text:
        return "action_booking_confirmation"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[Dict[Text, Any]]:
        reference = tracker.get_slot("reference")
        booked = await in_unit_of_work(appointments.find, reference) if reference else None
        if booked is None:
            dispatcher.utter_message(response="utter_booking_failed")
            return [SlotSet(s, None) for s in BOOKING_SLOTS]
        say(dispatcher, words.booked(booked, ants_reminder=tracker.get_slot("ants_predemande") == NO_ANTS))
        return [SlotSet(s, None) for s in BOOKING_SLOTS]


class ActionResetBooking(Action):
    def name(self) -> Text:
        return "action_reset_booking"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[Dict[Text, Any]]:
        return [SlotSet(s, None) for s in BOOKING_SLOTS] + [
            SlotSet("reference", None), SlotSet(FAILURES_SLOT, None)
        ]


# Cancel and reschedule ---------------------------------------------------------
class _OwnerFormMixin:
    """reference, then the e-mail or phone used to book; checked together, never telling which was wrong."""

    async def extract_reference(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if not self.answering(tracker, "reference") or first_entity(tracker, "reference"):
            return {}
        return {"reference": clean(latest_text(tracker), limit=200) or " "}

    async def validate_reference(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        canonical = references.parse(str(value), prefix=references.APPOINTMENT)
        if not canonical:
            return self.reject("reference", dispatcher, tracker, response="utter_booking_reference_invalid")
        return self.accept(tracker, reference=canonical)

    async def extract_citizen_email(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if not self.answering(tracker, "citizen_email"):
            return {}
        given = first_entity(tracker, "email") or first_entity(tracker, "phone") or clean(latest_text(tracker), 400)
        return {"citizen_email": given or " "}

    async def validate_citizen_email(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        reference = tracker.get_slot("reference")
        try:
            await in_unit_of_work(appointments.find_for_owner, reference, value)
        except appointments.AppointmentNotFound as error:
            dispatcher.utter_message(**errors.answer(error))
            result = self.reject("citizen_email", dispatcher, tracker)
            result["reference"] = None
            return result
        return self.accept(tracker, citizen_email=value)


class ValidateCancelAppointmentForm(_OwnerFormMixin, TownFormValidationAction):
    STOP_RESETS = ("reference", "citizen_email")

    def name(self) -> Text:
        return "validate_cancel_appointment_form"

    def stops(self, text: str) -> bool:
        return super().stops(text) and "annul" not in fold(text)  # "annuler" is what this form is for

    async def gives_value(self, slot: str, tracker: Tracker) -> bool:
        return await gives_booking_value(slot, tracker)


class ValidateRescheduleAppointmentForm(_OwnerFormMixin, _AppointmentFormMixin, TownFormValidationAction):
    STOP_RESETS = ("reference", "citizen_email", "appointment_date", "appointment_slot", "booking_preferred_time")

    def name(self) -> Text:
        return "validate_reschedule_appointment_form"

    async def _procedure_of(self, tracker: Tracker) -> str | None:
        found = await in_unit_of_work(appointments.find, tracker.get_slot("reference"))
        return found.procedure if found else None

    async def extract_appointment_date(self, dispatcher, tracker, domain):
        if tracker.get_slot("requested_slot") not in ("appointment_date", "appointment_slot"):
            return {}  # a day said with the reference or the contact is not yet a choice
        return await super().extract_appointment_date(dispatcher, tracker, domain)


class ActionCancelAppointment(Action):
    def name(self) -> Text:
        return "action_cancel_appointment"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[Dict[Text, Any]]:
        reference, contact = tracker.get_slot("reference"), tracker.get_slot("citizen_email")
        try:
            cancelled = await in_unit_of_work(appointments.cancel_by_citizen, reference, contact)
        except (appointments.AppointmentNotFound, appointments.NotChangeable) as error:
            dispatcher.utter_message(**errors.answer(error))
        else:
            say(dispatcher, words.cancelled(cancelled))
        return [SlotSet("reference", None), SlotSet("citizen_email", None), SlotSet(FAILURES_SLOT, None)]


class ActionRescheduleAppointment(Action):
    def name(self) -> Text:
        return "action_reschedule_appointment"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[Dict[Text, Any]]:
        reference, contact = tracker.get_slot("reference"), tracker.get_slot("citizen_email")
        start = _start(tracker.get_slot("appointment_slot"))
        reset = [SlotSet(s, None) for s in ("reference", "citizen_email", "appointment_date", "appointment_slot",
                                            "booking_preferred_time", FAILURES_SLOT)]
        try:
            moved = await in_unit_of_work(appointments.reschedule, reference, contact, start)
        except appointments.SlotTaken as error:
            dispatcher.utter_message(**errors.answer(error))
            return [SlotSet("appointment_slot", None), FollowupAction("reschedule_appointment_form")]
        except (appointments.AppointmentNotFound, appointments.NotChangeable, TypeError, ValueError) as error:
            dispatcher.utter_message(**errors.answer(error, default="utter_booking_not_changeable"))
            return reset
        say(dispatcher, words.moved(moved))
        return reset


# "What is my appointment?" -------------------------------------------------------
# check_report_status with an RDV- reference: action_report_status (actions/incidents.py) clears
# citizen_email and activates appointment_lookup_form, which asks for it; then the submit rule of
# data/rules/booking.yml runs action_appointment_lookup.
class ValidateAppointmentLookupForm(_OwnerFormMixin, TownFormValidationAction):
    STOP_RESETS = ("reference", "citizen_email")

    def name(self) -> Text:
        return "validate_appointment_lookup_form"

    async def gives_value(self, slot: str, tracker: Tracker) -> bool:
        return await gives_booking_value(slot, tracker)


def _lookup(session, reference: str | None, contact: str | None) -> list[dict]:
    """What the citizen is told about their own appointment (worded inside the unit of work)."""
    return words.lookup(appointments.find_for_owner(session, reference, contact), datetime.now(timezone.utc))


class ActionAppointmentLookup(Action):
    """The date, time, place and documents of an appointment, for the person who booked it."""

    def name(self) -> Text:
        return "action_appointment_lookup"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[Dict[Text, Any]]:
        reference, contact = tracker.get_slot("reference"), tracker.get_slot("citizen_email")
        reset = [SlotSet(s, None) for s in ("reference", "citizen_email", FAILURES_SLOT)]
        try:
            messages = await in_unit_of_work(_lookup, reference, contact)
        except appointments.AppointmentNotFound as error:
            dispatcher.utter_message(**errors.answer(error))
            return reset
        say(dispatcher, messages)
        return reset
