"""Retrain with the trainers' corrections, compare, and load the new model only if it is not worse.

Steps of a job (its progress is stored in ``review_retrain_jobs`` so the page can show it):
1. export the annotations (``townhall.review.export``) into the training data folder
   (``TRAINING_DATA_DIR``, default ``var/training/``; nothing is written into the checkout);
2. evaluate the model in service (the file Rasa names at ``GET /status``; the newest file of the
   models folder only when Rasa cannot tell, and the job's log says so) with
   ``scripts/evaluate_nlu.py --model PATH --test SET --json`` on the project's held-out set plus
   the trainers' one (``<folder>/tests/heldout_review.yml``), merged into a temporary file;
3. ``rasa train --data data <folder>/nlu`` into a new file ``models/review-<date>.tar.gz``;
4. evaluate the new model on the same set;
5. compare every figure (intent accuracy, macro F1, out-of-scope figures, each intent's F1, each
   entity's F1, canonical values, each perturbed copy of the test set): if none is worse by more
   than ``RETRAIN_TOLERANCE`` (default 0.005), load the new model into the running Rasa server
   (``PUT /model?token=RASA_AUTH_TOKEN``); otherwise keep the old one and move the refused file
   out of the models folder (``RETRAIN_REJECTED_DIR``, default ``var/rejected-models/``), as
   after a failure, so that no restart serves it.

    python -m townhall.review.retrain       # the same, from the command line, in the foreground
"""
from __future__ import annotations

import json
import logging
import os
import shutil
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
from townhall.review import labels
from townhall.review.models import RetrainJob

logger = logging.getLogger(__name__)

# Figures of scripts/evaluate_nlu.py --json compared by the gate: key -> (French label, higher is better).
# Per-intent, per-entity and per-perturbation figures are added from the report itself.
SUMMARY_FIGURES = {
    "intent_accuracy": ("Exactitude des intentions", True),
    "macro_f1": ("F1 macro des intentions", True),
    "oos_recall": ("Rappel des messages hors sujet", True),
    "in_scope_as_oos_rate": ("Messages pris à tort pour hors sujet", False),
    "fallback_rate": ("Taux d'incompréhension", False),
    "canonical_entity_f1": ("F1 des valeurs canoniques", True),
}
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


@dataclass(frozen=True)
class Comparison:
    """One figure before and after; ``refused`` when it dropped by more than the margin."""

    key: str
    label: str
    before: float | None
    after: float | None
    higher_is_better: bool
    refused: bool


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def figures(report: dict | None) -> dict[str, tuple[str, bool, float | None]]:
    """Every compared figure of an evaluation report: key -> (French label, higher is better, value)."""
    report = report or {}
    result: dict[str, tuple[str, bool, float | None]] = {}
    for key, (label, higher) in SUMMARY_FIGURES.items():
        result[key] = (label, higher, _number(report.get(key)))
    for name, scores in sorted((report.get("per_intent") or {}).items()):
        value = scores.get("f1") if isinstance(scores, dict) else scores
        result[f"intent:{name}"] = (f"F1 de l'intention « {labels.intent(name)} »", True, _number(value))
    entity_f1 = report.get("entity_f1")
    if isinstance(entity_f1, dict):
        for name, value in sorted(entity_f1.items()):
            result[f"entity:{name}"] = (f"F1 de l'entité « {labels.entity(name)} »", True, _number(value))
    else:  # an older report: one overall figure
        result["entity_f1"] = ("F1 des entités", True, _number(entity_f1))
    for name, scores in (report.get("perturbed") or {}).items():
        value = scores.get("intent_accuracy") if isinstance(scores, dict) else None
        result[f"perturbed:{name}"] = (f"Exactitude des intentions, {labels.perturbation(name)}", True,
                                       _number(value))
    return result


def compare(before: dict | None, after: dict | None, margin: float | None = None) -> list[Comparison]:
    """Every figure present in either report, before and after, in a stable order."""
    margin = tolerance() if margin is None else margin
    old, new = figures(before), figures(after)
    rows = []
    for key in list(old) + [k for k in new if k not in old]:
        label, higher, b = old.get(key) or new[key]
        a = new[key][2] if key in new else None
        if b is None and a is None:
            continue
        # A figure missing on one side is shown, not compared (an entity neither expected nor
        # predicted any more has no F1; both reports come from the same command and test set).
        refused = a is not None and b is not None and ((a < b - margin) if higher else (a > b + margin))
        rows.append(Comparison(key, label, b, a, higher, refused))
    return rows


def not_worse(before: dict | None, after: dict | None, margin: float | None = None) -> bool:
    """True when no figure of ``after`` is worse than ``before`` by more than the margin.

    Every figure is compared: the summary figures, each intent's F1, each entity's F1 and the
    accuracy on each perturbed copy of the test set, when the reports carry them."""
    if not after:
        return False
    if not before:
        return True
    return not any(c.refused for c in compare(before, after, margin))


def refused_figures(before: dict | None, after: dict | None, margin: float | None = None) -> list[Comparison]:
    return [c for c in compare(before, after, margin) if c.refused]


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


def rasa_url() -> str:
    return os.environ.get("RASA_URL", "http://localhost:5005").rstrip("/")


def _token() -> dict:
    return {"token": os.environ["RASA_AUTH_TOKEN"]} if os.environ.get("RASA_AUTH_TOKEN") else {}


def load_into_rasa(model: Path) -> None:
    import httpx

    response = httpx.put(rasa_url() + "/model", params=_token(), json={"model_file": str(model.resolve())},
                         timeout=600)
    response.raise_for_status()


