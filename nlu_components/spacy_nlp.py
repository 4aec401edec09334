"""Rasa's SpacyNLP, loading the French model once per process and only the parts it uses.

Rasa 3.6's own SpacyNLP loads the spaCy model in every graph node that uses it (the model
provider and the message featurizer: twice per Rasa process, about 430 MB each for
``fr_core_news_md``), and it only *disables* the dependency parser, so the parser's weights
stay in memory and the named-entity recogniser runs on every message although no component
of config.yml reads spaCy's entities. This component is the same SpacyNLP (same class name,
which Rasa's SpacyTokenizer and SpacyFeaturizer look for) with two changes:

- ``exclude`` (config.yml, default ``[parser]``): spaCy pipes that are not loaded at all.
  Tokens, lemmas, tags and word vectors come from tok2vec, morphologizer, attribute_ruler
  and lemmatizer, so excluding ``parser`` and ``ner`` changes no feature
  (tests/nlu/test_spacy_nlp.py checks it); add SpacyEntityExtractor and ``ner`` must stay.
- one loaded model per (name, exclude) in the process, shared by every node.
"""
from __future__ import annotations

import threading
from typing import Any, Dict, Sequence, Text, Tuple

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.model import InvalidModelError
from rasa.nlu.utils import spacy_utils

_MODELS: Dict[Tuple[Text, Tuple[Text, ...]], spacy_utils.SpacyModel] = {}
_LOCK = threading.Lock()


def load_shared(name: Text, exclude: Sequence[Text]) -> spacy_utils.SpacyModel:
    """The spaCy model ``name`` without the ``exclude`` pipes, loaded once per process."""
    key = (name, tuple(sorted(set(exclude))))
    with _LOCK:
        model = _MODELS.get(key)
        if model is None:
            model = _load(name, key[1])
            _MODELS[key] = model
        return model


def _load(name: Text, exclude: Tuple[Text, ...]) -> spacy_utils.SpacyModel:
    import spacy

    if not name:
        raise InvalidModelError("SpacyNLP needs a model in config.yml, for example `model: fr_core_news_md`.")
    try:
        language = spacy.load(name, exclude=list(exclude))
    except OSError as error:
        raise InvalidModelError(
            f"The spaCy model {name} is not installed: scripts/setup.sh installs it from requirements/lock.txt."
        ) from error
    info = spacy.info(name)
    required = info.get("spacy_version") if isinstance(info, dict) else ""
    if required and not spacy.util.is_compatible_version(spacy.about.__version__, required):
        raise InvalidModelError(
            f"The spaCy model {name} requires spaCy {required}, not {spacy.about.__version__}."
        )
    return spacy_utils.SpacyModel(model=language, model_name=name)


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MODEL_LOADER, DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER],
    is_trainable=False,
    model_from="SpacyNLP",
)
class SpacyNLP(spacy_utils.SpacyNLP):
    """SpacyNLP with ``exclude`` and one shared model per process."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**spacy_utils.SpacyNLP.get_default_config(), "exclude": ["parser"]}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SpacyNLP":
        config = {**cls.get_default_config(), **config}
        model = load_shared(config.get("model"), config.get("exclude") or [])
        cls.ensure_proper_language_model(model.model)
        return cls(model, config)
