#!/usr/bin/env python3
"""Compare NLU pipelines on the clean and perturbed held-out sets (issue 13, item 5).

    .venv/bin/python bench/compare_pipelines.py [--variants current,transformer1,...] [--out /tmp/pipelines]
                                                [--evaluate-only]

For each variant, writes a copy of config.yml with the NLU pipeline changed, trains an
NLU-only model into --out (timed), then runs scripts/evaluate_nlu.py --json on it and
measures the NLU time per message (median and p95 of single parses after warm-up). Prints
one table. Not a test; the choice it supports is written in docs/nlu.md.
"""
from __future__ import annotations

import argparse
import copy
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def _diet(pipeline):
    return next(component for component in pipeline if component["name"] == "DIETClassifier")


def variant(name: str, pipeline: list) -> list:
    pipeline = copy.deepcopy(pipeline)
    if name == "current":
        pass
    elif name == "transformer1":
        _diet(pipeline).update(number_of_transformer_layers=1, transformer_size=128)
    elif name == "transformer2":
        _diet(pipeline).update(number_of_transformer_layers=2, transformer_size=128)
    elif name == "epochs200":
        _diet(pipeline)["epochs"] = 200
    elif name == "no_lemma":
        # today's word count vectors read spaCy's lemmas (CountVectorsFeaturizer use_lemma: true by default)
        next(c for c in pipeline if c["name"] == "CountVectorsFeaturizer" and "analyzer" not in c)["use_lemma"] = False
    elif name == "spelling":
        # nlu_components/spelling.py: an unknown word is read as its closest training word
        index = next(i for i, c in enumerate(pipeline) if c["name"] == "SpacyTokenizer")
        pipeline.insert(index + 1, {"name": "nlu_components.spelling.SpellingNormaliser"})
    elif name == "spelling_transformer1":
        pipeline = variant("spelling", pipeline)
        _diet(pipeline).update(number_of_transformer_layers=1, transformer_size=128)
    elif name == "char_1_5":
        next(c for c in pipeline if c.get("analyzer") == "char_wb").update(min_ngram=1, max_ngram=5)
    else:
        raise SystemExit(f"unknown variant {name}")
    return pipeline


def train(name: str, out: Path) -> tuple[Path, float]:
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    config["pipeline"] = variant(name, config["pipeline"])
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    start = time.perf_counter()
    subprocess.run([str(ROOT / ".venv/bin/rasa"), "train", "nlu", "--config", str(folder / "config.yml"), "--nlu", str(ROOT / "data"),
                    "--domain", str(ROOT / "domain"), "--out", str(folder), "--fixed-model-name", "nlu"],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    (folder / "train_seconds.txt").write_text(f"{elapsed:.1f}\n")
    return folder / "nlu.tar.gz", elapsed


def evaluate(model: Path) -> dict:
    result = subprocess.run([PYTHON, str(ROOT / "scripts/evaluate_nlu.py"), "--model", str(model), "--json"],
                            check=True, cwd=ROOT, capture_output=True, text=True)
    return json.loads(result.stdout)


def latency(model: Path, texts: list[str]) -> tuple[float, float]:
    code = (
        "import asyncio,json,sys,time\n"
        "from rasa.core.agent import Agent\n"
        "agent=Agent.load(sys.argv[1]); texts=json.loads(sys.argv[2]); loop=asyncio.new_event_loop()\n"
        "for t in texts[:20]: loop.run_until_complete(agent.parse_message(t))\n"
        "times=[]\n"
        "for t in texts:\n"
        "    s=time.perf_counter(); loop.run_until_complete(agent.parse_message(t)); times.append((time.perf_counter()-s)*1000)\n"
        "print(json.dumps(times))\n"
    )
    result = subprocess.run([PYTHON, "-c", code, str(model), json.dumps(texts)], check=True, cwd=ROOT, capture_output=True, text=True)
    times = sorted(json.loads(result.stdout.strip().splitlines()[-1]))
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default="current,transformer1,epochs200,no_lemma")
    parser.add_argument("--out", default="/tmp/pipelines")
    parser.add_argument("--evaluate-only", action="store_true", help="reuse the models already in --out")
    args = parser.parse_args()
    out = Path(args.out)
    texts = [line.strip()[2:] for line in (ROOT / "tests/nlu/heldout.yml").read_text(encoding="utf-8").splitlines()
             if line.strip().startswith("- ")][:200]
    rows = []
    for name in args.variants.split(","):
        if args.evaluate_only:
            model = out / name / "nlu.tar.gz"
            seconds = float((out / name / "train_seconds.txt").read_text())
        else:
            model, seconds = train(name, out)
        figures = evaluate(model)
        median, p95 = latency(model, texts)
        perturbed = figures.get("perturbed") or {}
        worst = min((v["intent_accuracy"] for v in perturbed.values()), default=float("nan"))
        mean = statistics.mean(v["intent_accuracy"] for v in perturbed.values()) if perturbed else float("nan")
        rows.append((name, seconds, figures["intent_accuracy"], figures["macro_f1"], figures.get("oos_recall", float("nan")),
                     mean, worst, median, p95))
        print(json.dumps({"variant": name, "train_s": round(seconds), "figures": figures, "parse_ms": [median, p95]}), file=sys.stderr)
    print(f"{'variant':14} {'train s':>8} {'acc':>6} {'macroF1':>8} {'oos rec':>8} {'pert mean':>9} {'pert min':>9} {'ms p50':>7} {'ms p95':>7}")
    for row in rows:
        print(f"{row[0]:14} {row[1]:8.0f} {row[2]:6.3f} {row[3]:8.3f} {row[4]:8.3f} {row[5]:9.3f} {row[6]:9.3f} {row[7]:7.1f} {row[8]:7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
