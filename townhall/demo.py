"""Bring the database up to date and load the demo commune's data (idempotent).

    python -m townhall.demo [--today YYYY-MM-DD]

Dates in the demo data are relative to the day it is loaded, so the demo never goes stale.
"""
from __future__ import annotations

import argparse
import importlib
import logging
from datetime import date, datetime

from townhall import config, db, schema

logger = logging.getLogger(__name__)

# Each concern loads its own demo data: ``load_demo(session, today)``.
DEMO_LOADERS = (
    "townhall.knowledge.loader",
    "townhall.booking.loader",
    "townhall.incidents.loader",
)


def load(url: str | None = None, today: date | None = None) -> None:
    url = url or config.database_url()
    today = today or datetime.now(config.TIMEZONE).date()
    schema.check(url)  # migrated by the start-up's one migration step (deploy.launcher)
    for name in DEMO_LOADERS:
        module = importlib.import_module(name)
        with db.unit_of_work(url) as session:
            module.load_demo(session, today)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--today", type=date.fromisoformat, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    load(today=args.today)
    print(f"Base de données prête : {db.redacted_url(config.database_url())}")


if __name__ == "__main__":
    main()
