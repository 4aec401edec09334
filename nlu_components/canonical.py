"""Canonical values for the categorical entities (facility, procedure, incident_category, waste_type).

Citizens write "bibliothèque", "la médiath", "mediateque" or "biblio": the dialogue needs
``mediatheque``. This component runs after DIET and the synonym mapper and:

1. maps the text of every categorical entity to its canonical value, per entity type, with
   accent/case folding, article stripping, known-variant containment and fuzzy matching
   (rapidfuzz); an entity whose text maps to nothing known is dropped (never a value the
   dialogue does not know);
2. acts as a gazetteer: when DIET found no entity of a type but the message holds a known
   variant (or a close typo of a long one) and the intent is one where that type matters,
   it adds the entity;
3. removes duplicates (DIET and RegexEntityExtractor both finding a phone, an e-mail or a
   reference), keeping the regex span, which is complete by construction.

The vocabulary is learnt from the training data (synonyms and annotated examples), so new
synonyms or reviewed examples extend it without code changes.
"""
from __future__ import annotations

import json
import logging
import re
import unicodedata
from typing import Any, Dict, List, Optional, Text, Tuple

from rapidfuzz import fuzz, process
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from townhall import codes

logger = logging.getLogger(__name__)

# The canonical values of each categorical entity (shared/CONTRACT.md section 2).
CANONICAL: Dict[str, List[str]] = {entity: list(values) for entity, values in codes.BY_KIND.items()}

# Intents where a categorical entity found only by the gazetteer is worth adding.
GAZETTEER_INTENTS: Dict[str, List[str]] = {
    "facility": ["ask_opening_hours", "ask_address", "ask_contact", "inform"],
    "procedure": ["ask_procedure", "book_appointment", "inform", "cancel_appointment",
                  "reschedule_appointment"],
    "incident_category": ["report_incident", "inform"],
    "waste_type": ["ask_waste_collection", "inform"],
}

# Variants too ambiguous to be trusted without DIET (first names, everyday words).
GAZETTEER_EXCLUDE = {
    "marie", "maire", "mairi", "police", "la police", "trou", "borne", "eau", "papiers", "bassin",
    "recenser", "marier", "fissure", "dechet", "passage pieton", "passe", "recyclage", "decharge", "tri",
    "racines", "pelouse", "barriere", "feu rouge", "pacse", "pacser", "fuite",
}

# Everyday words that DIET sometimes tags alone: never map them through prefixes or typos.
GENERIC_WORDS = {"panne", "en panne", "casse", "cassee", "abime", "abimee", "bouche", "deborde", "sale",
                 "mari", "pass", "carte", "acte", "extrait", "copie", "service", "centre", "rue", "place"}

ARTICLES = {"le", "la", "les", "l", "un", "une", "des", "du", "de", "d", "au", "aux", "mon", "ma", "mes",
            "votre", "vos", "notre", "nos", "ce", "cette", "a", "pour", "en"}

FREE_TEXT_REGEX_ENTITIES = {"reference", "email", "phone", "ants_number"}

# Words that may surround a bare answer ("c'est RDV-7K3F9Q", "mon numéro : 06 ...").
BARE_FILLERS = {"c", "est", "ce", "voici", "voila", "mon", "ma", "le", "la", "l", "numero", "num", "tel",
                "telephone", "mail", "email", "e", "adresse", "ref", "reference", "de", "du", "portable",
                "merci", "svp", "stp", "oui", "et", "moi", "mes", "mon"}


def fold_char(char: str) -> str:
    """One character folded (lowercase, no accent, non-alphanumeric -> space), length kept."""
    low = char.lower()
    decomposed = "".join(c for c in unicodedata.normalize("NFD", low) if not unicodedata.combining(c))
    if len(decomposed) != 1:
        decomposed = low if len(low) == 1 else " "
    return decomposed if decomposed.isalnum() else " "


def fold_aligned(text: str) -> str:
    """``text`` folded character by character: index i of the result is index i of ``text``."""
    return "".join(fold_char(c) for c in text)


def fold(text: str) -> str:
    return re.sub(r"\s+", " ", fold_aligned(text)).strip()


