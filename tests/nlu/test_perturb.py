"""The CheckList-style perturbations of the held-out set (tests/nlu/perturb.py): deterministic,
each one changes the text, and entity offsets still point to the entity's text."""
from __future__ import annotations

import random
import unicodedata
from pathlib import Path

import pytest

from tests.nlu import perturb
from tests.nlu.perturb import Example, apply_edits

ROOT = Path(__file__).resolve().parents[2]
HELDOUT = ROOT / "tests" / "nlu" / "heldout.yml"
NAMES = list(perturb.PERTURBATIONS)
TYPOS = ("typo_swap", "typo_drop", "typo_double")


def folded(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text.lower()) if not unicodedata.combining(c))


@pytest.fixture(scope="module")
def examples():
    return perturb.load_examples(HELDOUT)


def span(example: Example, entity) -> str:
    return example.text[int(entity["start"]):int(entity["end"])]


def test_every_perturbation_of_the_issue_is_there():
    assert NAMES == ["typo_swap", "typo_drop", "typo_double", "no_accents", "sms", "upper_case",
                     "prefix_greeting", "suffix_politeness", "joined_requests"]


@pytest.mark.parametrize("name", NAMES)
def test_deterministic(examples, name):
    first = perturb.perturbed_set(examples, name)
    again = perturb.perturbed_set(list(examples), name)
    assert first == again
    # Independent of the global generator's state.
    random.seed(0)
    a = perturb.perturbed_set(examples[:60], name)
    random.seed(12345)
    assert perturb.perturbed_set(examples[:60], name) == a


@pytest.mark.parametrize("name", NAMES)
def test_each_perturbation_changes_the_text_and_applies_widely(examples, name):
    originals = {e.text for e in examples}
    copies = perturb.perturbed_set(examples, name)
    assert len(copies) >= 200, (name, len(copies))
    assert all(c.text not in originals for c in copies)
    for example in examples:  # whenever the perturbation applies, the text changes
        copy = perturb.perturb(example, name, examples)
        assert copy is None or copy.text != example.text, (name, example.text)


@pytest.mark.parametrize("name", NAMES)
def test_offsets_point_to_the_entity_text(examples, name):
    checked = 0
    for example in examples:
        copy = perturb.perturb(example, name, examples)
        if copy is None:
            continue
        if name == "joined_requests":
            assert copy.text.startswith(example.text.rstrip(" ?!.…"))
            assert copy.entities[:len(example.entities)] == example.entities
            continue
        assert len(copy.entities) == len(example.entities)
        for before, after in zip(example.entities, copy.entities):
            assert after["entity"] == before["entity"] and after["value"] == before["value"]
            old, new = span(example, before), span(copy, after)
            if name in ("no_accents", "upper_case"):
                assert folded(new) == folded(old), (example.text, copy.text)
            else:  # typos, SMS forms, greeting and politeness are made outside the entities
                assert new == old, (name, example.text, copy.text)
            checked += 1
    if name != "joined_requests":
        assert checked > 100


def test_joined_requests_keep_the_second_request_entities(examples):
    pool = examples
    example = next(e for e in examples if e.intent == "ask_opening_hours" and e.entities)
    copy = perturb.perturb(example, "joined_requests", pool)
    assert copy.intent == "ask_opening_hours"
    first = copy.text[:copy.entities[len(example.entities) - 1]["end"]]
    joiner = next(j for j in perturb.JOINERS if copy.text[len(first):].startswith(j))
    second = copy.text[len(first) + len(joiner):]
    partner = next(e for e in pool if e.text[1:] == second[1:] and e.intent in perturb.REQUEST_INTENTS)
    assert partner.intent != example.intent
    extra = copy.entities[len(example.entities):]
    assert [span(copy, e) for e in extra] == [span(partner, e) for e in partner.entities]


