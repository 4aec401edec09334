"""The project's SpacyNLP: same tokens, lemmas, tags and vectors as Rasa's, one model per process."""
from __future__ import annotations

import numpy as np
import pytest

from nlu_components import spacy_nlp

TEXTS = [
    "la piscine est ouverte dimanche ?",
    "Bonjour, je souhaiterais prendre rendez-vous pour faire mon passeport",
    "il y a un nid de poule énorme avenue Jean Jaurès",
    "c koi les horaires de la mediatheque",
]


@pytest.fixture(scope="module")
def models():
    from rasa.nlu.utils.spacy_utils import SpacyNLP as RasaSpacyNLP

    return RasaSpacyNLP.load_model("fr_core_news_md").model, spacy_nlp.load_shared("fr_core_news_md", ["parser", "ner"]).model


@pytest.mark.parametrize("text", TEXTS)
def test_excluding_parser_and_ner_changes_no_feature(models, text):
    rasa_nlp, ours = models
    a, b = rasa_nlp(text), ours(text)
    assert [t.text for t in a] == [t.text for t in b]
    assert [t.lemma_ for t in a] == [t.lemma_ for t in b]
    assert [t.tag_ for t in a] == [t.tag_ for t in b]
    assert [t.pos_ for t in a] == [t.pos_ for t in b]
    assert np.array_equal(np.stack([t.vector for t in a]), np.stack([t.vector for t in b]))
    assert "ner" not in ours.pipe_names and "parser" not in ours.pipe_names


def test_the_model_is_loaded_once_per_process():
    first = spacy_nlp.load_shared("fr_core_news_md", ["ner", "parser"])
    assert spacy_nlp.load_shared("fr_core_news_md", ["parser", "ner"]) is first


def test_rasa_finds_it_where_it_looks_for_spacynlp():
    from rasa.engine.recipes.default_recipe import DefaultV1Recipe

    registered = DefaultV1Recipe._from_registry("nlu_components.spacy_nlp.SpacyNLP")
    assert registered.clazz is spacy_nlp.SpacyNLP
    assert spacy_nlp.SpacyNLP.__name__ == "SpacyNLP"  # SpacyTokenizer's model_from


def test_a_missing_model_is_a_clear_error():
    from rasa.nlu.model import InvalidModelError

    with pytest.raises(InvalidModelError, match="not installed"):
        spacy_nlp.load_shared("fr_core_news_xx", ["parser"])
