"""Tables of the appointment booking concern.

Places (a town-hall counter, the planning office) have a weekly schedule and a number of
desks, and may be inside a facility of the knowledge base (``facility_code``): they are then
bookable only when that facility is open (its exceptional closures and opening hours, the
ones citizens are told, see ``townhall.knowledge.hours``). Motifs (one per procedure) say how long an appointment lasts per person, how many
people it may cover, and how early or late one may book. Closures remove time from
availability.

Double booking is prevented by the database: an appointment occupies *slot units*
(``unit_minutes`` each, e.g. 10 minutes) on one desk of its place, and
``booking_slot_units`` has a unique constraint on (place, desk, unit start). Two bookings
that overlap by even one unit cannot both commit, on SQLite and PostgreSQL alike, whatever
the party size. Cancelling an appointment deletes its units, which frees the time.
"""
from __future__ import annotations

import enum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from townhall.db import Base, UTCDateTime, utcnow


class Status(str, enum.Enum):
    BOOKED = "booked"
    CANCELLED_BY_CITIZEN = "cancelled_by_citizen"
    CANCELLED_BY_STAFF = "cancelled_by_staff"
    HONOURED = "honoured"
    NO_SHOW = "no_show"


STATUS_LABELS = {
    Status.BOOKED: "réservé",
    Status.CANCELLED_BY_CITIZEN: "annulé par l'usager",
    Status.CANCELLED_BY_STAFF: "annulé par la mairie",
    Status.HONOURED: "honoré",
    Status.NO_SHOW: "absent",
}


class Place(Base):
    __tablename__ = "booking_places"

    id = Column(Integer, primary_key=True)
    code = Column(String(64), nullable=False, unique=True)
    name = Column(String(200), nullable=False)
    address = Column(String(300), nullable=False, default="")
    desks = Column(Integer, nullable=False, default=1)
    unit_minutes = Column(Integer, nullable=False, default=10)
    # The facility (``facility.code``) the place is in. No foreign key: booking settings can be
    # loaded without the knowledge base (tests); an unknown code only adds no constraint.
    facility_code = Column(String(40), nullable=True, index=True)

    __table_args__ = (
        CheckConstraint("desks >= 1", name="desks_positive"),
        CheckConstraint("unit_minutes >= 1", name="unit_positive"),
    )


class Motif(Base):
    """What an appointment is for (one per procedure), after RDV Service Public's motifs."""

    __tablename__ = "booking_motifs"

    id = Column(Integer, primary_key=True)
    code = Column(String(64), nullable=False, unique=True)  # the canonical procedure
    label = Column(String(200), nullable=False)
    place_id = Column(Integer, ForeignKey("booking_places.id"), nullable=False)
    minutes_per_person = Column(Integer, nullable=False)
    max_party_size = Column(Integer, nullable=False, default=1)
    min_notice_minutes = Column(Integer, nullable=False, default=120)  # not too soon
    max_notice_days = Column(Integer, nullable=False, default=90)  # not too far ahead
    needs_ants = Column(Boolean, nullable=False, default=False)
    documents = Column(JSON, nullable=False, default=list)
    active = Column(Boolean, nullable=False, default=True)

    place = relationship(Place, lazy="joined")

    __table_args__ = (
        CheckConstraint("minutes_per_person >= 1", name="duration_positive"),
        CheckConstraint("max_party_size >= 1", name="party_positive"),
    )


class ScheduleRange(Base):
    """A weekly opening range of a place for appointments (weekday 0 = Monday), local time."""

    __tablename__ = "booking_schedule_ranges"

    id = Column(Integer, primary_key=True)
    place_id = Column(Integer, ForeignKey("booking_places.id", ondelete="CASCADE"), nullable=False, index=True)
    weekday = Column(Integer, nullable=False)
    opens = Column(Time, nullable=False)
    closes = Column(Time, nullable=False)
    motifs = Column(JSON, nullable=True)  # list of motif codes, or null for every motif of the place

    __table_args__ = (CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),)


