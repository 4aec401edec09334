"""Retrain with the trainers' corrections, compare, and load the new model only if it is not worse.

Steps of a job (its progress is stored in ``review_retrain_jobs`` so the page can show it):
1. export the annotations (``townhall.review.export``) into the training data folder
   (``TRAINING_DATA_DIR``, default ``var/training/``; nothing is written into the checkout);
2. evaluate the current model (``scripts/evaluate_nlu.py --model PATH --test SET --json``) on the
   project's held-out set plus the trainers' one (``<folder>/tests/heldout_review.yml``), merged
   into a temporary file;
3. ``rasa train --data data <folder>/nlu`` into a new file ``models/review-<date>.tar.gz``;
4. evaluate the new model on the same set;
5. if no figure dropped by more than ``RETRAIN_TOLERANCE`` (default 0.005), load it into the
   running Rasa server (``PUT /model?token=RASA_AUTH_TOKEN``); otherwise keep the old one.

    python -m townhall.review.retrain       # the same, from the command line, in the foreground
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

import yaml
from sqlalchemy import select

from townhall import config, db
from townhall.review.models import RetrainJob

logger = logging.getLogger(__name__)

COMPARED_METRICS = ("intent_accuracy", "macro_f1", "entity_f1")
METRIC_LABELS = {"intent_accuracy": "Exactitude des intentions", "macro_f1": "F1 macro des intentions",
                 "oos_recall": "Rappel hors sujet", "entity_f1": "F1 des entités",
                 "canonical_entity_f1": "F1 des valeurs canoniques"}
RUNNING = ("queued", "running")
STALE_AFTER = timedelta(hours=6)
_start_lock = threading.Lock()


@dataclass
class Runner:
    """The subprocess boundary (replaced by a fake in tests)."""

    run: Callable[[list[str], Path], subprocess.CompletedProcess]

    @staticmethod
    def default() -> "Runner":
        def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
            return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=6 * 3600)
        return Runner(run)


def rasa_bin() -> str:
    local = config.PROJECT_ROOT / ".venv" / "bin" / "rasa"
    return os.environ.get("RASA_BIN") or (str(local) if local.exists() else "rasa")


def models_dir() -> Path:
    return Path(os.environ.get("RASA_MODELS_DIR", config.PROJECT_ROOT / "models"))


def latest_model(folder: Path | None = None) -> Path | None:
    from townhall import trained_models

    return trained_models.newest(folder or models_dir())


def tolerance() -> float:
    try:
        return float(os.environ.get("RETRAIN_TOLERANCE", "0.005"))
    except ValueError:
        return 0.005


def not_worse(before: dict | None, after: dict | None, margin: float | None = None) -> bool:
    """True when no compared figure of ``after`` is lower than ``before`` by more than the margin."""
    if not after:
        return False
    if not before:
        return True
    margin = tolerance() if margin is None else margin
    for name in COMPARED_METRICS:
        old, new = before.get(name), after.get(name)
        if isinstance(old, (int, float)) and isinstance(new, (int, float)) and new < old - margin:
            return False
    return True


def parse_metrics(stdout: str) -> dict:
    """The JSON object printed by scripts/evaluate_nlu.py (the last line that parses)."""
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return json.loads(stdout)


def evaluation_set(folder: Path, scratch: Path) -> Path | None:
    """The project's held-out set and the trainers' one merged into ``scratch`` (None: no trainers' examples)."""
    from townhall.review.export import HELDOUT_FILE

    def items(path: Path) -> list:
        content = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
        return (content or {}).get("nlu") or []

    review = items(folder / HELDOUT_FILE)
    if not review:
        return None
    merged = scratch / "heldout_with_review.yml"
    document = {"version": "3.1", "nlu": items(config.PROJECT_ROOT / "tests" / "nlu" / "heldout.yml") + review}
    merged.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return merged


def evaluate(model: Path, runner: Runner, test: Path | None = None) -> dict:
    cmd = [sys.executable, "scripts/evaluate_nlu.py", "--model", str(model), "--json"]
    if test is not None:
        cmd[-1:-1] = ["--test", str(test)]
    done = runner.run(cmd, config.PROJECT_ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"évaluation impossible : {(done.stderr or done.stdout or '')[-500:]}")
    return parse_metrics(done.stdout)


def training_data(folder: Path) -> list[str]:
    """``data`` plus the trainers' corrections of the training data folder, when there are some."""
    corrections = folder / "nlu"
    return ["data"] + ([str(corrections)] if any(corrections.glob("*.yml")) else [])


def train(runner: Runner, data_folder: Path | None = None) -> Path:
    name = "review-" + datetime.now(config.TIMEZONE).strftime("%Y%m%d-%H%M%S")
    folder = models_dir()
    cmd = ["nice", "-n", "10", rasa_bin(), "train", "--domain", "domain",
           "--data", *training_data(data_folder or config.training_data_dir()),
           "--config", "config.yml", "--out", str(folder), "--fixed-model-name", name]
    done = runner.run(cmd, config.PROJECT_ROOT)
    path = folder / f"{name}.tar.gz"
    if done.returncode != 0 or not path.exists():
        raise RuntimeError(f"entraînement échoué : {(done.stderr or done.stdout or '')[-500:]}")
    return path


def load_into_rasa(model: Path) -> None:
    import httpx

    url = os.environ.get("RASA_URL", "http://localhost:5005").rstrip("/") + "/model"
    params = {"token": os.environ["RASA_AUTH_TOKEN"]} if os.environ.get("RASA_AUTH_TOKEN") else {}
    response = httpx.put(url, params=params, json={"model_file": str(model.resolve())}, timeout=600)
    response.raise_for_status()


def _update(database_url: str, job_id: int, **values) -> None:
    with db.unit_of_work(database_url) as session:
        job = session.get(RetrainJob, job_id)
        for name, value in values.items():
            setattr(job, name, value)
        if values.get("step"):
            job.log = ((job.log or "") + f"{datetime.now(config.TIMEZONE):%H:%M:%S} {values['step']}\n")[-20000:]


def run_job(database_url: str, job_id: int, runner: Runner | None = None,
            loader: Callable[[Path], None] = load_into_rasa) -> str:
    """Run every step of a job; returns its final status (loaded, rejected or failed)."""
    from townhall.review import export

    runner = runner or Runner.default()
    try:
        _update(database_url, job_id, status="running", step="Export des corrections")
        with db.unit_of_work(database_url) as session:
            exported = export.export(session, intents=export.domain_intents())
        _update(database_url, job_id, step=exported.summary()[:255])
        with tempfile.TemporaryDirectory(prefix="review-eval-") as scratch:
            test = evaluation_set(exported.folder, Path(scratch))
            before_model = latest_model()
            before = None
            if before_model is not None:
                _update(database_url, job_id, step="Évaluation du modèle actuel", model_before=str(before_model))
                before = evaluate(before_model, runner, test)
                _update(database_url, job_id, metrics_before=json.dumps(before))
            _update(database_url, job_id, step="Entraînement du nouveau modèle (plusieurs minutes)")
            new_model = train(runner, exported.folder)
            _update(database_url, job_id, step="Évaluation du nouveau modèle", model_after=str(new_model))
            after = evaluate(new_model, runner, test)
        _update(database_url, job_id, metrics_after=json.dumps(after))
        if not not_worse(before, after):
            _update(database_url, job_id, status="rejected", finished_at=db.utcnow(),
                    step="Nouveau modèle moins bon : l'ancien reste en service")
            return "rejected"
        _update(database_url, job_id, step="Chargement du nouveau modèle dans Rasa")
        loader(new_model)
        _update(database_url, job_id, status="loaded", finished_at=db.utcnow(), step="Nouveau modèle en service")
        return "loaded"
    except Exception as exc:  # noqa: BLE001 - the page must show any failure
        logger.exception("retraining failed")
        _update(database_url, job_id, status="failed", finished_at=db.utcnow(), step=f"Échec : {exc}"[:255])
        return "failed"


class AlreadyRunning(Exception):
    pass


def create_job(database_url: str, by: str) -> int:
    with _start_lock, db.unit_of_work(database_url) as session:
        for running in session.execute(select(RetrainJob).where(RetrainJob.status.in_(RUNNING))).scalars():
            if running.started_at < db.utcnow() - STALE_AFTER:  # its process died (restart, crash)
                running.status, running.step, running.finished_at = "failed", "Interrompu", db.utcnow()
            else:
                raise AlreadyRunning(running.id)
        job = RetrainJob(started_by=by, status="queued", step="En attente")
        session.add(job)
        session.flush()
        return job.id


def start(database_url: str, by: str, runner: Runner | None = None,
          loader: Callable[[Path], None] = load_into_rasa) -> int:
    """Create a job and run it in a background thread."""
    job_id = create_job(database_url, by)
    threading.Thread(target=run_job, args=(database_url, job_id, runner, loader), daemon=True,
                     name=f"retrain-{job_id}").start()
    return job_id


def recent_jobs(session, limit: int = 5) -> list[RetrainJob]:
    return list(session.execute(select(RetrainJob).order_by(RetrainJob.id.desc()).limit(limit)).scalars())


def main() -> int:
    logging.basicConfig(level=logging.INFO)
    url = config.database_url()
    from townhall import schema

    schema.check(url)
    job_id = create_job(url, "ligne-de-commande")
    status = run_job(url, job_id)
    with db.unit_of_work(url) as session:
        job = session.get(RetrainJob, job_id)
        print(f"Résultat : {status}. Avant : {job.metrics_before}. Après : {job.metrics_after}.")
    return 0 if status in ("loaded", "rejected") else 1


if __name__ == "__main__":
    raise SystemExit(main())
