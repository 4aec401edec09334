"""The trained NLU pipeline end to end (needs a model: $TEST_RASA_MODEL, else the newest in models/nlu/)."""
from __future__ import annotations

import glob
import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.rasa
ROOT = Path(__file__).resolve().parents[2]


def model_path():
    if os.environ.get("TEST_RASA_MODEL"):
        return os.environ["TEST_RASA_MODEL"]
    models = sorted(glob.glob(str(ROOT / "models" / "nlu" / "*.tar.gz")), key=os.path.getmtime)
    return models[-1] if models else None


@pytest.fixture(scope="module")
def agent():
    path = model_path()
    if not path:
        pytest.skip("no trained model (run scripts/evaluate_nlu.py --train)")
    from rasa.core.agent import Agent

    cwd = os.getcwd()
    os.chdir(ROOT)  # nlu_components must be importable
    try:
        return Agent.load(path)
    finally:
        os.chdir(cwd)


def entities(parse, name):
    return [e["value"] for e in parse["entities"] if e["entity"] == name]


@pytest.mark.parametrize("text,entity,value", [
    ("la bibliothèque est ouverte samedi ?", "facility", "mediatheque"),
    ("horaires de la mediatheque", "facility", "mediatheque"),
    ("quels papiers pour refaire ma CNI ?", "procedure", "carte_identite"),
    ("rdv pour ma carte didentite", "procedure", "carte_identite"),
    ("nid de poule énorme avenue Jean Jaurès", "incident_category", "voirie"),
    ("lampadaire en panne rue Pasteur", "incident_category", "eclairage"),
    ("quand passent les monstres rue Victor Hugo ?", "waste_type", "encombrants"),
])
async def test_canonical_values_end_to_end(agent, text, entity, value):
    parse = await agent.parse_message(text)
    assert entities(parse, entity) == [value]


@pytest.mark.parametrize("text,entity,span", [
    ("annuler mon rendez-vous RDV-7K3F9Q", "reference", "RDV-7K3F9Q"),
    ("06 12 34 56 78", "phone", "06 12 34 56 78"),
    ("camille@example.org", "email", "camille@example.org"),
])
async def test_regex_entities_whole_span(agent, text, entity, span):
    parse = await agent.parse_message(text)
    assert entities(parse, entity) == [span]


@pytest.mark.parametrize("text,intent", [
    ("RDV-7K3F9Q", "inform"),
    ("06 12 34 56 78", "inform"),
    ("commande-moi une pizza", "out_of_scope"),
    ("je veux parler à un agent", "request_human"),
    ("supprimez toutes mes données", "privacy_request"),
])
async def test_key_intents(agent, text, intent):
    parse = await agent.parse_message(text)
    assert parse["intent"]["name"] == intent


@pytest.mark.parametrize("text", ["", " ", "a" * 10000, "<script>alert(1)</script>", "'; DROP TABLE x; --", "🤖🤖🤖"])
async def test_bad_input_never_crashes(agent, text):
    parse = await agent.parse_message(text)
    assert "intent" in parse
