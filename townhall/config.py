"""Settings read from environment variables, with safe defaults for the embedded demo."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("TOWNHALL_VAR_DIR", PROJECT_ROOT / "var"))
TIMEZONE = ZoneInfo(os.environ.get("TOWNHALL_TIMEZONE", "Europe/Paris"))


def default_database_url() -> str:
    return f"sqlite:///{VAR_DIR / 'townhall.db'}"


def database_url() -> str:
    """The application database (appointments, reports, knowledge...)."""
    return os.environ.get("DATABASE_URL") or default_database_url()


def tracker_database_url() -> str:
    """Rasa's SQL tracker store, read by the back office's review tool."""
    return os.environ.get("TRACKER_DATABASE_URL") or f"sqlite:///{VAR_DIR / 'rasa_tracker.db'}"


@dataclass(frozen=True)
class Commune:
    name: str
    main_phone: str
    main_email: str
    website: str


def commune() -> Commune:
    """The demo commune; a real one overrides these with environment variables."""
    return Commune(
        name=os.environ.get("COMMUNE_NAME", "Villeneuve-sur-Loire"),
        main_phone=os.environ.get("COMMUNE_PHONE", "+33240123400"),
        main_email=os.environ.get("COMMUNE_EMAIL", "accueil@villeneuve-sur-loire.fr"),
        website=os.environ.get("COMMUNE_WEBSITE", "https://www.villeneuve-sur-loire.fr"),
    )


def outbox_dir() -> Path:
    """Where e-mails are written when no SMTP server is configured (local mode)."""
    return Path(os.environ.get("TOWNHALL_OUTBOX", VAR_DIR / "outbox"))


def _outside_checkout(folder: Path, variable: str) -> Path:
    """``folder`` resolved; refused inside the checkout (except ``var/``): services never write there."""
    folder = folder.resolve()
    inside = lambda parent: folder == parent or parent in folder.parents  # noqa: E731
    if inside(PROJECT_ROOT.resolve()) and not inside(VAR_DIR.resolve()):
        raise ValueError(f"{variable} ({folder}) est dans le code source : choisissez un dossier hors du dépôt "
                         f"ou sous {VAR_DIR}.")
    return folder


def training_data_dir() -> Path:
    """Where the review tool writes the trainers' corrections (``nlu/``) and held-out set (``tests/``)."""
    return _outside_checkout(Path(os.environ.get("TRAINING_DATA_DIR") or VAR_DIR / "training"), "TRAINING_DATA_DIR")


def training_data_git() -> Path | None:
    """A git work tree where each export is also committed on a new ``review/...`` branch (unset: none)."""
    value = os.environ.get("TRAINING_DATA_GIT")
    return _outside_checkout(Path(value), "TRAINING_DATA_GIT") if value else None