class RasaUnreachable(Exception):
    pass


def served_model_name() -> str | None:
    """The file name of the model the Rasa server is running (``GET /status``); None: no model loaded."""
    import httpx

    try:
        response = httpx.get(rasa_url() + "/status", params=_token(), timeout=10)
        response.raise_for_status()
        return (response.json() or {}).get("model_file") or None
    except (httpx.HTTPError, ValueError) as exc:
        raise RasaUnreachable(str(exc)) from exc


@dataclass(frozen=True)
class ServedModel:
    path: Path | None
    note: str  # where the answer comes from, in French, for the job's log


def model_in_service(ask: Callable[[], str | None] | None = None, folder: Path | None = None) -> ServedModel:
    """The model file Rasa is running, found in the models folder; the newest file only when Rasa
    cannot tell (unreachable, no model loaded, a file not in the folder), and the note says so."""
    folder = folder or models_dir()
    try:
        name = (ask or served_model_name)()
    except RasaUnreachable:
        newest = latest_model(folder)
        return ServedModel(newest, "Rasa injoignable : comparaison avec le modèle le plus récent du dossier"
                                   + (f" ({newest.name})" if newest else " (aucun)"))
    if name:
        path = Path(name) if Path(name).is_absolute() and Path(name).is_file() else folder / Path(name).name
        if path.is_file():
            return ServedModel(path, f"Modèle en service : {path.name}")
        reason = f"le modèle en service ({Path(name).name}) est absent du dossier des modèles"
    else:
        reason = "Rasa n'a pas de modèle chargé"
    newest = latest_model(folder)
    return ServedModel(newest, f"{reason[0].upper()}{reason[1:]} : comparaison avec le modèle le plus récent"
                               + (f" ({newest.name})" if newest else " (aucun)"))


def rejected_dir() -> Path:
    """Where refused models go: outside the models folder, so that no restart can serve them."""
    return Path(os.environ.get("RETRAIN_REJECTED_DIR") or config.VAR_DIR / "rejected-models")


def set_aside(model: Path) -> Path:
    """Move a refused model out of the models folder (deleted when it cannot be moved)."""
    target = rejected_dir()
    try:
        target.mkdir(parents=True, exist_ok=True)
        return Path(shutil.move(str(model), str(target / model.name)))
    except OSError:
        logger.warning("refused model could not be moved, deleted instead")
        model.unlink(missing_ok=True)
        return target / model.name


def _update(database_url: str, job_id: int, **values) -> None:
    with db.unit_of_work(database_url) as session:
        job = session.get(RetrainJob, job_id)
        for name, value in values.items():
            setattr(job, name, value)
        if values.get("step"):
            job.log = ((job.log or "") + f"{datetime.now(config.TIMEZONE):%H:%M:%S} {values['step']}\n")[-20000:]


def run_job(database_url: str, job_id: int, runner: Runner | None = None,
            loader: Callable[[Path], None] = load_into_rasa,
            served: Callable[[], str | None] | None = None) -> str:
    """Run every step of a job; returns its final status (loaded, rejected or failed)."""
    from townhall.review import export

    runner = runner or Runner.default()
    new_model: Path | None = None
    try:
        _update(database_url, job_id, status="running", step="Export des corrections")
        with db.unit_of_work(database_url) as session:
            exported = export.export(session, intents=export.domain_intents())
        _update(database_url, job_id, step=exported.summary()[:255])
        with tempfile.TemporaryDirectory(prefix="review-eval-") as scratch:
            test = evaluation_set(exported.folder, Path(scratch))
            in_service = model_in_service(served)
            _update(database_url, job_id, step=in_service.note[:255])
            before_model, before = in_service.path, None
            if before_model is not None:
                _update(database_url, job_id, step="Évaluation du modèle en service", model_before=str(before_model))
                before = evaluate(before_model, runner, test)
                _update(database_url, job_id, metrics_before=json.dumps(before))
            _update(database_url, job_id, step="Entraînement du nouveau modèle (plusieurs minutes)")
            new_model = train(runner, exported.folder)
            _update(database_url, job_id, step="Évaluation du nouveau modèle", model_after=str(new_model))
            after = evaluate(new_model, runner, test)
        _update(database_url, job_id, metrics_after=json.dumps(after))
        refused = refused_figures(before, after) if after else []
        if not after or refused:
            kept = set_aside(new_model)
            worst = "; ".join(f"{c.label} {c.before:.3f} → {c.after:.3f}" for c in refused[:3])
            _update(database_url, job_id, status="rejected", finished_at=db.utcnow(), model_after=str(kept),
                    step=f"Nouveau modèle refusé ({worst or 'pas de mesures'}) : l'ancien reste en service"[:255])
            return "rejected"
        _update(database_url, job_id, step="Chargement du nouveau modèle dans Rasa")
        loader(new_model)
        _update(database_url, job_id, status="loaded", finished_at=db.utcnow(), step="Nouveau modèle en service")
        return "loaded"
    except Exception as exc:  # noqa: BLE001 - the page must show any failure
        logger.exception("retraining failed")
        if new_model is not None and new_model.exists():  # never served later by a restart
            set_aside(new_model)
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
          loader: Callable[[Path], None] = load_into_rasa, served: Callable[[], str | None] | None = None) -> int:
    """Create a job and run it in a background thread."""
    job_id = create_job(database_url, by)
    threading.Thread(target=run_job, args=(database_url, job_id, runner, loader, served), daemon=True,
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
