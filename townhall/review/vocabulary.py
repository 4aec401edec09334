"""The domain's intents and entities, read from ``domain/*.yml`` (the names a trainer may choose)."""
from __future__ import annotations

from pathlib import Path

import yaml

from townhall import config
from townhall.review.annotations import Vocabulary


def load(root: Path | None = None) -> Vocabulary:
    domain = Path(root or config.PROJECT_ROOT) / "domain"
    intents: set[str] = set()
    entities: set[str] = set()
    paths = sorted(domain.rglob("*.yml")) if domain.is_dir() else [domain.with_suffix(".yml")]
    for path in paths:
        try:
            content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue
        for name, key in (("intents", intents), ("entities", entities)):
            for item in content.get(name) or []:
                key.add(next(iter(item)) if isinstance(item, dict) else str(item))
    return Vocabulary(intents=tuple(sorted(intents)), entities=tuple(sorted(entities)))