def strip_articles(folded: str) -> str:
    words = folded.split()
    while len(words) > 1 and words[0] in ARTICLES:
        words = words[1:]
    return " ".join(words)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class CanonicalEntityMapper(GraphComponent, EntityExtractorMixin):
    """Turns categorical entities into canonical values, finds missed ones, removes duplicates."""

    FILENAME = "canonical_vocabulary.json"

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "fuzzy_threshold": 84,
            "gazetteer": True,
            "gazetteer_fuzzy_threshold": 88,
            "gazetteer_intents": GAZETTEER_INTENTS,
            # A message made only of a reference, an e-mail or a phone number is a bare answer.
            "bare_answer_entities": ["reference", "email", "phone"],
            "bare_answer_intent": "inform",
        }

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 vocabulary: Optional[Dict[str, Dict[str, str]]] = None) -> None:
        self._config = {**self.get_default_config(), **(config or {})}
        self._model_storage = model_storage
        self._resource = resource
        self.vocabulary: Dict[str, Dict[str, str]] = {e: {} for e in CANONICAL}
        for entity, values in CANONICAL.items():
            for value in values:
                self.vocabulary[entity][fold(value.replace("_", " "))] = value
        for entity, mapping in (vocabulary or {}).items():
            self.vocabulary.setdefault(entity, {}).update(mapping)
        self._compile()

    # -- Rasa graph API -------------------------------------------------------------------
    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "CanonicalEntityMapper":
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "CanonicalEntityMapper":
        vocabulary = None
        try:
            with model_storage.read_from(resource) as directory:
                vocabulary = json.loads((directory / cls.FILENAME).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError, OSError):
            logger.debug("No stored vocabulary for %s: using canonical values only.", cls.__name__)
        return cls(config, model_storage, resource, vocabulary)

    def train(self, training_data: TrainingData) -> Resource:
        value_type = {v: e for e, values in CANONICAL.items() for v in values}
        for text, value in training_data.entity_synonyms.items():
            entity = value_type.get(str(value))
            if entity:
                self._learn(entity, text, str(value))
        for example in training_data.entity_examples:
            for ent in example.get(ENTITIES, []):
                entity, value = ent.get("entity"), str(ent.get("value"))
                if entity in CANONICAL and value in CANONICAL[entity]:
                    self._learn(entity, example.get(TEXT)[ent["start"]:ent["end"]], value)
        self._compile()
        with self._model_storage.write_to(self._resource) as directory:
            (directory / self.FILENAME).write_text(json.dumps(self.vocabulary, ensure_ascii=False),
                                                   encoding="utf-8")
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self.process_message(message)
        return messages

    # -- mapping --------------------------------------------------------------------------
    def _learn(self, entity: str, text: str, value: str) -> None:
        key = fold(text)
        if key:
            self.vocabulary[entity].setdefault(key, value)
            bare = strip_articles(key)
            if bare:
                self.vocabulary[entity].setdefault(bare, value)

    def _compile(self) -> None:
        self._keys = {e: list(m) for e, m in self.vocabulary.items()}
        self._gazetteer: Dict[str, List[Tuple[re.Pattern, str]]] = {}
        for entity, mapping in self.vocabulary.items():
            keys = sorted((k for k in mapping if len(k) >= 4 and k not in GAZETTEER_EXCLUDE),
                          key=len, reverse=True)
            self._gazetteer[entity] = [(re.compile(rf"(?<![a-z0-9]){re.escape(k)}(?![a-z0-9])"), k)
                                       for k in keys]

    def canonical(self, entity: str, text: str) -> Optional[str]:
        """The canonical value of ``text`` for ``entity``, or None when nothing is close enough."""
        mapping = self.vocabulary.get(entity)
        if not mapping:
            return None
        key = fold(text)
        if not key:
            return None
        for candidate in (key, strip_articles(key), key.replace(" ", "")):
            if candidate in mapping:
                return mapping[candidate]
        bare = strip_articles(key)
        if bare in GENERIC_WORDS:
            return None
        # A known variant inside a longer span ("la piscine municipale de la ville").
        padded = f" {bare} "
        inside = [k for k in mapping if len(k) >= 3 and f" {k} " in padded]
        if inside:
            return mapping[max(inside, key=len)]
        # A truncated word ("la médiath", "biblio").
        if len(bare) >= 5:
            prefixed = {mapping[k] for k in mapping if k.startswith(bare) and len(bare) >= 0.6 * len(k.split()[0])}
            if len(prefixed) == 1:
                return prefixed.pop()
        if len(bare) >= 4:
            best = process.extractOne(bare, self._keys[entity], scorer=fuzz.ratio,
                                      score_cutoff=self._config["fuzzy_threshold"])
            if best:
                return mapping[best[0]]
            if len(bare) >= 8:
                best = process.extractOne(bare, self._keys[entity], scorer=fuzz.token_set_ratio,
                                          score_cutoff=90)
                if best:
                    return mapping[best[0]]
        return None

    def process_message(self, message: Message) -> None:
        text = message.get(TEXT) or ""
        folded_text = fold_aligned(text)
        entities = [dict(e) for e in message.get(ENTITIES, []) or []]
        kept: List[Dict[str, Any]] = []
        for ent in entities:
            name = ent.get("entity")
            if name in CANONICAL:
                if "start" in ent and "end" in ent:
                    ent["end"] = self._extend(name, folded_text, ent["start"], ent["end"])
                span = text[ent["start"]:ent["end"]] if "start" in ent and "end" in ent else str(ent.get("value"))
                value = self.canonical(name, span)
                if value is None and str(ent.get("value")) in CANONICAL[name]:
                    value = str(ent.get("value"))
                if value is None:
                    continue
                if value != ent.get("value"):
                    ent["value"] = value
                    ent.setdefault("processors", []).append(self.__class__.__name__)
            kept.append(ent)
        if self._config["gazetteer"]:
            kept.extend(self._gazetteer_entities(text, message, kept))
        kept = self._deduplicate(kept)
        message.set(ENTITIES, kept, add_to_output=True)
        self._bare_answer(message, text, kept)

    def _bare_answer(self, message: Message, text: str, entities: List[Dict[str, Any]]) -> None:
        """Set the bare-answer intent when nothing but a reference/e-mail/phone was typed."""
        intent_name = self._config.get("bare_answer_intent")
        names = set(self._config.get("bare_answer_entities") or [])
        spans = [e for e in entities if e.get("entity") in names and "start" in e]
        if not intent_name or not spans:
            return
        rest = text
        for ent in spans:
            rest = rest[:ent["start"]] + " " * (ent["end"] - ent["start"]) + rest[ent["end"]:]
        words = [w for w in fold(rest).split() if w not in BARE_FILLERS]
        if words:
            return
        intent = dict(message.get(INTENT) or {})
        confidence = 0.95
        if intent.get("name") == intent_name and float(intent.get("confidence") or 0.0) >= confidence:
            return
        others = [dict(r) for r in message.get("intent_ranking") or [] if r.get("name") != intent_name]
        total = sum(float(r.get("confidence") or 0.0) for r in others)
        for r in others:  # the other intents share what is left, in their original order
            r["confidence"] = (1 - confidence) * float(r.get("confidence") or 0.0) / total if total else 0.0
        message.set(INTENT, {"name": intent_name, "confidence": confidence}, add_to_output=True)
        message.set("intent_ranking", [{"name": intent_name, "confidence": confidence}] + others,
                    add_to_output=True)

    def _extend(self, entity: str, folded_text: str, start: int, end: int) -> int:
        """End of the longest known variant starting where DIET's span starts, if longer than it.

        DIET sometimes stops early ("extrait d'acte" of "extrait d'acte de décès").
        """
        best = end
        for pattern, key in self._gazetteer.get(entity, []):
            if len(key) <= best - start:
                break  # keys are sorted longest first
            match = pattern.match(folded_text, start)
            if match:
                return match.end()
        return best

    def _gazetteer_entities(self, text: str, message: Message,
                            found: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        intent = (message.get(INTENT) or {}).get("name")
        folded = fold_aligned(text)
        added: List[Dict[str, Any]] = []
        taken = [(e.get("start", -1), e.get("end", -1)) for e in found]
        for entity, intents in self._config["gazetteer_intents"].items():
            if intent not in intents or any(e.get("entity") == entity for e in found):
                continue
            hit = self._exact_hit(entity, folded, taken) or self._fuzzy_hit(entity, folded, taken)
            if hit:
                start, end, value = hit
                taken.append((start, end))
                added.append({"entity": entity, "start": start, "end": end, "value": value,
                              "confidence_entity": 0.7, "extractor": self.__class__.__name__})
        return added

    def _exact_hit(self, entity: str, folded: str, taken) -> Optional[Tuple[int, int, str]]:
        for pattern, key in self._gazetteer[entity]:
            for match in pattern.finditer(folded):
                if not _overlaps(match.start(), match.end(), taken):
                    return match.start(), match.end(), self.vocabulary[entity][key]
        return None

    def _fuzzy_hit(self, entity: str, folded: str, taken) -> Optional[Tuple[int, int, str]]:
        all_known = {k for m in self.vocabulary.values() for k in m}
        single = [k for k in self._keys[entity] if " " not in k and len(k) >= 6 and k not in GAZETTEER_EXCLUDE]
        if not single:
            return None
        for match in re.finditer(r"[a-z0-9]{6,}", folded):
            word = match.group(0)
            if word in all_known or _overlaps(match.start(), match.end(), taken):
                continue
            best = process.extractOne(word, single, scorer=fuzz.ratio,
                                      score_cutoff=self._config["gazetteer_fuzzy_threshold"])
            if best:
                return match.start(), match.end(), self.vocabulary[entity][best[0]]
        return None

    @staticmethod
    def _deduplicate(entities: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """One entity per (type, overlapping span); regex spans win for reference/email/phone."""
        def rank(ent: Dict[str, Any]) -> int:
            if ent.get("entity") in FREE_TEXT_REGEX_ENTITIES and ent.get("extractor") == "RegexEntityExtractor":
                return 0
            return 1
        result: List[Dict[str, Any]] = []
        for ent in sorted(entities, key=rank):
            duplicate = False
            for other in result:
                if other.get("entity") != ent.get("entity"):
                    continue
                if ent.get("entity") in CANONICAL and other.get("value") == ent.get("value"):
                    duplicate = True
                elif "start" in ent and "start" in other and _overlaps(ent["start"], ent["end"],
                                                                        [(other["start"], other["end"])]):
                    duplicate = True
                if duplicate:
                    break
            if not duplicate:
                result.append(ent)
        return sorted(result, key=lambda e: e.get("start", 0))


def _overlaps(start: int, end: int, spans) -> bool:
    return any(start < e and s < end for s, e in spans)
