"""data/nlu/augmented.yml is what scripts/augment_nlu.py writes, and stays apart from the held-out set."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


def texts(path: Path) -> set[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {ANNOTATION.sub(r"\1", line.strip()[2:]).strip().lower()
            for item in data["nlu"] if "examples" in item
            for line in item["examples"].splitlines() if line.strip().startswith("- ")}


def test_the_generated_file_is_up_to_date():
    result = subprocess.run([sys.executable, str(ROOT / "scripts/augment_nlu.py"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_no_augmented_example_is_a_held_out_message():
    augmented = texts(ROOT / "data/nlu/augmented.yml")
    assert len(augmented) >= 200 and not augmented & texts(ROOT / "tests/nlu/heldout.yml")
