"""Spelling normaliser: a typed word the training data never saw is read as its closest known word.

Citizens write "horraires", "pisicne", "rendez vous", "mediatheque": the count-vector features
(which read each token's lemma, CountVectorsFeaturizer ``use_lemma``) then see an unknown word
and the message loses its strongest clue. Placed after the tokenizer and before the
featurizers, this component learns the vocabulary of the training examples (word -> its spaCy
lemma, the most frequent first) and, for a token outside it, sets the token's lemma to the
lemma of:

1. the known word with the same letters once accents and case are folded ("bibliotheque"), else
2. the closest known word by Damerau-Levenshtein distance (rapidfuzz): one edit for words of 4 to 7
   letters, two from 8 letters on; ties go to the most frequent word.

The token's text is left as typed (entity spans, regexes and the stored message do not change);
tokens with digits, very short words and words already known are left alone. Deterministic:
the vocabulary is sorted by frequency, then alphabetically.
"""
from __future__ import annotations

import json
import logging
import unicodedata
from collections import Counter, defaultdict
from typing import Any, Dict, List, Optional, Text

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)


def _fold(word: str) -> str:
    word = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in word if not unicodedata.combining(c))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class SpellingNormaliser(GraphComponent):
    FILENAME = "spelling_vocabulary.json"

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"min_length": 4, "long_word": 8}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 vocabulary: Optional[Dict[str, str]] = None) -> None:
        self._config = {**self.get_default_config(), **(config or {})}
        self._model_storage = model_storage
        self._resource = resource
        self._set_vocabulary(vocabulary or {})

    def _set_vocabulary(self, vocabulary: Dict[str, str]) -> None:
        self.vocabulary = vocabulary  # word as typed in training (lower case) -> lemma; ordered by frequency
        self._words = list(vocabulary)
        self._folded: Dict[str, str] = {}
        for word in self._words:
            self._folded.setdefault(_fold(word), word)
        self._folded_words = list(self._folded)

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "SpellingNormaliser":
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "SpellingNormaliser":
        vocabulary = None
        try:
            with model_storage.read_from(resource) as directory:
                vocabulary = json.loads((directory / cls.FILENAME).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError, OSError):
            logger.warning("No stored vocabulary for %s: words are left as typed.", cls.__name__)
        return cls(config, model_storage, resource, vocabulary)

    def train(self, training_data: TrainingData) -> Resource:
        counts: Counter = Counter()
        lemmas: Dict[str, Counter] = defaultdict(Counter)
        for example in training_data.training_examples:
            for token in example.get(TOKENS_NAMES[TEXT]) or []:
                word = token.text.lower()
                if word.isalpha():
                    counts[word] += 1
                    lemmas[word][(token.lemma or word).lower()] += 1
        ordered = sorted(counts, key=lambda word: (-counts[word], word))
        vocabulary = {word: sorted(lemmas[word].items(), key=lambda item: (-item[1], item[0]))[0][0] for word in ordered}
        self._set_vocabulary(vocabulary)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / self.FILENAME).write_text(json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8")
        return self._resource

    def correction(self, word: str) -> Optional[str]:
        """The known word ``word`` stands for, or None (known already, too short, or nothing close)."""
        lowered = word.lower()
        if lowered in self.vocabulary or len(lowered) < self._config["min_length"] or not lowered.isalpha():
            return None
        folded = _fold(lowered)
        if folded in self._folded:
            return self._folded[folded]
        limit = 2 if len(lowered) >= self._config["long_word"] else 1
        best = process.extractOne(folded, self._folded_words, scorer=DamerauLevenshtein.distance, score_cutoff=limit)
        return self._folded[best[0]] if best else None

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data  # every training word is known

    def process(self, messages: List[Message]) -> List[Message]:
        if not self.vocabulary:
            return messages
        for message in messages:
            for token in message.get(TOKENS_NAMES[TEXT]) or []:
                known = self.correction(token.text)
                if known is not None:
                    token.lemma = self.vocabulary[known]
        return messages
