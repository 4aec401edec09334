"""Every demo opening_hours rule, read by the opening-hours library itself, equals the weekly
table the commune means (OSM: a later rule for a day replaces the earlier ones)."""
from __future__ import annotations

from datetime import date, time

import pytest
import yaml

from townhall.knowledge import hours, loader
from townhall.wording import rules as rule_words

MORNING, AFTERNOON = (time(9), time(12)), (time(14), time(17))
CLOSED = ()
# weekday (0 = Monday) -> intervals, for a week of January and a week of June 2026 (no public holiday)
INTENDED = {
    "mairie": [((time(8, 30), time(12)), (time(13, 30), time(17, 30)))] * 5 + [((time(9), time(12)),), CLOSED],
    "ccas": [(MORNING,), (MORNING, AFTERNOON), (MORNING,), (MORNING, AFTERNOON), (MORNING,), CLOSED, CLOSED],
    "police_municipale": [((time(8), time(12)), (time(13, 30), time(18)))] * 5 + [((time(9), time(12)),), CLOSED],
    "services_techniques": [((time(8), time(12)), (time(13, 30), time(17)))] * 5 + [CLOSED, CLOSED],
    "mediatheque": [CLOSED, ((time(14), time(18, 30)),), ((time(10), time(12, 30)), (time(14), time(18))),
                    ((time(14), time(18, 30)),), ((time(14), time(18, 30)),),
                    ((time(10), time(12, 30)), (time(14), time(18))), CLOSED],
}
WEEKS = (date(2026, 1, 12), date(2026, 6, 8))  # Mondays


def rules() -> dict[str, str]:
    data = yaml.safe_load((loader.DATA_DIR / "facilities.yml").read_text(encoding="utf-8"))
    return {code: item["opening_hours"] for code, item in data.items()}


@pytest.mark.parametrize("code", sorted(INTENDED))
def test_library_reading_equals_the_intended_week(code):
    for monday in WEEKS:
        read = [hours.rule_intervals(rules()[code], date.fromordinal(monday.toordinal() + i)) for i in range(7)]
        assert read == INTENDED[code], f"{code}, week of {monday}"


@pytest.mark.parametrize("code", sorted(rules()))
def test_no_rule_silently_loses_hours_written_earlier(code):
    assert hours.lost_hours(rules()[code], 2026) == []


def test_the_old_ccas_rule_is_reported_with_the_days_it_loses():
    lost = hours.lost_hours("Mo-Fr 09:00-12:00; Tu,Th 14:00-17:00; PH off", 2026)
    assert [(x.earlier, x.later, x.weekdays, x.lost) for x in lost] == [
        ("Mo-Fr 09:00-12:00", "Tu,Th 14:00-17:00", (1, 3), (MORNING,))]
    assert rule_words.lost_hours_text(lost[0]).startswith(
        "Le mardi et le jeudi, la règle « Tu,Th 14:00-17:00 » remplace la règle « Mo-Fr 09:00-12:00 » : "
        "les heures de 9 h à 12 h sont perdues ces jours-là.")


def test_seasons_and_special_days_in_french():
    reading = rule_words.describe_rule(rules()["decheterie"], 2026)
    assert [period for period, _ in reading["seasons"]] == ["de janvier à mars", "d'avril à septembre", "d'octobre à décembre"]
    assert reading["seasons"][1][1][0] == "lundi, mercredi, jeudi, vendredi et samedi : de 9 h à 12 h et de 14 h à 18 h 30"
    town_hall = rule_words.describe_rule(rules()["mairie"], 2026)
    assert town_hall["seasons"] == [("toute l'année", [
        "du lundi au vendredi : de 8 h 30 à 12 h et de 13 h 30 à 17 h 30", "samedi : de 9 h à 12 h", "dimanche : fermé"])]
    assert town_hall["special_days"][0].endswith("24 décembre : de 8 h 30 à 12 h")
