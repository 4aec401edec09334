"""One list of canonical codes (townhall/codes.py): what derives from it, and what is checked against it."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from townhall import codes
from townhall.booking.motifs import PROCEDURE_WORDS
from townhall.incidents.models import CATEGORIES
from townhall.knowledge.models import FACILITY_CODES, PROCEDURE_CODES, WASTE_TYPES

ROOT = Path(__file__).resolve().parents[2]
PAYLOAD = re.compile(r'/inform\{\{?"(\w+)"\s*:\s*"(\w+)"\}\}?')


def _contract() -> Path | None:
    """shared/CONTRACT.md beside the checkout (main) or beside the folder of worktrees."""
    for folder in (ROOT.parent, ROOT.parent.parent):
        path = folder / "shared" / "CONTRACT.md"
        if path.is_file():
            return path
    return None


def _yaml(name: str):
    return yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))


def test_every_kind_has_french_labels():
    assert set(codes.BY_KIND) == {"facility", "procedure", "incident_category", "waste_type"}
    for kind, mapping in codes.BY_KIND.items():
        assert mapping, kind
        for code, label in mapping.items():
            assert re.fullmatch(r"[a-z]+(_[a-z]+)*", code), code
            assert label and label[0].isupper(), (kind, code, label)
    assert codes.label("incident_category", "depot_sauvage") == "Dépôt sauvage"
    assert codes.label("facility", "inconnu") == "inconnu"
    assert codes.label("facility", None) == ""
    assert codes.codes("waste_type")[0] == "ordures_menageres"
    assert codes.is_code("procedure", "pacs") and not codes.is_code("procedure", "Pacs")


def test_core_constants_derive_from_the_codes():
    assert FACILITY_CODES == tuple(codes.FACILITIES)
    assert PROCEDURE_CODES == tuple(codes.PROCEDURES)
    assert WASTE_TYPES == tuple(codes.WASTE_TYPES)
    assert CATEGORIES == tuple(codes.INCIDENT_CATEGORIES)
    assert set(PROCEDURE_WORDS) <= set(codes.PROCEDURES)


def test_contract_values_are_all_codes():
    path = _contract()
    if path is None:
        pytest.skip("shared/CONTRACT.md is not beside this checkout")
    text = path.read_text(encoding="utf-8")
    section = text.split("## 2.", 1)[1].split("\n## ", 1)[0]
    found = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0] in codes.BY_KIND:
            found[cells[0]] = [v.strip() for v in cells[1].split(",")]
    assert set(found) == set(codes.BY_KIND)
    for kind, values in found.items():
        assert set(values) <= set(codes.BY_KIND[kind]), (kind, set(values) - set(codes.BY_KIND[kind]))


def test_domain_slot_values_and_buttons_use_the_codes():
    categorical = {}
    for path in sorted((ROOT / "domain").glob("*.yml")):
        domain = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, slot in (domain.get("slots") or {}).items():
            if name in codes.BY_KIND and slot.get("type") == "categorical":
                categorical[name] = slot["values"]
        for payload_kind, value in PAYLOAD.findall(path.read_text(encoding="utf-8")):
            if payload_kind in codes.BY_KIND:
                assert value in codes.BY_KIND[payload_kind], (path.name, payload_kind, value)
    assert {"facility", "procedure", "waste_type"} <= set(categorical)
    for name, values in categorical.items():
        assert values == list(codes.BY_KIND[name]), name


def test_commune_data_uses_the_codes():
    assert list(_yaml("commune_data/facilities.yml")) == list(codes.FACILITIES)
    assert set(_yaml("commune_data/procedures.yml")) == set(codes.PROCEDURES)
    services = [s["code"] for s in _yaml("commune_data/incident_services.yml")["services"]]
    assert set(services) == set(codes.INCIDENT_CATEGORIES)
    for sector, by_type in _yaml("commune_data/waste.yml").items():
        assert set(by_type) <= set(codes.WASTE_TYPES), sector
    booking = _yaml("commune_data/booking.yml")
    assert {m["code"] for m in booking["motifs"]} <= set(codes.PROCEDURES)
    assert {p["facility"] for p in booking["places"] if p.get("facility")} <= set(codes.FACILITIES)
    for name in ("alerts.yml", "closures.yml"):
        for item in _yaml(f"commune_data/{name}") or []:
            if isinstance(item, dict) and item.get("facility"):
                assert item["facility"] in codes.FACILITIES, (name, item)
