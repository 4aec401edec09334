"""Masking of contacts for trainers and training files: what is hidden, what is kept, in linear time."""
from __future__ import annotations

import pytest

from townhall import masking
from townhall.review import export

HIDDEN = masking.MASK


# Numbers as citizens type them: French national, +33 and 0033, with or without "(0)", grouped
# by two or otherwise, spaces (also non-breaking), dots, dashes, slashes, or a mix of them.
FRENCH_SHAPES = [
    "0612345678", "06 12 34 56 78", "06.12.34.56.78", "06-12-34-56-78", "06/12/34/56/78", "06 12.34-56 78",
    "06\u00a012\u00a034\u00a056\u00a078", "06\u202f12\u202f34\u202f56\u202f78", "0 612 345 678", "06 1234 5678",
    "+33612345678", "+33 6 12 34 56 78", "+33 (0)6 12 34 56 78", "+33(0)612345678", "+33.6.12.34.56.78",
    "+33-6-12-34-56-78", "(+33) 6 12 34 56 78", "0033612345678", "0033 6 12 34 56 78", "0033 (0)6 12 34 56 78",
    "00 33 6 12 34 56 78", "+33 1 23 45 67 89", "01 23 45 67 89", "01.23.45.67.89", "09 70 12 34 56", "0 800 12 34 56",
]
FOREIGN_SHAPES = ["+44 20 7946 0958", "+32 470 12 34 56", "0032 470 12 34 56"]


@pytest.mark.parametrize("phone", FRENCH_SHAPES + FOREIGN_SHAPES)
def test_phones_in_every_usual_shape_are_hidden_exactly(phone):
    text = f"Mon numéro : {phone}. Rappelez-moi demain."
    masked = masking.mask_contacts(text)
    assert len(masked) == len(text)
    assert not any(ch.isdigit() for ch in masked), masked
    assert masked.startswith("Mon numéro : ") and masked.endswith(". Rappelez-moi demain.")
    contacts = masking.find_contacts(text)
    assert [c.kind for c in contacts] == ["phone"]
    # the whole number is found, from its first digit (or "+", "(") to its last digit
    found = text[contacts[0].start:contacts[0].end]
    assert found.lstrip("(+")[0].isdigit() and found[-1].isdigit()
    assert sum(ch.isdigit() for ch in found) == sum(ch.isdigit() for ch in phone)


@pytest.mark.parametrize("text", [
    "rendez-vous le 12/12/2026 à 14 h 30", "le 03.12.2026 à 9h", "RDV-7K3F9Q", "sig 4hx2pl", "au 12 rue Pasteur, 44850",
    "entre le n° 10 et le n° 30", "3 enfants de 4, 7 et 12 ans", "avant 2027",
])
def test_dates_references_and_addresses_are_not_taken_for_phones(text):
    assert masking.mask_contacts(text) == text


def test_known_e164_phone_is_hidden_as_typed_in_france():
    known = masking.known_patterns(["+33612345678"])
    assert known.search("06 12 34 56 78")
    assert masking.mask_contacts("rappel au 06 12 34 56 78", known=known) == "rappel au •• •• •• •• ••"


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
