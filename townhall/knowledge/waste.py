"""The waste-collection calendar: by sector, one OSM ``opening_hours`` rule per waste type.

A rule such as ``Tu,Fr 06:00-13:00; Jan 01,May 01,Dec 25 off`` says when the truck passes; the
next collection dates come from the same engine as the facilities' hours.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from opening_hours import State
from sqlalchemy import select
from sqlalchemy.orm import Session

from townhall.knowledge import hours
from townhall.knowledge.models import WASTE_TYPES, WasteSchedule

LABELS = {
    "ordures_menageres": "ordures ménagères",
    "recyclables": "emballages recyclables (bac jaune)",
    "verre": "verre",
    "encombrants": "encombrants",
    "dechets_verts": "déchets verts",
}
HORIZON_DAYS = 200


@dataclass(frozen=True)
class Collection:
    waste_type: str
    label: str
    dates: list[date] = field(default_factory=list)
    note: str | None = None


def schedules(session: Session, sector: str) -> list[WasteSchedule]:
    rows = {s.waste_type: s for s in session.execute(select(WasteSchedule).where(WasteSchedule.sector == sector)).scalars()}
    return [rows[t] for t in WASTE_TYPES if t in rows]


def next_dates(rule: str, after: datetime, count: int = 3) -> list[date]:
    """The next ``count`` collection days strictly after ``after`` started (a round already on its way is skipped)."""
    after = hours.local(after)
    oh = hours._compiled(rule)
    found: list[date] = []
    for begin, _end, state, _comment in oh.intervals(after, after + timedelta(days=HORIZON_DAYS)):
        if state != State.OPEN:
            continue
        if begin <= after and oh.is_open(after):
            continue  # the round has already started
        day = hours.local(begin).date()
        if day not in found:
            found.append(day)
        if len(found) >= count:
            break
    return found


def next_collections(
    session: Session, sector: str, after: datetime, waste_type: str | None = None, count: int = 2
) -> list[Collection]:
    """Next collection days in ``sector``, for one waste type or all of them."""
    result = []
    for schedule in schedules(session, sector):
        if waste_type and schedule.waste_type != waste_type:
            continue
        result.append(
            Collection(
                waste_type=schedule.waste_type,
                label=LABELS.get(schedule.waste_type, schedule.waste_type),
                dates=next_dates(schedule.rule, after, count),
                note=schedule.note,
            )
        )
    return result


def set_schedule(session: Session, sector: str, waste_type: str, rule: str, note: str | None = None) -> WasteSchedule:
    """Create or change a sector's calendar for a waste type (validated OSM syntax)."""
    if waste_type not in WASTE_TYPES:
        raise ValueError(f"Type de déchets inconnu : {waste_type}")
    rule = hours.validate_rule(rule)
    row = session.execute(
        select(WasteSchedule).where(WasteSchedule.sector == sector, WasteSchedule.waste_type == waste_type)
    ).scalar_one_or_none()
    if row is None:
        row = WasteSchedule(sector=sector, waste_type=waste_type, rule=rule, note=note)
        session.add(row)
    else:
        row.rule, row.note = rule, note
    session.flush()
    return row
