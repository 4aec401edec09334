"""Tables of the town's practical knowledge: facilities, hours, procedures, streets, waste, alerts.

Weekly opening hours are one OpenStreetMap ``opening_hours`` string per facility (the format
of the French open-data schema for public facilities), public holidays included ("PH off").
Exceptional closures are whole days in their own table. Rows loaded from ``commune_data/``
carry a ``demo_key``; rows that staff created or changed carry ``staff_edited`` and are never
overwritten by the loader.
"""
from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)

from townhall import codes
from townhall.db import Base, UTCDateTime, utcnow

# The canonical codes (shared/CONTRACT.md section 2) come from townhall.codes.
FACILITY_CODES = tuple(codes.FACILITIES)
PROCEDURE_CODES = tuple(codes.PROCEDURES)
WASTE_TYPES = tuple(codes.WASTE_TYPES)
ALERT_KINDS = ("travaux", "fermeture", "coupure_eau", "meteo", "autre")


class Facility(Base):
    __tablename__ = "facility"

    code = Column(String(40), primary_key=True)
    name = Column(String(200), nullable=False)
    short_name = Column(String(100), nullable=False)  # "la piscine", with its article, for sentences
    gender = Column(String(2), nullable=False, default="f")  # f, m, fp, mp: agreement of "ouverte"
    address = Column(String(300), nullable=False)
    latitude = Column(Float, nullable=False)
    longitude = Column(Float, nullable=False)
    phone = Column(String(20), nullable=True)  # E.164
    email = Column(String(254), nullable=True)
    accessibility = Column(Text, nullable=True)
    opening_hours = Column(Text, nullable=False)  # OSM opening_hours syntax, local time (Europe/Paris)
    hours_note = Column(Text, nullable=True)
    staff_edited = Column(Boolean, nullable=False, default=False)
    updated_at = Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("latitude BETWEEN -90 AND 90 AND longitude BETWEEN -180 AND 180", name="position"),
        CheckConstraint("gender IN ('f', 'm', 'fp', 'mp')", name="gender"),
    )


class Closure(Base):
    """A facility closed for whole days (inclusive), with the reason citizens are told."""

    __tablename__ = "facility_closure"

    id = Column(Integer, primary_key=True)
    facility_code = Column(String(40), ForeignKey("facility.code", ondelete="CASCADE"), nullable=False, index=True)
    start_day = Column(Date, nullable=False)
    end_day = Column(Date, nullable=False)
    label = Column(String(200), nullable=False)
    demo_key = Column(String(80), nullable=True, unique=True)
    staff_edited = Column(Boolean, nullable=False, default=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (CheckConstraint("end_day >= start_day", name="days_in_order"),)


class Procedure(Base):
    __tablename__ = "procedure_info"

    code = Column(String(40), primary_key=True)
    name = Column(String(200), nullable=False)
    documents = Column(JSON, nullable=False, default=list)  # list of str
    cost = Column(String(200), nullable=False)
    delay = Column(String(200), nullable=False)
    needs_appointment = Column(Boolean, nullable=False, default=False)
    url = Column(String(500), nullable=False)
    notes = Column(Text, nullable=True)
    facility_code = Column(String(40), ForeignKey("facility.code"), nullable=True)


class Street(Base):
    __tablename__ = "street"

    id = Column(Integer, primary_key=True)
    name = Column(String(200), nullable=False, unique=True)
    sector = Column(String(80), nullable=False, index=True)
    latitude = Column(Float, nullable=False)
    longitude = Column(Float, nullable=False)


class WasteSchedule(Base):
    """When a waste type is collected in a sector, as an OSM opening_hours string."""

    __tablename__ = "waste_schedule"

    id = Column(Integer, primary_key=True)
    sector = Column(String(80), nullable=False)
    waste_type = Column(String(40), nullable=False)
    rule = Column(String(300), nullable=False)
    note = Column(Text, nullable=True)

    __table_args__ = (UniqueConstraint("sector", "waste_type", name="uq_waste_schedule_sector_type"),)


class Alert(Base):
    """Roadworks, closures, water cuts, weather warnings: valid from ``starts_at`` to ``ends_at``."""

    __tablename__ = "public_alert"

    id = Column(Integer, primary_key=True)
    kind = Column(String(20), nullable=False)
    title = Column(String(200), nullable=False)
    description = Column(Text, nullable=True)
    starts_at = Column(UTCDateTime, nullable=False)
    ends_at = Column(UTCDateTime, nullable=False, index=True)
    street_name = Column(String(200), nullable=True, index=True)
    facility_code = Column(String(40), ForeignKey("facility.code", ondelete="SET NULL"), nullable=True)
    demo_key = Column(String(80), nullable=True, unique=True)
    staff_edited = Column(Boolean, nullable=False, default=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="period_in_order"),
        CheckConstraint("kind IN ('travaux', 'fermeture', 'coupure_eau', 'meteo', 'autre')", name="kind"),
    )
