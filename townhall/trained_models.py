"""The newest trained Rasa model of a folder: the one helper that every caller uses (the launcher,
scripts/train.sh and test.sh through it, the NLU evaluation, the retraining job, the tests)."""
from __future__ import annotations

from pathlib import Path


def newest(folder: Path) -> Path | None:
    """The most recently written ``*.tar.gz`` in ``folder``, or None when there is none."""
    models = sorted(Path(folder).glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None