class Closure(Base):
    """Time removed from availability (exceptional closure, staff training...)."""

    __tablename__ = "booking_closures"

    id = Column(Integer, primary_key=True)
    place_id = Column(Integer, ForeignKey("booking_places.id", ondelete="CASCADE"), nullable=True, index=True)
    starts_at = Column(UTCDateTime, nullable=False)
    ends_at = Column(UTCDateTime, nullable=False)
    reason = Column(String(300), nullable=False, default="")
    source = Column(String(32), nullable=False, default="staff")  # "demo" rows are reloaded

    place = relationship(Place, lazy="joined")


class Appointment(Base):
    __tablename__ = "booking_appointments"

    id = Column(Integer, primary_key=True)
    reference = Column(String(16), nullable=False, unique=True)
    motif_id = Column(Integer, ForeignKey("booking_motifs.id"), nullable=False, index=True)
    place_id = Column(Integer, ForeignKey("booking_places.id"), nullable=False)
    desk = Column(Integer, nullable=False, default=1)
    start = Column(UTCDateTime, nullable=False, index=True)
    end = Column(UTCDateTime, nullable=False)
    party_size = Column(Integer, nullable=False, default=1)
    citizen_name = Column(String(200), nullable=False)
    citizen_email = Column(String(320), nullable=True)
    citizen_phone = Column(String(32), nullable=True)  # E.164
    ants_numbers = Column(JSON, nullable=False, default=list)
    status = Column(String(32), nullable=False, default=Status.BOOKED.value, index=True)
    status_reason = Column(Text, nullable=True)
    status_by = Column(String(200), nullable=True)
    status_changed_at = Column(UTCDateTime, nullable=True)
    channel = Column(String(32), nullable=False, default="inconnu")
    sender_id = Column(String(255), nullable=True)
    calendar_token = Column(String(64), nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)

    motif = relationship(Motif, lazy="joined")
    place = relationship(Place, lazy="joined")
    units = relationship("SlotUnit", back_populates="appointment", cascade="all, delete-orphan", passive_deletes=True)

    __table_args__ = (
        CheckConstraint("party_size >= 1", name="party_positive"),
        CheckConstraint("citizen_email IS NOT NULL OR citizen_phone IS NOT NULL", name="contact_given"),
        CheckConstraint(
            "status IN ('booked', 'cancelled_by_citizen', 'cancelled_by_staff', 'honoured', 'no_show')",
            name="status_known",
        ),
    )

    @property
    def procedure(self) -> str:
        return self.motif.code

    @property
    def is_active(self) -> bool:
        return self.status == Status.BOOKED.value

    def as_dict(self) -> dict:
        return {
            "reference": self.reference,
            "procedure": self.procedure,
            "motif": self.motif.label,
            "place": self.place.name,
            "address": self.place.address,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "party_size": self.party_size,
            "citizen_name": self.citizen_name,
            "citizen_email": self.citizen_email,
            "citizen_phone": self.citizen_phone,
            "ants_numbers": list(self.ants_numbers or []),
            "status": self.status,
            "status_reason": self.status_reason,
            "status_by": self.status_by,
            "channel": self.channel,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "documents": list(self.motif.documents or []),
        }


class SlotUnit(Base):
    """One unit of desk time held by an active appointment: the double-booking guard."""

    __tablename__ = "booking_slot_units"

    id = Column(Integer, primary_key=True)
    place_id = Column(Integer, ForeignKey("booking_places.id"), nullable=False)
    desk = Column(Integer, nullable=False)
    starts_at = Column(UTCDateTime, nullable=False)
    appointment_id = Column(
        Integer, ForeignKey("booking_appointments.id", ondelete="CASCADE"), nullable=False, index=True
    )

    appointment = relationship(Appointment, back_populates="units")

    __table_args__ = (UniqueConstraint("place_id", "desk", "starts_at", name="uq_booking_slot_units_place_desk_start"),)
