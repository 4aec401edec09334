"""The spelling normaliser reads unknown words as their closest training word (lemma only)."""
from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu_components.spelling import SpellingNormaliser

TRAINING = ["quels sont les horaires de la piscine", "la médiathèque est ouverte", "je voudrais un rendez-vous",
            "horaires de la mairie"]


@pytest.fixture
def components(tmp_path):
    storage, context = LocalModelStorage(tmp_path), ExecutionContext(GraphSchema({}), "test")
    tokenizer = WhitespaceTokenizer.create(WhitespaceTokenizer.get_default_config(), storage, Resource("tok"), context)
    data = TrainingData([Message(data={TEXT: text, "intent": "x"}) for text in TRAINING])
    tokenizer.process_training_data(data)
    resource = Resource("spelling")
    SpellingNormaliser.create({}, storage, resource, context).train(data)
    return tokenizer, SpellingNormaliser.load({}, storage, resource, context)


def lemmas(components, text):
    tokenizer, speller = components
    message = Message(data={TEXT: text})
    tokenizer.process([message])
    speller.process([message])
    return [(token.text, token.lemma) for token in message.get(TOKENS_NAMES[TEXT])]


def test_typos_and_missing_accents_read_as_known_words(components):
    assert lemmas(components, "horraires pisicne mediatheque") == [
        ("horraires", "horaires"), ("pisicne", "piscine"), ("mediatheque", "médiathèque")]


def test_known_short_and_numeric_words_are_left_alone(components):
    assert lemmas(components, "la mairie 12h RDV42 zzz") == [
        ("la", "la"), ("mairie", "mairie"), ("12h", "12h"), ("RDV42", "RDV42"), ("zzz", "zzz")]


def test_words_far_from_every_known_word_are_left_alone(components):
    assert lemmas(components, "tronçonneuse") == [("tronçonneuse", "tronçonneuse")]
