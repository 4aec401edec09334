#!/usr/bin/env python3
"""Evaluate the NLU model on the held-out test set.

    .venv/bin/python scripts/evaluate_nlu.py [--model PATH] [--test tests/nlu/heldout.yml] [--train] [--json]

--train (or no --model and no model in models/nlu/) trains an NLU-only model from data/ and
config.yml into models/nlu/ first. Prints intent accuracy, macro-F1, out-of-scope recall,
per-entity precision/recall/F1 (categorical entities compared on their canonical value,
free-text entities on their text span, case- and space-insensitive), the most frequent
confusions and the misclassified messages. --json prints one JSON object instead (keys:
intent_accuracy, macro_f1, oos_recall, entity_f1, canonical_entity_f1, confusions, ...);
the back office's retrain button calls `--model PATH --json`. Logs go to stderr.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import glob
import json
import logging
import os
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CANONICAL_ENTITIES = ("facility", "procedure", "incident_category", "waste_type")
FREE_TEXT_ENTITIES = ("address", "date", "time", "reference", "email", "phone")
FALLBACK_INTENT = "nlu_fallback"


LEADING_WORDS = re.compile(r"^(?:(?:le|la|les|au|aux|à|a|en|pour|vers)\s+|l['’]\s*)+", re.IGNORECASE)


def normalise_span(text: str) -> str:
    """Case/space-insensitive span, without leading articles or prepositions ("le samedi" = "samedi")."""
    text = unicodedata.normalize("NFC", str(text)).lower()
    text = re.sub(r"\s+", " ", text).strip().strip(" .,;:!?'\"")
    stripped = LEADING_WORDS.sub("", text).strip()
    return stripped or text


def latest_model(path: Path) -> Optional[Path]:
    if path.is_file():
        return path
    models = sorted(glob.glob(str(path / "*.tar.gz")), key=os.path.getmtime)
    return Path(models[-1]) if models else None


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


def load_test_set(path: Path) -> List[Dict[str, Any]]:
    """Messages of the test file with gold intent and gold entities (canonical values resolved)."""
    from rasa.shared.nlu.training_data.loading import load_data

    synonyms = dict(load_training_nlu().entity_synonyms)
    test = load_data(str(path))
    synonyms.update(test.entity_synonyms)
    examples = []
    for message in test.intent_examples:
        text = message.get("text")
        gold = []
        for ent in message.get("entities", []) or []:
            name = ent["entity"]
            span = text[ent["start"]:ent["end"]]
            if name in CANONICAL_ENTITIES:
                value = str(ent.get("value", span))
                value = synonyms.get(value.lower(), synonyms.get(span.lower(), value))
            else:
                value = normalise_span(span)
            gold.append((name, value))
        examples.append({"text": text, "intent": message.get("intent"), "entities": gold})
    return examples


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


async def parse_all(model: Path, texts: List[str]) -> List[Dict[str, Any]]:
    from rasa.core.agent import Agent

    with contextlib.redirect_stdout(sys.stderr):
        agent = Agent.load(str(model))
        return [await agent.parse_message(text) for text in texts]


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
    return {
        "n_messages": n,
        "intent_accuracy": sum(g == p for g, p in zip(gold_intents, pred_intents)) / n if n else 0.0,
        "macro_f1": sum(s["f1"] for s in per_intent.values()) / len(per_intent) if per_intent else 0.0,
        "oos_recall": sum(p == "out_of_scope" for p in oos) / len(oos) if oos else None,
        "fallback_rate": pred_intents.count(FALLBACK_INTENT) / n if n else 0.0,
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


def print_report(report: Dict[str, Any], model: Path, test: Path) -> None:
    print(f"model: {model}\ntest set: {test} ({report['n_messages']} messages)\n")
    print(f"intent accuracy      {report['intent_accuracy']:.3f}")
    print(f"macro-F1             {report['macro_f1']:.3f}")
    oos = report["oos_recall"]
    print(f"out-of-scope recall  {oos:.3f}" if oos is not None else "out-of-scope recall  n/a")
    print(f"fallback rate        {report['fallback_rate']:.3f}")
    print(f"canonical entity F1  {report['canonical_entity_f1']:.3f}\n")
    print(f"{'entity':20} {'prec':>6} {'rec':>6} {'f1':>6} {'n':>4}")
    for name, s in report["entity_scores"].items():
        print(f"{name:20} {s['precision']:6.3f} {s['recall']:6.3f} {s['f1']:6.3f} {s['support']:4d}")
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


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="model file (.tar.gz) or folder (latest model in it)")
    parser.add_argument("--test", default=str(ROOT / "tests" / "nlu" / "heldout.yml"))
    parser.add_argument("--train", action="store_true", help="train an NLU model into models/nlu/ first")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    os.chdir(ROOT)  # custom components (nlu_components.*) and relative paths

    model = latest_model(Path(args.model)) if args.model else None
    if args.model and model is None:
        print(f"no model at {args.model}", file=sys.stderr)
        return 2
    if args.train or model is None:
        model = train_model(ROOT / "models" / "nlu")
    test = Path(args.test)
    examples = load_test_set(test)
    parses = asyncio.run(parse_all(model, [e["text"] for e in examples]))
    report = evaluate(examples, parses)
    if args.json:
        print(json.dumps({"model": str(model), "test": str(test), **report}, ensure_ascii=False))
    else:
        print_report(report, model, test)
    return 0


if __name__ == "__main__":
    sys.exit(main())
