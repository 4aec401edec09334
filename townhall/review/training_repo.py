"""Record an export in a training-data git repository, on a new branch, for review like code.

As Rasa X's integrated version control did: each export that changes something becomes one
commit on a new branch ``review/<date>-<n>`` of the repository named by ``TRAINING_DATA_GIT``.
A person reviews and merges it; nothing is ever pushed.

The commit is built with a temporary index (``git read-tree``, ``update-index``, ``write-tree``,
``commit-tree``), so the repository's checkout, current branch and uncommitted work are never
touched, and ``git update-ref`` creates the branch only if its name is still free.
"""
from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from townhall import config

AUTHOR_NAME = "Outil de révision"
AUTHOR_EMAIL = "review@localhost"
BRANCH_PREFIX = "review/"
_NO_COMMIT = "0" * 40


@dataclass(frozen=True)
class Recorded:
    branch: str
    commit: str


class GitError(Exception):
    pass


def _git(repo: Path, *args: str, env: dict | None = None, stdin: bytes | None = None,
         check: bool = True) -> subprocess.CompletedProcess:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}  # no stray GIT_DIR
    done = subprocess.run(["git", "-C", str(repo), *args], input=stdin, capture_output=True, timeout=60,
                          env={**inherited, "GIT_AUTHOR_NAME": AUTHOR_NAME, "GIT_AUTHOR_EMAIL": AUTHOR_EMAIL,
                               "GIT_COMMITTER_NAME": AUTHOR_NAME, "GIT_COMMITTER_EMAIL": AUTHOR_EMAIL,
                               "GIT_TERMINAL_PROMPT": "0", **(env or {})})
    if check and done.returncode != 0:
        raise GitError(f"git {args[0]} : {done.stderr.decode('utf-8', 'replace').strip()[-300:]}")
    return done


def _out(done: subprocess.CompletedProcess) -> str:
    return done.stdout.decode("utf-8").strip()


def _tree_of(repo: Path, revision: str) -> str | None:
    done = _git(repo, "rev-parse", "--verify", "-q", f"{revision}^{{tree}}", check=False)
    return _out(done) if done.returncode == 0 else None


def _newest_review_tree(repo: Path) -> str | None:
    """The tree of the newest ``review/<date>-<n>`` branch (latest commit time, then date and number)."""
    def order(line: str) -> tuple:
        seconds, name, _ = line.split(" ")
        day, _, n = name.removeprefix(BRANCH_PREFIX).rpartition("-")
        return int(seconds), day, int(n) if n.isdigit() else 0

    lines = _out(_git(repo, "for-each-ref", "--format=%(committerdate:unix) %(refname:short) %(tree)",
                      f"refs/heads/{BRANCH_PREFIX}")).splitlines()
    return max(lines, key=order).split(" ")[2] if lines else None


def record(repo: Path, files: dict[str, str], message: str, now: datetime | None = None) -> Recorded | None:
    """Commit ``files`` (path in the repository -> text) on top of HEAD on a new review branch.

    Returns None when HEAD or the newest review branch already holds exactly these files.
    """
    top = _git(repo, "rev-parse", "--show-toplevel", check=False)
    if top.returncode != 0 or Path(_out(top)).resolve() != Path(repo).resolve():
        raise GitError(f"{repo} n'est pas la racine d'un dépôt Git")
    head = _git(repo, "rev-parse", "--verify", "-q", "HEAD^{commit}", check=False)
    parent = _out(head) if head.returncode == 0 else None
    with tempfile.TemporaryDirectory(prefix="review-index-") as scratch:
        index = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        _git(repo, "read-tree", *(["HEAD"] if parent else ["--empty"]), env=index)
        for path, text in sorted(files.items()):
            blob = _out(_git(repo, "hash-object", "-w", "--stdin", stdin=text.encode("utf-8")))
            _git(repo, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=index)
        tree = _out(_git(repo, "write-tree", env=index))
    if tree in {parent and _tree_of(repo, parent), _newest_review_tree(repo)}:
        return None
    commit = _out(_git(repo, "commit-tree", "--no-gpg-sign", tree, *(["-p", parent] if parent else []),
                       "-m", message))
    day = (now or datetime.now(config.TIMEZONE)).strftime("%Y-%m-%d")
    for n in range(1, 1000):
        branch = f"{BRANCH_PREFIX}{day}-{n}"
        created = _git(repo, "update-ref", f"refs/heads/{branch}", commit, _NO_COMMIT, check=False)
        if created.returncode == 0:
            return Recorded(branch=branch, commit=commit)
        if _git(repo, "show-ref", "--verify", "-q", f"refs/heads/{branch}", check=False).returncode != 0:
            raise GitError(f"branche {branch} impossible à créer : "
                           f"{created.stderr.decode('utf-8', 'replace').strip()[-300:]}")
    raise GitError("aucun nom de branche libre")
