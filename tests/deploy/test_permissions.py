"""Secrets and databases are private to the user who runs the assistant: var/ 0700, the
development secrets and the SQLite files 0600 (scripts/dev_secrets.sh, townhall.db)."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from townhall import db

ROOT = Path(__file__).resolve().parents[2]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def project(tmp_path):
    """A copy of the layout dev_secrets.sh expects: .venv/bin/python and a var/ left by an older
    version with world-readable files."""
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").symlink_to(sys.executable)
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    var.chmod(0o755)
    for name in ["dev-backoffice-secret", "dev-admin-password", "townhall.db", "rasa_tracker.db"]:
        (var / name).write_text("old\n")
        (var / name).chmod(0o644)
    return tmp_path


def source_dev_secrets(project: Path, after: str = "") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in {"RASA_AUTH_TOKEN", "BACKOFFICE_SECRET_KEY", "ACTION_SERVER_TOKEN"}}
    script = f"set -euo pipefail; umask 022; source {ROOT / 'scripts' / 'dev_secrets.sh'}; " \
             'echo "tokens:${#RASA_AUTH_TOKEN}:${#BACKOFFICE_SECRET_KEY}:${#ACTION_SERVER_TOKEN}"; ' + after
    return subprocess.run(["bash", "-c", script], cwd=project, env=env, capture_output=True, text=True, check=True)


def test_dev_secrets_are_private(project):
    done = source_dev_secrets(project, after="touch var/created-later.log; .venv/bin/python -c "
                              "'import sqlite3; sqlite3.connect(\"var/new.db\").execute(\"create table t (x)\")'")
    var = project / "var"
    assert mode(var) == 0o700
    for name in ["dev-rasa-token", "dev-backoffice-secret", "dev-action-server-token", "dev-admin-password",
                 "townhall.db", "rasa_tracker.db", "created-later.log", "new.db"]:
        assert mode(var / name) == 0o600, (name, oct(mode(var / name)))
    # the old secret is kept (existing sessions stay valid), the missing ones are created
    assert (var / "dev-backoffice-secret").read_text() == "old\n"
    lengths = done.stdout.strip().splitlines()[-1].split(":")[1:]
    assert lengths[0] != "0" and lengths[2] != "0" and int(lengths[2]) >= 32
    assert "RASA_AUTH_TOKEN not set" in done.stdout
    assert (var / "dev-action-server-token").read_text().strip() not in done.stdout  # never printed


def test_dev_secrets_keep_given_values(project):
    env = {**os.environ, "ACTION_SERVER_TOKEN": "given-token", "RASA_AUTH_TOKEN": "r", "BACKOFFICE_SECRET_KEY": "b"}
    done = subprocess.run(["bash", "-c", f"set -euo pipefail; source {ROOT / 'scripts' / 'dev_secrets.sh'}; "
                           'echo "$ACTION_SERVER_TOKEN"'], cwd=project, env=env, capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip().splitlines()[-1] == "given-token"
    assert not (project / "var" / "dev-action-server-token").exists()


def test_a_new_sqlite_database_is_private(tmp_path):
    old = os.umask(0o022)
    try:
        url = f"sqlite:///{tmp_path / 'sub' / 'townhall.db'}"
        with db.unit_of_work(url) as session:
            session.execute(text("CREATE TABLE t (x INTEGER)"))
            session.execute(text("INSERT INTO t VALUES (1)"))
        files = sorted(p.name for p in (tmp_path / "sub").iterdir())
        assert "townhall.db" in files
        for name in files:  # the WAL and shared-memory files too
            assert mode(tmp_path / "sub" / name) == 0o600, (name, oct(mode(tmp_path / "sub" / name)))
    finally:
        os.umask(old)
        db._engines.pop(url).dispose()


def test_an_existing_sqlite_database_is_made_private(tmp_path):
    path = tmp_path / "old.db"
    import sqlite3

    sqlite3.connect(path).close()
    path.chmod(0o644)
    url = f"sqlite:///{path}"
    db.get_engine(url)
    try:
        assert mode(path) == 0o600
    finally:
        db._engines.pop(url).dispose()


def test_the_migrated_test_database_is_private(db_url):
    if not db_url.startswith("sqlite"):
        pytest.skip("file permissions concern SQLite only")
    assert mode(Path(db_url.split("///", 1)[1])) == 0o600
