"""Tables of this concern: incident services (Open311), reports, their history and supporters.

The database keeps the last line of defence: known categories and statuses, a location
(address or both coordinates), coordinates in range, a non-empty description, a unique
reference.
"""
from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from townhall import codes
from townhall.db import Base, UTCDateTime, utcnow

# The canonical incident_category values (shared/CONTRACT.md section 2) come from townhall.codes.
CATEGORIES = tuple(codes.INCIDENT_CATEGORIES)

OPEN = "open"
ACKNOWLEDGED = "acknowledged"
IN_PROGRESS = "in_progress"
RESOLVED = "resolved"
REJECTED = "rejected"
DUPLICATE = "duplicate"
STATUSES = (OPEN, ACKNOWLEDGED, IN_PROGRESS, RESOLVED, REJECTED, DUPLICATE)
ACTIVE_STATUSES = (OPEN, ACKNOWLEDGED, IN_PROGRESS)
CLOSED_STATUSES = (RESOLVED, REJECTED, DUPLICATE)

MAX_DESCRIPTION_CHARS = 4000


def _in(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


class IncidentService(Base):
    """One report category, published as an Open311 service."""

    __tablename__ = "incident_services"

    code = Column(String(32), primary_key=True)
    name = Column(String(120), nullable=False)
    group = Column("service_group", String(120), nullable=False, default="")
    description = Column(Text, nullable=False, default="")
    keywords = Column(Text, nullable=False, default="")  # comma-separated, as Open311 publishes them
    position = Column(Integer, nullable=False, default=0)

    __table_args__ = (CheckConstraint(f"code IN ({_in(CATEGORIES)})", name="known_code"),)


class Report(Base):
    """A citizen's report of a problem in public space (signalement)."""

    __tablename__ = "incident_reports"

    id = Column(Integer, primary_key=True)
    reference = Column(String(10), nullable=False, unique=True)
    category = Column(String(32), nullable=False, index=True)
    status = Column(String(16), nullable=False, default=OPEN, index=True)
    status_note = Column(Text, nullable=True)
    description = Column(Text, nullable=False)
    address = Column(String(255), nullable=True)
    latitude = Column(Float, nullable=True)
    longitude = Column(Float, nullable=True)
    photo = Column(String(500), nullable=True)
    # Private: never in a public answer (Open311, citizen follow-up).
    reporter_email = Column(String(254), nullable=True)
    reporter_phone = Column(String(32), nullable=True)
    reporter_name = Column(String(120), nullable=True)
    channel = Column(String(32), nullable=False, default="inconnu")
    sender_id = Column(String(255), nullable=True, index=True)
    duplicate_of = Column(String(10), nullable=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    updated_at = Column(UTCDateTime, nullable=False, default=utcnow, index=True)

    history = relationship(
        "StatusChange", back_populates="report", order_by="StatusChange.id", cascade="all, delete-orphan"
    )
    supporters = relationship("Supporter", back_populates="report", order_by="Supporter.id", cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint(f"category IN ({_in(CATEGORIES)})", name="known_category"),
        CheckConstraint(f"status IN ({_in(STATUSES)})", name="known_status"),
        CheckConstraint("length(description) > 0", name="description_not_empty"),
        CheckConstraint(
            "address IS NOT NULL OR (latitude IS NOT NULL AND longitude IS NOT NULL)", name="has_location"
        ),
        CheckConstraint("latitude IS NULL OR (latitude >= -90 AND latitude <= 90)", name="latitude_range"),
        CheckConstraint("longitude IS NULL OR (longitude >= -180 AND longitude <= 180)", name="longitude_range"),
    )

    @property
    def supporters_count(self) -> int:
        return len(self.supporters)

    @property
    def is_open(self) -> bool:
        return self.status in ACTIVE_STATUSES


class StatusChange(Base):
    """One step of a report's history: from which status to which, why, by whom."""

    __tablename__ = "incident_status_changes"

    id = Column(Integer, primary_key=True)
    report_id = Column(Integer, ForeignKey("incident_reports.id", ondelete="CASCADE"), nullable=False, index=True)
    at = Column(UTCDateTime, nullable=False, default=utcnow)
    from_status = Column(String(16), nullable=True)
    to_status = Column(String(16), nullable=False)
    note = Column(Text, nullable=False, default="")
    by = Column(String(120), nullable=False)

    report = relationship("Report", back_populates="history")


class Supporter(Base):
    """A citizen who reported the same problem and joined the existing report."""

    __tablename__ = "incident_supporters"

    id = Column(Integer, primary_key=True)
    report_id = Column(Integer, ForeignKey("incident_reports.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    email = Column(String(254), nullable=True)
    channel = Column(String(32), nullable=False, default="inconnu")
    sender_id = Column(String(255), nullable=True)

    report = relationship("Report", back_populates="supporters")

    __table_args__ = (UniqueConstraint("report_id", "sender_id", name="uq_incident_supporters_report_sender"),)