def test_typos_only_on_long_words_outside_entities():
    example = Example("la piscine ouvre mercredi", "ask_opening_hours",
                      ({"entity": "facility", "start": 3, "end": 10, "value": "piscine"},
                       {"entity": "date", "start": 17, "end": 25, "value": "mercredi"}))
    for name in TYPOS:
        copy = perturb.perturb(example, name)
        assert copy.text.startswith("la piscine ") and copy.text.endswith(" mercredi"), copy.text
        assert copy.text[copy.entities[1]["start"]:copy.entities[1]["end"]] == "mercredi"
        assert copy.text.split()[2] != "ouvre"
    assert perturb.perturb(Example("oui", "affirm"), "typo_swap") is None
    assert perturb.perturb(Example("aaaa", "out_of_scope"), "typo_swap") is None  # no two letters differ


def test_sms_forms():
    copy = perturb.perturb(Example("Bonjour, je voudrais un rendez-vous s'il vous plaît", "book_appointment"), "sms")
    assert copy.text == "bjr, jvoudrais un rdv svp"
    copy = perturb.perturb(Example("c'est quoi pour un passeport ? pourquoi ?", "ask_procedure",
                                   ({"entity": "procedure", "start": 19, "end": 28, "value": "passeport"},)), "sms")
    assert copy.text == "c koi pr un passeport ? pk ?"
    assert copy.text[copy.entities[0]["start"]:copy.entities[0]["end"]] == "passeport"
    assert perturb.perturb(Example("RDV-7K3F9Q", "inform"), "sms") is None


def test_greeting_and_politeness():
    example = Example("La piscine est ouverte demain ?", "ask_opening_hours",
                      ({"entity": "facility", "start": 3, "end": 10, "value": "piscine"},
                       {"entity": "date", "start": 23, "end": 29, "value": "demain"}))
    copy = perturb.perturb(example, "prefix_greeting")
    assert copy.text.endswith("la piscine est ouverte demain ?") and copy.text[0].isalpha()
    assert [span(copy, e) for e in copy.entities] == ["piscine", "demain"]
    copy = perturb.perturb(example, "suffix_politeness")
    assert copy.text.startswith("La piscine est ouverte demain ") and copy.text.endswith(" ?")
    assert [span(copy, e) for e in copy.entities] == ["piscine", "demain"]
    # An acronym keeps its capitals; a greeting is not put before a greeting or a yes.
    copy = perturb.perturb(Example("CCAS horaires", "ask_opening_hours"), "prefix_greeting")
    assert copy.text.endswith(", CCAS horaires")
    assert perturb.perturb(Example("oui", "affirm"), "prefix_greeting") is None
    assert perturb.perturb(Example("Bonjour, horaires mairie", "ask_opening_hours"), "prefix_greeting") is None


def test_no_accents_and_upper_case_keep_lengths():
    example = Example("où est la médiathèque ?", "ask_address",
                      ({"entity": "facility", "start": 10, "end": 21, "value": "médiathèque"},))
    copy = perturb.perturb(example, "no_accents")
    assert copy.text == "ou est la mediatheque ?" and span(copy, copy.entities[0]) == "mediatheque"
    copy = perturb.perturb(example, "upper_case")
    assert copy.text == "OÙ EST LA MÉDIATHÈQUE ?" and span(copy, copy.entities[0]) == "MÉDIATHÈQUE"
    assert perturb.perturb(Example("sans accent", "inform"), "no_accents") is None


def test_apply_edits_moves_offsets_and_refuses_a_crossing_edit():
    example = Example("rdv rue Pasteur demain", "book_appointment",
                      ({"entity": "address", "start": 4, "end": 15, "value": "rue Pasteur"},))
    moved = apply_edits(example, [(0, 3, "rendez-vous"), (15, 15, " svp")])
    assert moved.text == "rendez-vous rue Pasteur svp demain"
    assert span(moved, moved.entities[0]) == "rue Pasteur"
    inside = apply_edits(example, [(8, 15, "Pasteurr")])
    assert span(inside, inside.entities[0]) == "rue Pasteurr"
    with pytest.raises(ValueError):
        apply_edits(example, [(2, 6, "x")])
