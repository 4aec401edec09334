"""The regexes of data/nlu/entities/patterns.yml: what they match, what they reject.

Rasa's RegexFeaturizer and RegexEntityExtractor run every regex over the whole message with
``re.finditer`` and no timeout, so a regex that backtracks on a long word freezes the server.
The patterns are written to stay linear (bounded quantifiers, a look-behind so that a match
starts only where a token starts). Timings are not asserted here (they depend on the machine);
print them with:

    .venv/bin/python tests/nlu/test_patterns.py          # 100 KB and 1 MB strings
"""
from __future__ import annotations

import random
import re
import sys
import time
from pathlib import Path
from typing import Dict

import pytest
import yaml

PATTERNS_FILE = Path(__file__).resolve().parents[2] / "data" / "nlu" / "entities" / "patterns.yml"
CONTRACT_NAMES = {"reference", "email", "phone"}


def patterns() -> Dict[str, str]:
    data = yaml.safe_load(PATTERNS_FILE.read_text(encoding="utf-8"))
    found = {}
    for block in data["nlu"]:
        if "regex" in block:
            lines = [l[2:] for l in block["examples"].splitlines() if l.startswith("- ")]
            assert len(lines) == 1, f"one pattern per regex expected: {block['regex']}"
            found[block["regex"]] = lines[0]
    return found


def compiled() -> Dict[str, re.Pattern]:
    # The pipeline sets case_sensitive: false, so Rasa compiles them with IGNORECASE.
    return {name: re.compile(text, re.IGNORECASE) for name, text in patterns().items()}


def test_contract_names_are_kept():
    assert CONTRACT_NAMES <= set(patterns())


def test_every_quantifier_is_bounded():
    """No ``*`` or ``+`` (nor ``{n,}``): each match attempt reads a bounded number of characters."""
    for name, text in patterns().items():
        unescaped = re.sub(r"\\.", "", text)
        unescaped = re.sub(r"\[[^\]]*\]", "", unescaped)  # character classes may hold * and +
        assert not re.search(r"[*+]|\{\d+,\}", unescaped), name


@pytest.mark.parametrize("name,text,span", [
    ("reference", "annuler RDV-7K3F9Q svp", "RDV-7K3F9Q"),
    ("reference", "ma ref rdv 7k3f9q", "rdv 7k3f9q"),
    ("reference", "sig4hx2pl", "sig4hx2pl"),
    ("reference", "SIG-4HX2PL ?", "SIG-4HX2PL"),
    ("reference", "où en est SIG - 4HX2PL", "SIG - 4HX2PL"),
    ("reference", "(rdv_7k3f9q)", "rdv_7k3f9q"),
    ("email", "c'est camille@example.org merci", "camille@example.org"),
    ("email", "j.dupont+mairie@orange.fr", "j.dupont+mairie@orange.fr"),
    ("email", "Mail:Camille.Martin@Mairie-Villeneuve.gouv.fr.", "Camille.Martin@Mairie-Villeneuve.gouv.fr"),
    ("email", "écrivez à l'adresse a_b%c@sub1.sub2.example.co.uk, merci", "a_b%c@sub1.sub2.example.co.uk"),
    ("phone", "06 12 34 56 78", "06 12 34 56 78"),
    ("phone", "tel 0612345678.", "0612345678"),
    ("phone", "+33 6 12 34 56 78", "+33 6 12 34 56 78"),
    ("phone", "+33612345678", "+33612345678"),
    ("phone", "01.23.45.67.89", "01.23.45.67.89"),
    ("phone", "0033 (0)1 23 45 67 89", "0033 (0)1 23 45 67 89"),
])
def test_patterns_match_the_whole_span(name, text, span):
    match = compiled()[name].search(text)
    assert match and match.group(0) == span


@pytest.mark.parametrize("name,text", [
    ("reference", "rdv demain"),
    ("reference", "RDV-7K3F9"),
    ("reference", "RDV-7K3F9O"),
    ("reference", "RDV-7K3F9QX"),
    ("reference", "XRDV-7K3F9Q"),
    ("reference", "RDV-I1O0AB"),
    ("reference", "rdv      7k3f9q"),
    ("email", "chez moi @ la maison"),
    ("email", "camille@example"),
    ("email", "camille@.org"),
    ("email", "@example.org"),
    ("email", "a" * 65 + "@example.org"),
    ("email", "camille@" + "b" * 64 + ".org"),
    ("email", "camille@example.o"),
    ("email", "camille@example.org2"),
    ("phone", "le 12 décembre 2025"),
    ("phone", "123"),
    ("phone", "06 12 34 56 7"),
    ("phone", "06 12 34 56 789"),
    ("phone", "00 12 34 56 78"),
])
def test_patterns_reject(name, text):
    assert not compiled()[name].search(text)


def test_rasa_reads_the_patterns():
    """Rasa's own loader finds the regexes under their contract names, and they compile."""
    from rasa.nlu.utils.pattern_utils import extract_patterns
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(PATTERNS_FILE))
    found = {p["name"]: p["pattern"] for p in extract_patterns(data, use_lookup_tables=False)}
    assert found == patterns()


def test_a_long_message_still_gives_its_entities():
    text = ("bla " * 5000) + "mon mail camille@example.org, tel 06 12 34 56 78, ref RDV-7K3F9Q " + "z" * 20000
    found = {name: [m.group(0) for m in rx.finditer(text)] for name, rx in compiled().items()}
    assert found["email"] == ["camille@example.org"]
    assert found["phone"] == ["06 12 34 56 78"]
    assert found["reference"] == ["RDV-7K3F9Q"]


# --------------------------------------------------------------------------- timing script


def adversarial_inputs(size: int) -> Dict[str, str]:
    """Strings of letters, dots, @ and digits that make a backtracking regex quadratic."""
    rng = random.Random(1)
    return {
        "letters": "a" * size,
        "letters.dots": ("ab." * size)[:size],
        "x@letters": "x@" + "a" * (size - 2),
        "x@a.a.a": "x@" + ("a." * size)[: size - 2],
        "a.a@a.a@": ("a.a@" * size)[:size],
        "digits": "0" * size,
        "06 06 06": ("06 " * size)[:size],
        "rdv   ": "rdv" + " " * (size - 3),
        "random": "".join(rng.choice("ab.@-+_06 ") for _ in range(size)),
    }


def main(sizes=(100_000, 1_000_000)) -> None:
    regexes = compiled()
    worst = 0.0
    for size in sizes:
        for label, text in adversarial_inputs(size).items():
            for name, regex in regexes.items():
                start = time.perf_counter()
                count = sum(1 for _ in regex.finditer(text))
                elapsed = time.perf_counter() - start
                worst = max(worst, elapsed)
                print(f"{name:10} {label:13} {size:>9,} chars  {elapsed * 1000:9.1f} ms  ({count} matches)")
    print(f"worst: {worst * 1000:.1f} ms")


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or (100_000, 1_000_000))
