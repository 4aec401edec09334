"""NLU training data, held-out set, canonical entity mapping and evaluation figures (no trained model needed)."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
import yaml
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message

from nlu_components.canonical import CANONICAL, CanonicalEntityMapper, fold_aligned
from scripts.evaluate_nlu import (evaluate, evaluate_emergencies, evaluate_perturbed, load_test_set, load_training_nlu,
                                  normalise_span)
from tests.nlu import perturb

ROOT = Path(__file__).resolve().parents[2]
HELDOUT = ROOT / "tests" / "nlu" / "heldout.yml"
INTENTS = [i for i in yaml.safe_load((ROOT / "domain" / "nlu.yml").read_text())["intents"]]


def plain(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


def folded(text: str) -> str:
    """Lower case, no accents, punctuation as spaces ("Où est-ce ?" = "ou est ce"); emoji kept."""
    text = "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))
    text = re.sub(r"[!-/:-@\[-`{-~\u2018-\u201f\u00ab\u00bb\u2026]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


# Open slot values of the held-out set: ANTS pre-application numbers (10 letters or digits with
# at least one digit and one letter) and RDV-/SIG- references, whatever the case and the dash.
OPEN_VALUE = re.compile(r"(?<![A-Za-z0-9])(?:(?=[A-Za-z]*[0-9])(?=[0-9]*[A-Za-z])[A-Za-z0-9]{10}"
                        r"|(?:rdv|sig)[\s\-]?[a-z2-9]{6})(?![A-Za-z0-9])", re.IGNORECASE)


def open_values(text: str) -> set:
    return {re.sub(r"[\s\-]", "", v).upper() for v in OPEN_VALUE.findall(text)}


@pytest.fixture(scope="module")
def training_data():
    return load_training_nlu()


@pytest.fixture(scope="module")
def heldout():
    return load_data(str(HELDOUT))


@pytest.fixture(scope="module")
def mapper(training_data, tmp_path_factory):
    storage = LocalModelStorage(tmp_path_factory.mktemp("canonical"))
    resource = Resource("canonical_mapper")
    component = CanonicalEntityMapper.create({}, storage, resource, None)
    component.train(training_data)
    # Loaded back from storage as Rasa does at inference time.
    return CanonicalEntityMapper.load({}, storage, resource, None)


def test_heldout_never_in_training_data(training_data, heldout):
    trained = {plain(m.get("text")) for m in training_data.training_examples}
    leaked = [m.get("text") for m in heldout.intent_examples if plain(m.get("text")) in trained]
    assert leaked == []


def test_heldout_never_in_training_data_case_and_accents_folded(training_data, heldout):
    trained = {folded(m.get("text")) for m in training_data.training_examples}
    leaked = [m.get("text") for m in heldout.intent_examples if folded(m.get("text")) in trained]
    assert leaked == []
    assert folded("Où est la Médiathèque ?") == folded("ou est la mediatheque") != folded("🤔")


def test_heldout_has_620_distinct_messages(heldout):
    texts = [folded(m.get("text")) for m in heldout.intent_examples]
    assert len(texts) >= 620
    assert [t for t, k in Counter(texts).items() if k > 1] == []


def test_heldout_codes_and_references_never_seen_in_training(training_data, heldout):
    trained = set().union(*(open_values(m.get("text")) for m in training_data.training_examples))
    held = set().union(*(open_values(m.get("text")) for m in heldout.intent_examples))
    assert len(held) >= 30
    assert held & trained == set()


def test_heldout_covers_every_intent_with_ten_messages(heldout):
    counts = Counter(m.get("intent") for m in heldout.intent_examples)
    assert set(counts) == set(INTENTS)
    assert min(counts.values()) >= 10, counts


def test_training_data_covers_every_intent(training_data):
    counts = Counter(m.get("intent") for m in training_data.intent_examples)
    assert set(INTENTS) <= set(counts)
    assert counts["out_of_scope"] >= 100
    assert min(counts[i] for i in INTENTS) >= 40, counts


def test_heldout_canonical_annotations_resolve():
    for example in load_test_set(HELDOUT):
        for name, value in example["entities"]:
            if name in CANONICAL:
                assert value in CANONICAL[name], (example["text"], name, value)


def test_training_annotations_and_synonyms_resolve_to_codes(training_data):
    """Every categorical value of the training data is a code of townhall/codes.py, directly or by a synonym."""
    synonyms = training_data.entity_synonyms
    for example in training_data.entity_examples:
        for ent in example.get("entities") or []:
            if ent["entity"] in CANONICAL:
                value = str(ent["value"])
                assert synonyms.get(value, value) in CANONICAL[ent["entity"]], (example.get("text"), ent)
    targets = set(synonyms.values())
    codes_of_any_kind = {v for values in CANONICAL.values() for v in values}
    stray = {t for t in targets if re.fullmatch(r"[a-z]+(_[a-z]+)+", t)} - codes_of_any_kind
    assert not stray, f"synonyms leading to unknown codes: {sorted(stray)}"


def test_every_canonical_value_has_synonyms(training_data):
    targets = Counter(training_data.entity_synonyms.values())
    for entity, values in CANONICAL.items():
        for value in values:
            assert targets[value] >= 3, f"{entity}={value} has few synonyms"


@pytest.mark.parametrize("entity,text,expected", [
    ("facility", "bibliothèque", "mediatheque"),
    ("facility", "mediatheque", "mediatheque"),
    ("facility", "la médiath", "mediatheque"),
    ("facility", "biblio", "mediatheque"),
    ("facility", "Médiatéque", "mediatheque"),
    ("facility", "bibliotheqe", "mediatheque"),
    ("facility", "la DECHETTERIE", "decheterie"),
    ("facility", "piscine municipale de la ville", "piscine"),
    ("facility", "Police Municipale", "police_municipale"),
    ("facility", "services techniques", "services_techniques"),
    ("facility", "hotel de ville", "mairie"),
    ("procedure", "carte d'identité", "carte_identite"),
    ("procedure", "CNI", "carte_identite"),
    ("procedure", "carte didentite", "carte_identite"),
    ("procedure", "carte d’identité", "carte_identite"),
    ("procedure", "pasport", "passeport"),
    ("procedure", "acte de naissance", "acte_naissance"),
    ("procedure", "listes électorales", "inscription_electorale"),
    ("procedure", "pacs", "pacs"),
    ("incident_category", "nid de poule", "voirie"),
    ("incident_category", "nid-de-poule", "voirie"),
    ("incident_category", "trou dans la route", "voirie"),
    ("incident_category", "lampadaire en panne", "eclairage"),
    ("incident_category", "lampadere", "eclairage"),
    ("incident_category", "fuite d'eau", "eau"),
    ("incident_category", "tags", "graffiti"),
    ("waste_type", "encombrants", "encombrants"),
    ("waste_type", "monstres", "encombrants"),
    ("waste_type", "bac jaune", "recyclables"),
    ("waste_type", "déchets verts", "dechets_verts"),
    ("waste_type", "poubelles", "ordures_menageres"),
])
def test_canonical_value(mapper, entity, text, expected):
    assert mapper.canonical(entity, text) == expected


def test_unknown_text_maps_to_nothing(mapper):
    assert mapper.canonical("facility", "boulangerie") is None
    assert mapper.canonical("waste_type", "xyz") is None


def message(text, intent, entities=(), confidence=0.9):
    msg = Message(data={"text": text, "intent": {"name": intent, "confidence": confidence},
                        "intent_ranking": [{"name": intent, "confidence": confidence},
                                           {"name": "greet", "confidence": 1 - confidence}]})
    msg.set("entities", list(entities))
    return msg


def test_diet_entity_is_mapped_and_unknown_one_dropped(mapper):
    text = "horaires de la médiathèque et de la boulangerie"
    ents = [{"entity": "facility", "start": 15, "end": 26, "value": "médiathèque", "extractor": "DIETClassifier"},
            {"entity": "facility", "start": 36, "end": 47, "value": "boulangerie", "extractor": "DIETClassifier"}]
    [msg] = mapper.process([message(text, "ask_opening_hours", ents)])
    assert [(e["entity"], e["value"]) for e in msg.get("entities")] == [("facility", "mediatheque")]


def test_gazetteer_adds_missed_entity_with_typo(mapper):
    [msg] = mapper.process([message("c'est ouvert la piscinne dimanche ?", "ask_opening_hours")])
    [ent] = msg.get("entities")
    assert (ent["entity"], ent["value"]) == ("facility", "piscine")
    assert msg.get("text")[ent["start"]:ent["end"]] == "piscinne"


def test_gazetteer_only_where_the_entity_matters(mapper):
    [msg] = mapper.process([message("je veux boire un verre avec Marie à la piscine", "out_of_scope")])
    assert msg.get("entities") == []


def test_duplicates_keep_the_regex_span(mapper):
    text = "mon numéro 06 12 34 56 78"
    ents = [{"entity": "phone", "start": 11, "end": 19, "value": "06 12 34", "extractor": "DIETClassifier"},
            {"entity": "phone", "start": 11, "end": 25, "value": "06 12 34 56 78", "extractor": "RegexEntityExtractor"}]
    [msg] = mapper.process([message(text, "inform", ents)])
    assert [e["value"] for e in msg.get("entities")] == ["06 12 34 56 78"]


def test_folding_keeps_offsets():
    text = "Médiathèque œuvre à côté"
    assert len(fold_aligned(text)) == len(text)


def regexes():
    data = yaml.safe_load((ROOT / "data" / "nlu" / "entities" / "patterns.yml").read_text())
    return {b["regex"]: re.compile(b["examples"].strip()[2:], re.IGNORECASE) for b in data["nlu"] if "regex" in b}


@pytest.mark.parametrize("name,text,span", [
    ("reference", "annuler RDV-7K3F9Q svp", "RDV-7K3F9Q"),
    ("reference", "ma ref rdv 7k3f9q", "rdv 7k3f9q"),
    ("reference", "sig4hx2pl", "sig4hx2pl"),
    ("reference", "SIG-4HX2PL ?", "SIG-4HX2PL"),
    ("email", "c'est camille@example.org merci", "camille@example.org"),
    ("email", "j.dupont+mairie@orange.fr", "j.dupont+mairie@orange.fr"),
    ("phone", "06 12 34 56 78", "06 12 34 56 78"),
    ("phone", "tel 0612345678.", "0612345678"),
    ("phone", "+33 6 12 34 56 78", "+33 6 12 34 56 78"),
    ("phone", "+33612345678", "+33612345678"),
    ("phone", "01.23.45.67.89", "01.23.45.67.89"),
])
def test_regexes_match_whole_span(name, text, span):
    match = regexes()[name].search(text)
    assert match and match.group(0) == span


@pytest.mark.parametrize("name,text", [
    ("reference", "rdv demain"), ("reference", "RDV-7K3F9"), ("reference", "RDV-7K3F9O"),
    ("phone", "le 12 décembre 2025"), ("phone", "123"), ("email", "chez moi @ la maison"),
])
def test_regexes_reject(name, text):
    assert not regexes()[name].search(text)


def test_evaluation_figures_on_fake_predictions():
    examples = [
        {"text": "a", "intent": "greet", "entities": []},
        {"text": "b", "intent": "out_of_scope", "entities": []},
        {"text": "c", "intent": "ask_address", "entities": [("facility", "piscine")]},
        {"text": "d", "intent": "inform", "entities": [("date", "demain")]},
    ]
    parses = [
        {"text": "a", "intent": {"name": "greet"}, "entities": []},
        {"text": "b", "intent": {"name": "nlu_fallback"}, "entities": []},
        {"text": "c", "intent": {"name": "ask_address"},
         "entities": [{"entity": "facility", "value": "piscine", "start": 0, "end": 1}]},
        {"text": "d", "intent": {"name": "inform"}, "entities": [{"entity": "date", "start": 0, "end": 1}]},
    ]
    report = evaluate(examples, parses)
    assert report["intent_accuracy"] == 0.75
    assert report["oos_recall"] == 0.0
    assert report["canonical_entity_f1"] == 1.0
    assert report["entity_f1"]["date"] == 0.0  # predicted span "d" is not "demain"
    assert report["confusions"] == [["out_of_scope", "nlu_fallback", 1]]


def test_span_normalisation():
    assert normalise_span("  Rue  Victor   Hugo ") == "rue victor hugo"
    assert normalise_span("du 24") == normalise_span("le 24") == "24"


def test_in_scope_messages_taken_for_out_of_scope():
    examples = [{"text": t, "intent": i, "entities": []} for t, i in
                [("a", "ask_alerts"), ("b", "ask_procedure"), ("c", "inform"), ("d", "greet"), ("e", "out_of_scope")]]
    predicted = ["out_of_scope", "nlu_fallback", "inform", "greet", "ask_alerts"]
    report = evaluate(examples, [{"text": e["text"], "intent": {"name": p}, "entities": []}
                                 for e, p in zip(examples, predicted)])
    assert report["in_scope_as_oos_rate"] == 0.5  # 2 of the 4 in-scope messages
    assert report["oos_recall"] == 0.0


def test_perturbed_table_on_fake_predictions():
    # A fake NLU that is right on every perturbed message except the joined requests:
    # accuracy 1 everywhere, 0 on joined_requests.
    examples = perturb.load_examples(HELDOUT)
    joined = {copy.text for copy in perturb.perturbed_set(examples, "joined_requests")}
    by_text = {}
    for name in perturb.PERTURBATIONS:
        for copy in perturb.perturbed_set(examples, name):
            by_text[copy.text] = "wrong" if copy.text in joined else copy.intent

    def fake(texts):
        assert len(texts) == len(set(texts))  # each distinct text is parsed once
        return [{"text": t, "intent": {"name": by_text[t]}, "entities": []} for t in texts]

    table = evaluate_perturbed(fake, HELDOUT, clean_accuracy=0.95)
    assert list(table) == list(perturb.PERTURBATIONS)
    for name, row in table.items():
        assert row["n"] == len(perturb.perturbed_set(examples, name)) > 0
        expected = 0.0 if name == "joined_requests" else 1.0
        assert row["intent_accuracy"] == expected
        assert row["gap_points"] == round(100 * (0.95 - expected), 1)


def test_emergency_figures(tmp_path):
    assert evaluate_emergencies(tmp_path / "absent.yml") is None
    path = tmp_path / "emergencies.yml"
    path.write_text("emergencies:\n  - il y a le feu dans mon immeuble\n  - ça sent très fort le gaz dans la cage d'escalier\n"
                    "ordinary:\n  - un lampadaire est en panne rue Pasteur\n  - le feu rouge est en panne\n", encoding="utf-8")
    result = evaluate_emergencies(path)
    assert result["emergency_recall"] == 1.0 and result["n_emergencies"] == 2
    assert result["emergency_false_alarms"] == 0.0 and result["n_ordinary"] == 2


@pytest.mark.parametrize("text,start,end,entity", [
    ("RDV-7K3F9Q", 0, 10, "reference"),
    ("c'est sig 4hx2pl", 6, 16, "reference"),
    ("mon numéro : 06 12 34 56 78", 13, 27, "phone"),
])
def test_bare_answer_is_inform(mapper, text, start, end, entity):
    ents = [{"entity": entity, "start": start, "end": end, "value": text[start:end], "extractor": "RegexEntityExtractor"}]
    [msg] = mapper.process([message(text, "out_of_scope", ents)])
    assert msg.get("intent")["name"] == "inform"
    ranking = msg.get("intent_ranking")
    assert ranking[0]["name"] == "inform" and ranking[1]["confidence"] < 0.1


def test_bare_answer_raises_a_weak_inform(mapper):
    ents = [{"entity": "reference", "start": 0, "end": 10, "value": "RDV-7K3F9Q", "extractor": "RegexEntityExtractor"}]
    [msg] = mapper.process([message("RDV-7K3F9Q", "inform", ents, confidence=0.2)])
    assert msg.get("intent")["confidence"] >= 0.9


def test_reference_inside_a_sentence_keeps_its_intent(mapper):
    text = "annuler RDV-7K3F9Q"
    ents = [{"entity": "reference", "start": 8, "end": 18, "value": "RDV-7K3F9Q", "extractor": "RegexEntityExtractor"}]
    [msg] = mapper.process([message(text, "cancel_appointment", ents)])
    assert msg.get("intent")["name"] == "cancel_appointment"


def test_short_diet_span_is_extended_to_the_known_variant(mapper):
    text = "comment avoir un extrait d'acte de décès"
    start = text.index("extrait")
    ents = [{"entity": "procedure", "start": start, "end": start + len("extrait d'acte"), "value": "extrait d'acte",
             "extractor": "DIETClassifier"}]
    [msg] = mapper.process([message(text, "ask_procedure", ents)])
    [ent] = msg.get("entities")
    assert ent["value"] == "acte_deces" and text[ent["start"]:ent["end"]] == "extrait d'acte de décès"
