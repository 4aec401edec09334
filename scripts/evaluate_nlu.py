#!/usr/bin/env python3
"""Evaluate the NLU model on the held-out test set.

    .venv/bin/python scripts/evaluate_nlu.py [--model PATH] [--test tests/nlu/heldout.yml] [--train] [--json]
                                             [--no-perturbed] [--emergencies tests/nlu/emergencies.yml]

--train (or no --model and no model in models/nlu/) trains an NLU-only model from data/ and
config.yml into models/nlu/ first. Prints intent accuracy, macro-F1, out-of-scope recall, the
share of in-scope messages taken for out of scope (out_of_scope or nlu_fallback), per-entity
precision/recall/F1 for every entity (categorical entities compared on their canonical value,
free-text entities on their text span, case- and space-insensitive), the most frequent
confusions and the misclassified messages.

Then, unless --no-perturbed, the CheckList-style robustness table: intent accuracy on the
perturbed copies of the held-out set (tests/nlu/perturb.py: typos, no accents, SMS forms,
capitals, greeting before, politeness after, two requests joined) beside the clean figure,
and the gap in points. Then, when tests/nlu/emergencies.yml exists (keys `emergencies:` and
`ordinary:`, lists of messages), the recall of townhall.incidents.emergency.detect on the
emergencies and its false-alarm rate on the ordinary messages. Messages are parsed in batches
through the model's graph, as the channels hand them over: a message holding several requests
(townhall/splitting.py) one request at a time, scored on its first request's intent and on the
entities of all of them. The elapsed time is printed at the end.

--json prints one JSON object instead (keys: intent_accuracy, macro_f1, oos_recall,
in_scope_as_oos_rate, entity_f1, canonical_entity_f1, confusions, ..., perturbed:
{name: {intent_accuracy, n, gap_points}}, emergency_recall, emergency_false_alarms,
elapsed_seconds); the back office's retrain button calls `--model PATH --json`. Logs go to stderr.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.nlu import perturb  # noqa: E402  (after the sys.path line above)

CANONICAL_ENTITIES = ("facility", "procedure", "incident_category", "waste_type")
FREE_TEXT_ENTITIES = ("address", "date", "time", "reference", "email", "phone")
FALLBACK_INTENT = "nlu_fallback"
OUT_OF_SCOPE = ("out_of_scope", FALLBACK_INTENT)
EMERGENCIES = ROOT / "tests" / "nlu" / "emergencies.yml"
BATCH_SIZE = 64


LEADING_WORDS = re.compile(r"^(?:(?:le|la|les|au|aux|du|à|a|en|pour|vers)\s+|l['’]\s*)+", re.IGNORECASE)


def normalise_span(text: str) -> str:
    """Case/space-insensitive span, without leading articles or prepositions ("le samedi" = "du samedi" = "samedi")."""
    text = unicodedata.normalize("NFC", str(text)).lower()
    text = re.sub(r"\s+", " ", text).strip().strip(" .,;:!?'\"")
    stripped = LEADING_WORDS.sub("", text).strip()
    return stripped or text


def latest_model(path: Path) -> Optional[Path]:
    if path.is_file():
        return path
    from townhall import trained_models

    return trained_models.newest(path)


def train_model(out: Path) -> Path:
    from rasa.model_training import train_nlu

    out.mkdir(parents=True, exist_ok=True)
    with contextlib.redirect_stdout(sys.stderr):
        result = train_nlu(config=str(ROOT / "config.yml"), nlu_data=str(ROOT / "data"),
                           output=str(out), domain=str(ROOT / "domain"), fixed_model_name="nlu")
    model = result if isinstance(result, str) else getattr(result, "model", None)
    if not model:
        raise SystemExit("NLU training failed")
    return Path(model)


def load_training_nlu(path: Path = ROOT / "data"):
    """The NLU training data under ``path`` (stories and rules files are skipped)."""
    import rasa.shared.data
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData

    files = sorted(rasa.shared.data.get_data_files([str(path)], rasa.shared.data.is_nlu_file))
    return TrainingData().merge(*[load_data(f, "fr") for f in files])


def load_synonyms(path: Path) -> Dict[str, str]:
    """Entity synonyms of the training data and of the test file (lower-case text -> value)."""
    from rasa.shared.nlu.training_data.loading import load_data

    synonyms = dict(load_training_nlu().entity_synonyms)
    synonyms.update(load_data(str(path)).entity_synonyms)
    return synonyms


def gold_example(example: "perturb.Example", synonyms: Dict[str, str]) -> Dict[str, Any]:
    """Gold intent and entities of one example: canonical values resolved, free-text spans as typed."""
    gold = []
    for ent in example.entities:
        name = ent["entity"]
        span = example.text[int(ent["start"]):int(ent["end"])]
        if name in CANONICAL_ENTITIES:
            value = str(ent.get("value", span))
            value = synonyms.get(value.lower(), synonyms.get(span.lower(), value))
        else:
            value = normalise_span(span)
        gold.append((name, value))
    return {"text": example.text, "intent": example.intent, "entities": gold}


def load_test_set(path: Path) -> List[Dict[str, Any]]:
    """Messages of the test file with gold intent and gold entities (canonical values resolved)."""
    synonyms = load_synonyms(path)
    return [gold_example(e, synonyms) for e in perturb.load_examples(path)]


def predicted_entities(parse: Dict[str, Any]) -> List[Tuple[str, str]]:
    result = []
    for ent in parse.get("entities", []) or []:
        name = ent.get("entity")
        if name in CANONICAL_ENTITIES:
            result.append((name, str(ent.get("value"))))
        elif name in FREE_TEXT_ENTITIES:
            span = parse["text"][ent["start"]:ent["end"]] if "start" in ent else str(ent.get("value"))
            result.append((name, normalise_span(span)))
    return list(dict.fromkeys(result))  # one per (entity, value)


def load_agent(model: Path):
    from rasa.core.agent import Agent

    with contextlib.redirect_stdout(sys.stderr):
        return Agent.load(str(model))


def parse_all(agent, texts: List[str], batch_size: int = BATCH_SIZE) -> List[Dict[str, Any]]:
    """Parse results of ``texts``, as ``agent.parse_message`` gives them, one graph run per batch.

    Rasa's NLU components all take a list of messages; running the graph once per batch
    instead of once per message saves the graph's fixed cost on every message.
    """
    from rasa.core.channels.channel import UserMessage
    from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
    from rasa.shared.core.trackers import DialogueStateTracker

    processor = agent.processor
    tracker = DialogueStateTracker.from_events("evaluate_nlu", [])
    results: List[Dict[str, Any]] = []
    for i in range(0, len(texts), batch_size):
        batch = [UserMessage(text, sender_id="evaluate_nlu") for text in texts[i:i + batch_size]]
        with contextlib.redirect_stdout(sys.stderr):
            output = processor.graph_runner.run(
                inputs={PLACEHOLDER_MESSAGE: batch, PLACEHOLDER_TRACKER: tracker},
                targets=[processor.model_metadata.nlu_target])
        for message in output[processor.model_metadata.nlu_target]:
            parse = {"text": "", "intent": {"name": None, "confidence": 0.0}, "entities": []}
            parse.update(message.as_dict(only_output_properties=True))
            results.append(parse)
    return results


def parse_as_channels(parse: Callable[[List[str]], List[Dict[str, Any]]], texts: List[str]) -> List[Dict[str, Any]]:
    """Parse results of ``texts`` as the channels hand them to the NLU: a message holding several
    requests is parsed one request at a time (``townhall.splitting``). The result of such a
    message is its first request's intent with the entities of every request, their offsets
    in the whole message."""
    from townhall import splitting

    split = [splitting.requests_in(text) for text in texts]
    parts = [part for parts in split for part in parts]
    parsed = iter(parse(parts))
    results: List[Dict[str, Any]] = []
    for text, parts in zip(texts, split):
        first: Dict[str, Any] = {}
        entities: List[Dict[str, Any]] = []
        cursor = 0
        for part in parts:
            result = next(parsed)
            first = first or result
            offset = max(text.find(part, cursor), 0)
            cursor = offset + len(part)
            for ent in result.get("entities") or []:
                ent = dict(ent)
                if "start" in ent and "end" in ent:
                    ent["start"], ent["end"] = ent["start"] + offset, ent["end"] + offset
                entities.append(ent)
        results.append({**first, "text": text, "entities": entities})
    return results


def f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def evaluate(examples: List[Dict[str, Any]], parses: List[Dict[str, Any]]) -> Dict[str, Any]:
    gold_intents = [e["intent"] for e in examples]
    pred_intents = [(p.get("intent") or {}).get("name") or FALLBACK_INTENT for p in parses]
    n = len(examples)
    labels = sorted(set(gold_intents))
    per_intent = {}
    for label in labels:
        tp = sum(1 for g, p in zip(gold_intents, pred_intents) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold_intents, pred_intents) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold_intents, pred_intents) if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        per_intent[label] = {"precision": precision, "recall": recall, "f1": f1(precision, recall),
                             "support": tp + fn}
    confusions = Counter((g, p) for g, p in zip(gold_intents, pred_intents) if g != p)
    counts = {e: Counter() for e in CANONICAL_ENTITIES + FREE_TEXT_ENTITIES}
    entity_errors = []
    for example, parse in zip(examples, parses):
        gold = Counter(example["entities"])
        pred = Counter(predicted_entities(parse))
        for (name, value), k in (gold | pred).items():
            tp = min(gold[(name, value)], pred[(name, value)])
            counts[name]["tp"] += tp
            counts[name]["fn"] += gold[(name, value)] - tp
            counts[name]["fp"] += pred[(name, value)] - tp
        if gold != pred:
            entity_errors.append({"text": example["text"], "gold": sorted(gold), "predicted": sorted(pred)})
    entity_scores = {}
    for name, c in counts.items():
        if not (c["tp"] + c["fn"] + c["fp"]):
            continue
        precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
        entity_scores[name] = {"precision": precision, "recall": recall, "f1": f1(precision, recall),
                               "support": c["tp"] + c["fn"]}
    canon = Counter()
    for name in CANONICAL_ENTITIES:
        canon.update(counts[name])
    cp = canon["tp"] / (canon["tp"] + canon["fp"]) if canon["tp"] + canon["fp"] else 0.0
    cr = canon["tp"] / (canon["tp"] + canon["fn"]) if canon["tp"] + canon["fn"] else 0.0
    oos = [p for g, p in zip(gold_intents, pred_intents) if g == "out_of_scope"]
    in_scope = [p for g, p in zip(gold_intents, pred_intents) if g not in OUT_OF_SCOPE]
    return {
        "n_messages": n,
        "intent_accuracy": sum(g == p for g, p in zip(gold_intents, pred_intents)) / n if n else 0.0,
        "macro_f1": sum(s["f1"] for s in per_intent.values()) / len(per_intent) if per_intent else 0.0,
        "oos_recall": sum(p == "out_of_scope" for p in oos) / len(oos) if oos else None,
        "fallback_rate": pred_intents.count(FALLBACK_INTENT) / n if n else 0.0,
        "in_scope_as_oos_rate": sum(p in OUT_OF_SCOPE for p in in_scope) / len(in_scope) if in_scope else None,
        "entity_f1": {name: round(s["f1"], 4) for name, s in entity_scores.items()},
        "entity_scores": entity_scores,
        "canonical_entity_f1": f1(cp, cr),
        "per_intent": per_intent,
        "confusions": [[g, p, k] for (g, p), k in confusions.most_common()],
        "misclassified": [{"text": e["text"], "gold": g, "predicted": p,
                           "confidence": round(float((parse.get("intent") or {}).get("confidence") or 0), 3)}
                          for e, g, p, parse in zip(examples, gold_intents, pred_intents, parses) if g != p],
        "entity_errors": entity_errors,
    }


def evaluate_perturbed(parse: Callable[[List[str]], List[Dict[str, Any]]], path: Path,
                       clean_accuracy: float) -> Dict[str, Dict[str, Any]]:
    """Intent accuracy on each perturbed copy of the test set, and its gap to the clean figure in points.

    ``parse`` turns a list of texts into parse results (``parse_all`` with a loaded agent); each
    distinct text is parsed once.
    """
    synonyms = load_synonyms(path)
    examples = perturb.load_examples(path)
    sets = {name: perturb.perturbed_set(examples, name) for name in perturb.PERTURBATIONS}
    texts = list(dict.fromkeys(e.text for copies in sets.values() for e in copies))
    parsed = dict(zip(texts, parse(texts)))
    result = {}
    for name, copies in sets.items():
        report = evaluate([gold_example(e, synonyms) for e in copies], [parsed[e.text] for e in copies])
        accuracy = report["intent_accuracy"]
        result[name] = {
            "intent_accuracy": accuracy,
            "n": len(copies),
            "gap_points": round(100 * (clean_accuracy - accuracy), 1),
            "misclassified": report["misclassified"],
        }
    return result


def evaluate_emergencies(path: Path = EMERGENCIES) -> Optional[Dict[str, Any]]:
    """Recall of the emergency detector on ``emergencies`` and false alarms on ``ordinary`` (None: no file)."""
    if not path.is_file():
        return None
    import yaml

    from townhall.incidents.emergency import detect

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    emergencies = [str(t) for t in data.get("emergencies") or []]
    ordinary = [str(t) for t in data.get("ordinary") or []]
    missed = [t for t in emergencies if detect(t) is None]
    alarms = [t for t in ordinary if detect(t) is not None]
    return {
        "emergency_recall": 1 - len(missed) / len(emergencies) if emergencies else None,
        "emergency_false_alarms": len(alarms) / len(ordinary) if ordinary else None,
        "n_emergencies": len(emergencies),
        "n_ordinary": len(ordinary),
        "emergencies_missed": missed,
        "ordinary_flagged": alarms,
    }


def _figure(value: Optional[float]) -> str:
    return f"{value:.3f}" if value is not None else "n/a"


def print_report(report: Dict[str, Any], model: Path, test: Path) -> None:
    print(f"model: {model}\ntest set: {test} ({report['n_messages']} messages)\n")
    print(f"intent accuracy      {report['intent_accuracy']:.3f}")
    print(f"macro-F1             {report['macro_f1']:.3f}")
    print(f"out-of-scope recall  {_figure(report['oos_recall'])}")
    print(f"in scope taken as out of scope (out_of_scope or nlu_fallback)  {_figure(report['in_scope_as_oos_rate'])}")
    print(f"fallback rate        {report['fallback_rate']:.3f}")
    print(f"canonical entity F1  {report['canonical_entity_f1']:.3f}\n")
    print(f"{'entity':20} {'prec':>6} {'rec':>6} {'f1':>6} {'n':>4}")
    for name in CANONICAL_ENTITIES + FREE_TEXT_ENTITIES:
        s = report["entity_scores"].get(name)
        if s:
            print(f"{name:20} {s['precision']:6.3f} {s['recall']:6.3f} {s['f1']:6.3f} {s['support']:4d}")
        else:
            print(f"{name:20} {'n/a':>6} {'n/a':>6} {'n/a':>6} {0:4d}")
    print(f"\n{'intent':24} {'prec':>6} {'rec':>6} {'f1':>6} {'n':>4}")
    for name, s in report["per_intent"].items():
        print(f"{name:24} {s['precision']:6.3f} {s['recall']:6.3f} {s['f1']:6.3f} {s['support']:4d}")
    print("\nmost frequent confusions (gold -> predicted: n)")
    for g, p, k in report["confusions"][:15]:
        print(f"  {g} -> {p}: {k}")
    print("\nmisclassified messages")
    for m in report["misclassified"]:
        print(f"  [{m['gold']} -> {m['predicted']} {m['confidence']}] {m['text']}")
    print("\nentity errors")
    for m in report["entity_errors"]:
        print(f"  {m['text']}\n      gold: {m['gold']}\n      pred: {m['predicted']}")


def print_perturbed(perturbed: Dict[str, Dict[str, Any]], clean_accuracy: float, examples_shown: int = 3) -> None:
    print("\nrobustness (CheckList-style perturbations of the held-out set, tests/nlu/perturb.py)")
    print(f"{'perturbation':20} {'n':>5} {'accuracy':>9} {'clean':>7} {'gap (points)':>13}")
    for name, r in perturbed.items():
        print(f"{name:20} {r['n']:5d} {r['intent_accuracy']:9.3f} {clean_accuracy:7.3f} {r['gap_points']:13.1f}")
    for name, r in perturbed.items():
        for m in r["misclassified"][:examples_shown]:
            print(f"  {name}: [{m['gold']} -> {m['predicted']} {m['confidence']}] {m['text']}")


def print_emergencies(result: Optional[Dict[str, Any]]) -> None:
    if result is None:
        print(f"\nemergencies: {EMERGENCIES.relative_to(ROOT)} not found, skipped")
        return
    print(f"\nemergency detector (townhall.incidents.emergency.detect, {EMERGENCIES.relative_to(ROOT)})")
    print(f"recall on emergencies       {_figure(result['emergency_recall'])} (n={result['n_emergencies']})")
    print(f"false alarms on ordinary    {_figure(result['emergency_false_alarms'])} (n={result['n_ordinary']})")
    for text in result["emergencies_missed"]:
        print(f"  missed: {text}")
    for text in result["ordinary_flagged"]:
        print(f"  false alarm: {text}")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="model file (.tar.gz) or folder (latest model in it)")
    parser.add_argument("--test", default=str(ROOT / "tests" / "nlu" / "heldout.yml"))
    parser.add_argument("--train", action="store_true", help="train an NLU model into models/nlu/ first")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--no-perturbed", action="store_true", help="skip the perturbed copies of the test set")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    os.chdir(ROOT)  # custom components (nlu_components.*) and relative paths

    model = latest_model(Path(args.model)) if args.model else None
    if args.model and model is None:
        print(f"no model at {args.model}", file=sys.stderr)
        return 2
    if args.train or model is None:
        model = train_model(ROOT / "models" / "nlu")
    started = time.perf_counter()
    test = Path(args.test)
    examples = load_test_set(test)
    agent = load_agent(model)
    def parse(texts: List[str]) -> List[Dict[str, Any]]:
        return parse_as_channels(lambda parts: parse_all(agent, parts), texts)

    report = evaluate(examples, parse([e["text"] for e in examples]))
    perturbed = None if args.no_perturbed else evaluate_perturbed(parse, test, report["intent_accuracy"])
    emergencies = evaluate_emergencies()
    elapsed = time.perf_counter() - started
    if args.json:
        extra: Dict[str, Any] = {"elapsed_seconds": round(elapsed, 1)}
        if perturbed is not None:
            extra["perturbed"] = {name: {k: r[k] for k in ("intent_accuracy", "n", "gap_points")}
                                  for name, r in perturbed.items()}
        extra["emergency_recall"] = emergencies["emergency_recall"] if emergencies else None
        extra["emergency_false_alarms"] = emergencies["emergency_false_alarms"] if emergencies else None
        print(json.dumps({"model": str(model), "test": str(test), **report, **extra}, ensure_ascii=False))
    else:
        print_report(report, model, test)
        if perturbed is not None:
            print_perturbed(perturbed, report["intent_accuracy"])
        print_emergencies(emergencies)
        print(f"\nelapsed: {elapsed:.1f} s (model loading and parsing)")
    print(f"elapsed: {elapsed:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
