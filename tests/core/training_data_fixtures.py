"""Fixtures of the review export's destinations (imported by the test modules; holds no test).

``training_dir``: the training data folder of one test (never the checkout's ``var/``), no git.
``training_git``: the same plus a real git work tree (one empty commit on ``main``) named by
``TRAINING_DATA_GIT``.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def training_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "training"
    monkeypatch.setenv("TRAINING_DATA_DIR", str(folder))
    monkeypatch.delenv("TRAINING_DATA_GIT", raising=False)
    return folder


@pytest.fixture
def training_git(tmp_path, monkeypatch, training_dir) -> Path:
    repo = tmp_path / "training-git"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "-c", "user.name=Relecteur", "-c", "user.email=relecteur@localhost", "commit", "-q",
        "--allow-empty", "-m", "init")
    monkeypatch.setenv("TRAINING_DATA_GIT", str(repo))
    return repo
