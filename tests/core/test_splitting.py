"""Several requests in one message: where the channels cut it, and where they must not."""
from __future__ import annotations

import pytest

from townhall import splitting
from townhall.splitting import requests_in, split_requests


@pytest.mark.parametrize("text, parts", [
    ("Quels sont les horaires de la piscine et aussi où se trouve la médiathèque ?",
     ["Quels sont les horaires de la piscine", "où se trouve la médiathèque ?"]),
    ("je voudrais un rdv pour ma carte d'identité, et puis signaler un lampadaire en panne",
     ["je voudrais un rdv pour ma carte d'identité", "signaler un lampadaire en panne"]),
    ("La mairie est ouverte samedi ? Quand passent les poubelles rue des Tilleuls ?",
     ["La mairie est ouverte samedi ?", "Quand passent les poubelles rue des Tilleuls ?"]),
    ("les horaires du cimetière et où se trouve le CCAS ?",
     ["les horaires du cimetière", "où se trouve le CCAS ?"]),
    ("horaires piscine dimanche. Autre question : comment refaire un livret de famille",
     ["horaires piscine dimanche.", "comment refaire un livret de famille"]),
    ("ADRESSE DE LA MAIRIE ET AUSSI LE NUMERO DU CCAS SVP", ["ADRESSE DE LA MAIRIE", "LE NUMERO DU CCAS SVP"]),
    ("les horaires de la mairie et aussi l'adresse de la piscine et puis le tel de la police municipale",
     ["les horaires de la mairie", "l'adresse de la piscine", "le tel de la police municipale"]),
])
def test_two_requests_are_cut_at_the_connective(text, parts):
    assert split_requests(text) == parts


@pytest.mark.parametrize("text", [
    "une carte d'identité et aussi un passeport",  # the second part is not a request
    "Bonjour, les horaires de la mairie svp, merci d'avance et bonne journée",
    "horaires de la mairie et aussi merci beaucoup",  # politeness only
    "Il y a un trou dans la rue et quand il pleut c'est inondé",  # « et quand » goes on
    "mon passeport a expiré et je veux le renouveler",
    "Vous êtes ouverts samedi ? et dimanche ?",
    '/inform{"incident_description": "trou et aussi une fissure et puis une flaque"}',
    "",
])
def test_one_request_stays_whole(text):
    assert split_requests(text) == [text]


def test_never_more_than_three_parts():
    text = " et aussi ".join(["les horaires de la piscine"] * 5)
    parts = split_requests(text)
    assert len(parts) == splitting.MAX_PARTS
    assert " ".join(parts).count("piscine") == 5  # nothing lost


def test_an_emergency_is_never_cut():
    text = "il y a le feu chez ma voisine et aussi elle ne répond plus du tout"
    assert len(split_requests(text)) == 2
    assert requests_in(text, is_emergency=lambda t: True) == [text]
    assert requests_in(text, is_emergency=lambda t: None) == split_requests(text)
    assert requests_in(text) == [text]  # the real detector
