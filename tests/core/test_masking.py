"""Masking of contacts for trainers and training files: what is hidden, what is kept, in linear time."""
from __future__ import annotations

import pytest

from townhall import masking
from townhall.review import export

HIDDEN = masking.MASK


@pytest.mark.parametrize("phone", [
    "06 12 34 56 78", "06.12.34.56.78", "06-12-34-56-78", "0612345678", "06/12/34/56/78", "+33 6 12 34 56 78",
    "+33 (0)6 12 34 56 78", "0033 6 12 34 56 78", "+44 20 7946 0958", "+32 470 12 34 56", "01 23 45 67 89",
])
def test_phones_in_every_usual_shape_are_hidden(phone):
    text = f"appelez-moi au {phone}, merci"
    masked = masking.mask_contacts(text)
    assert len(masked) == len(text)
    assert not any(ch.isdigit() for ch in masked), masked
    assert masked.startswith("appelez-moi au ") and masked.endswith(", merci")


def test_two_numbers_in_a_row_are_both_hidden():
    masked = masking.mask_contacts("06 12 34 56 78 07 12 34 56 78")
    assert not any(ch.isdigit() for ch in masked)


def test_emails_keep_their_shape():
    masked = masking.mask_contacts("écrivez à camille.martin@example.org svp")
    assert masked == "écrivez à •••••••.••••••@•••••••.••• svp"


def test_ants_numbers_are_hidden_references_and_dates_are_not():
    text = "pré-demande 7A2B3C4D5E, rendez-vous RDV-7K3F9Q et signalement SIG-4HX2PL le 12/12/2026 à 14 h 30"
    masked = masking.mask_contacts(text)
    assert "7A2B3C4D5E" not in masked and HIDDEN * 10 in masked
    assert "RDV-7K3F9Q" in masked and "SIG-4HX2PL" in masked and "12/12/2026 à 14 h 30" in masked
    assert masking.mask_contacts("bonjour maintenant, la piscine est ouverte") == "bonjour maintenant, la piscine est ouverte"


def test_known_values_are_hidden_case_insensitively():
    known = masking.known_patterns(["4 rue des Acacias", "camille@example.org"], names=["Camille Martin"])
    text = "Je suis CAMILLE  martin, j'habite au 4 Rue des acacias ; Mme Martin"
    masked = masking.mask_contacts(text, known=known)
    assert len(masked) == len(text)
    for word in ("CAMILLE", "martin", "Martin", "acacias", "Rue"):
        assert word not in masked
    assert masked.startswith("Je suis ") and "j'habite au" in masked
    # the convenience form takes the values directly
    assert "Acacias" not in masking.mask_contacts("au 4 rue des Acacias", ["4 rue des Acacias"])


def test_answers_are_not_taken_for_personal_data():
    assert masking.known_patterns(["aucun", "anonyme", "ok"]) is None


def test_values_inside_lists_and_dicts():
    value = {"email": "lou@mairie.fr", "list": ["06 12 34 56 78", 3]}
    masked = masking.mask_value(value)
    assert "lou" not in masked["email"] and masked["list"][1] == 3 and "34" not in masked["list"][0]


def test_export_replaces_contacts_by_fictional_ones():
    line, plain = export.render("mail lou@mairie.fr, tel +32 470 12 34 56, ANTS 7A2B3C4D5E", [])
    assert plain == f"mail {export.FAKE_EMAIL}, tel {export.FAKE_PHONE}, ANTS {export.FAKE_ANTS}"


@pytest.mark.parametrize("text", [
    "a" * 1_000_000, "a." * 500_000, "@" * 1_000_000, "a@" * 500_000, "1 " * 500_000, "x" * 999_990 + "@example.org",
    ("0612345678 " * 1000) + "b" * 900_000,
])
def test_huge_texts_are_masked_without_blowing_up(text):
    # No timing assert (shared machines); quadratic regexes would take minutes here.
    masked = masking.mask_contacts(text, ["Camille Martin"])
    assert len(masked) == len(text)


def test_truncate():
    assert masking.truncate("abc", 5) == "abc"
    assert masking.truncate("abcdef", 3) == "abc…"
