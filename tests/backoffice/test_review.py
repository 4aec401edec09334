"""The review tool's pages: inbox, conversation view, annotation, export, retraining, dashboard."""
from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from conversation_store import open_store
from conversation_store import sample as sample_store
from townhall import db
from townhall.review import conversations as conv
from townhall.review import retrain, sample
from townhall.review.models import AnnotationChange, ConversationTag, MessageAnnotation
from tests.core.training_data_fixtures import git, training_dir, training_git  # noqa: F401
from tests.backoffice.test_review_fixtures import (app, client_for, project_root, token_of,  # noqa: F401
                                                   tracker_template, tracker_url)


def _event_id(url: str, sender: str, text_start: str) -> int:
    for turn in conv.conversation(open_store(url), sender):
        if turn.kind == "user" and turn.message.text.startswith(text_start):
            return turn.event_id
    raise AssertionError("message not found")


def test_inbox_lists_newest_first_and_filters(app):
    client = client_for(app, "camille")
    page = client.get("/review").text
    assert page.index("je voudrais un rdv") < page.index("jveu un truc") < page.index("bonjour")
    assert "4 conversations" in page
    low = client.get("/review?low=1&sort=confidence").text
    assert low.index("&lt;script&gt;") < low.index("jveu un truc")  # least confident first
    assert "la piscine" not in low and "bonjour</a>" not in low
    assert "jveu un truc" in client.get("/review?fallback=1").text
    assert "1 conversation." in client.get("/review?handoff=1").text
    assert "demo-piscine" in client.get("/review?intent=ask_opening_hours").text
    assert "1 conversation." in client.get("/review?channel=facebook").text
    assert "1 conversation." in client.get("/review?q=PISCINE").text
    assert "Aucune conversation" in client.get("/review?q=introuvable").text
    assert "4 conversations" in client.get("/review?start=2000-01-01&end=2999-12-31").text
    assert "Aucune conversation" in client.get("/review?end=2000-01-01").text
    assert "Aucune conversation" in client.get("/review?reviewed=yes").text
    assert client.get("/review?start=pas-une-date&page=-3&sort=%3Cx%3E").status_code == 200


def test_conversation_view_shows_nlu_and_dialogue(app, tracker_url):
    page = client_for(app, "dominique").get("/review/conversation?sender=demo-rdv").text
    assert "book_appointment" in page and "95.0 %" in page
    assert '<mark class="entity" title="procedure = passeport">passeport' in page
    assert "booking_form" in page  # the form opened in the conversation
    assert "camille@example.org" in page  # agents see contacts
    assert 'href="/staff/appointments?reference=RDV-7K3F9Q"' in page
    confused = client_for(app, "dominique").get("/review/conversation?sender=demo-confus").text
    assert '<span title="book_appointment">Prise de rendez-vous</span> (33.0 %)' in confused  # top alternatives
    assert "action_default_fallback" in confused and "Je n&#39;ai pas bien compris" in confused


def test_trainers_see_contacts_masked(app):
    page = client_for(app, "camille").get("/review/conversation?sender=demo-rdv").text
    assert "camille@example.org" not in page and "06 12 34 56 78" not in page and "+33612345678" not in page
    assert "•••••••@•••••••.•••" in page
    assert "RDV-7K3F9Q" in page and 'href="/staff/appointments' not in page  # no link to a page they cannot open
    inbox = client_for(app, "camille").get("/review?q=camille").text
    assert "camille@example.org" not in inbox and "Aucune conversation" in inbox  # no search on hidden contacts
    assert "1 conversation." in client_for(app, "dominique").get("/review?q=camille").text


def test_staff_read_french_labels_with_the_codes_on_hover(app):
    client = client_for(app, "camille")
    inbox = client.get("/review").text
    assert '<span title="facebook">Messenger</span>' in inbox and '<span title="socketio">' in inbox
    assert '<option value="ask_opening_hours" title="ask_opening_hours" >Horaires d&#39;ouverture</option>' in inbox
    assert "camille (annotateur)" in inbox and "entraîneur" not in inbox
    page = client.get("/review/conversation?sender=demo-rdv").text
    assert 'Intention prédite : <strong title="book_appointment">Prise de rendez-vous</strong>' in page
    assert "Entités prédites : Démarche = Passeport" in page
    assert '<span title="facebook">Messenger</span>' in page
    assert '<option value="procedure" title="procedure"' in page and ">Démarche</option>" in page
    assert "(entité Démarche : Passeport)" in page


def test_citizen_text_is_escaped(app):
    page = client_for(app, "admin").get("/review/conversation?sender=demo-hostile").text
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page


def test_unknown_conversation_is_a_french_404(app):
    response = client_for(app, "admin").get("/review/conversation?sender=nobody")
    assert response.status_code == 404 and "n&#39;existe pas" in response.text


def test_correct_an_intent_and_entities(app, tracker_url):
    client = client_for(app, "camille")
    token = token_of(client)
    event_id = _event_id(tracker_url, "demo-confus", "jveu")
    text = "jveu un truc pr mon gamin a l ecole"
    response = client.post("/review/annotate", data={
        "csrf_token": token, "sender": "demo-confus", "event_id": event_id, "intent": "ask_procedure",
        "destination": "train", "reviewed": "1", "new_entity": "procedure", "new_start": text.index("ecole"),
        "new_end": len(text), "new_text": "ecole", "new_value": "inscription_scolaire"}, follow_redirects=False)
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert "L&#39;annotation est enregistrée." in page and "Annotée par camille" in page
    with db.unit_of_work(app.state.database_url) as session:
        note = session.execute(select(MessageAnnotation)).scalar_one()
        assert (note.intent, note.annotated_by, note.predicted_intent) == ("ask_procedure", "camille", "ask_procedure")
        assert note.entities == [{"start": 30, "end": 35, "entity": "procedure", "value": "inscription_scolaire"}]
        assert note.annotated_at is not None
    # Fix the entity's value, then delete it, then mark out of scope; history records each change.
    base = {"csrf_token": token, "sender": "demo-confus", "event_id": event_id, "intent": "ask_procedure",
            "ent_start_0": 30, "ent_end_0": 35, "ent_entity_0": "procedure", "destination": "test"}
    client.post("/review/annotate", data={**base, "ent_value_0": "inscription_scolaire "})
    client.post("/review/annotate", data={**base, "ent_value_0": "x", "ent_delete_0": "1", "out_of_scope": "1"})
    with db.unit_of_work(app.state.database_url) as session:
        note = session.execute(select(MessageAnnotation)).scalar_one()
        assert note.entities == [] and note.intent == "out_of_scope" and note.out_of_scope
        assert note.destination == "test"
        changes = session.execute(select(AnnotationChange)).scalars().all()
        assert len(changes) == 3 and all(c.changed_by == "camille" for c in changes)


def test_entity_by_typed_text_and_bad_annotations(app, tracker_url):
    client = client_for(app, "camille")
    token = token_of(client)
    event_id = _event_id(tracker_url, "demo-piscine", "la piscine")
    base = {"csrf_token": token, "sender": "demo-piscine", "event_id": event_id, "intent": "ask_opening_hours"}
    page = client.post("/review/annotate", data={**base, "new_entity": "date", "new_text": "DIMANCHE"}).text
    assert "L&#39;annotation est enregistrée." in page
    with db.unit_of_work(app.state.database_url) as session:
        note = session.execute(select(MessageAnnotation)).scalar_one()
        assert [e["entity"] for e in note.entities] == ["date"]  # the predicted entities were replaced
    for bad, message in [({"intent": "pizza"}, "Choisissez une intention"),
                         ({"new_entity": "facility", "new_text": "absent"}, "ne figure pas"),
                         ({"new_entity": "couleur", "new_text": "piscine"}, "Entité inconnue"),
                         ({"new_entity": "facility", "new_start": "0", "new_end": "999"}, "sort du message")]:
        page = client.post("/review/annotate", data={**base, **bad}).text
        assert message in page, message
    assert client.post("/review/annotate", data={**base, "event_id": "999999"}).status_code == 404
    assert client.post("/review/annotate", data={**base, "event_id": "abc"}).status_code == 404


NAME_TEXT = "je suis Jean Dupont, ma prédemande est 1A2B3C4D5E"


@pytest.fixture
def named(tracker_url):
    """A conversation where the citizen gives a name and an ANTS number, after a message not understood."""
    start = NAME_TEXT.index("1A2B3C4D5E")
    asyncio.run(sample_store.write(tracker_url, {"demo-nom": ("rest", time.time() - 900, [
        sample.Said("blabla bidule", "nlu_fallback", 0.2), "Je n'ai pas bien compris.",
        sample.Said(NAME_TEXT, "inform", 0.6, [(start, start + 10, "ants_number", "1A2B3C4D5E")]),
        ("slot", "citizen_name", "Jean Dupont"), ("slot", "ants_predemande", ["1A2B3C4D5E"]),
    ])}))
    return "demo-nom"


def _intent_select(page: str, event_id: int) -> str:
    return re.search(rf'<select id="intent-{event_id}" name="intent">(.*?)</select>', page, re.S).group(1)


def test_intent_select_opens_on_the_predicted_intent_or_on_none(app, tracker_url, named):
    client = client_for(app, "camille")
    page = client.get("/review/conversation?sender=demo-confus").text
    options = _intent_select(page, _event_id(tracker_url, "demo-confus", "jveu"))
    assert re.findall(r'<option value="(\w*)"[^>]*selected', options) == ["ask_procedure"]
    assert 'title="ask_procedure"' in options and "Démarche administrative</option>" in options
    page = client.get("/review/conversation?sender=demo-nom").text
    options = _intent_select(page, _event_id(tracker_url, "demo-nom", "blabla"))
    assert re.findall(r'<option value="(\w*)"[^>]*selected', options) == [""]  # a fallback: no intent chosen
    token = token_of(client)
    event_id = _event_id(tracker_url, "demo-nom", "blabla")
    page = client.post("/review/annotate", data={"csrf_token": token, "sender": "demo-nom", "event_id": event_id,
                                                 "intent": ""}).text
    assert "Choisissez une intention de la liste." in page  # saving without looking stores nothing
    with db.unit_of_work(app.state.database_url) as session:
        assert session.execute(select(MessageAnnotation)).first() is None


def test_canonical_values_come_from_the_contract(app, tracker_url):
    client = client_for(app, "camille")
    token = token_of(client)
    event_id = _event_id(tracker_url, "demo-piscine", "la piscine")
    page = client.get("/review/conversation?sender=demo-piscine").text
    value = re.search(rf'<select id="val-{event_id}-0" name="ent_value_0">(.*?)</select>', page, re.S).group(1)
    assert re.findall(r'<option value="(\w+)"[^>]*selected', value) == ["piscine"]
    assert '<optgroup label="Démarche">' in value and ">Médiathèque</option>" in value
    assert "<input" not in value
    base = {"csrf_token": token, "sender": "demo-piscine", "event_id": event_id, "intent": "ask_opening_hours",
            "ent_start_0": 3, "ent_end_0": 10, "ent_entity_0": "facility"}
    page = client.post("/review/annotate", data={**base, "ent_value_0": "<b>piscine</b>"}).text
    assert "La valeur choisie n&#39;est pas une valeur de l&#39;entité « Lieu ou service municipal »" in page
    client.post("/review/annotate", data={**base, "ent_value_0": "", "new_entity": "date", "new_text": "dimanche",
                                          "new_value": "passeport"})
    with db.unit_of_work(app.state.database_url) as session:
        note = session.execute(select(MessageAnnotation)).scalar_one()
        assert [(e["entity"], e["value"]) for e in note.entities] == [("facility", "piscine"), ("date", "dimanche")]


def test_personal_data_is_hidden_from_trainers_and_from_the_export(app, tracker_url, named, training_dir):
    client = client_for(app, "camille")
    page = client.get("/review/conversation?sender=demo-nom").text
    assert "Dupont" not in page and "1A2B3C4D5E" not in page
    token = token_of(client)
    event_id = _event_id(tracker_url, "demo-nom", "je suis")
    start = NAME_TEXT.index("1A2B3C4D5E")
    client.post("/review/annotate", data={"csrf_token": token, "sender": "demo-nom", "event_id": event_id,
                                          "intent": "inform", "ent_start_0": start, "ent_end_0": start + 10,
                                          "ent_entity_0": "ants_number", "ent_value_0": "••••••••••"})
    rdv = _event_id(tracker_url, "demo-rdv", "camille@")
    client.post("/review/annotate", data={"csrf_token": token, "sender": "demo-rdv", "event_id": rdv,
                                          "intent": "inform", "ent_start_0": 0, "ent_end_0": 19,
                                          "ent_entity_0": "email", "ent_value_0": "•••••••@•••••••.•••"})
    with db.unit_of_work(app.state.database_url) as session:
        notes = {n.sender_id: n for n in session.execute(select(MessageAnnotation)).scalars()}
        # the citizen's name and ANTS number are replaced before storage; no masked bullet is stored
        assert "Dupont" not in notes["demo-nom"].text and "1A2B3C4D5E" not in notes["demo-nom"].text
        assert notes["demo-nom"].entities[0]["value"] == "AB12CD34EF"
        assert notes["demo-rdv"].entities[0]["value"] == "camille@example.org"
        assert "•" not in json.dumps([n.entities for n in notes.values()])
        # an older history line written with a contact in clear
        session.add(AnnotationChange(sender_id="demo-rdv", event_id=rdv, changed_by="lou",
                                     summary="intention inform ; entités : phone « 06 12 34 56 78 »"))
    for sender in ("demo-nom", "demo-rdv"):
        page = client.get(f"/review/conversation?sender={sender}").text
        history = page[page.index("Historique des corrections"):]
        for secret in ("Dupont", "1A2B3C4D5E", "camille@example.org", "06 12 34 56 78"):
            assert secret not in history, secret
    client.post("/review/export", data={"csrf_token": token, "heldout": "1"})
    exported = (training_dir / "nlu" / "review_corrections.yml").read_text(encoding="utf-8")
    for secret in ("Dupont", "1A2B3C4D5E", "camille@example.org", "•"):
        assert secret not in exported, secret
    assert "[AB12CD34EF](ants_number)" in exported


def test_review_and_tag_a_conversation(app):
    client = client_for(app, "camille")
    token = token_of(client)
    client.post("/review/conversation/reviewed", data={"csrf_token": token, "sender": "demo-rdv", "reviewed": "1"})
    client.post("/review/conversation/tags", data={"csrf_token": token, "sender": "demo-rdv", "tag": "Prise de RDV"})
    client.post("/review/conversation/tags", data={"csrf_token": token, "sender": "demo-rdv", "tag": "Très urgent"})
    client.post("/review/conversation/tags", data={"csrf_token": token, "sender": "demo-rdv", "tag": "<b>x</b>"})
    page = client.get("/review/conversation?sender=demo-rdv").text
    assert "Relue par camille" in page and "prise-de-rdv" in page and "très-urgent" in page and "<b>x" not in page
    assert "1 conversation." in client.get("/review?reviewed=yes").text
    assert "3 conversations" in client.get("/review?reviewed=no").text
    assert "1 conversation." in client.get("/review?tag=prise-de-rdv").text
    client.post("/review/conversation/tags", data={"csrf_token": token, "sender": "demo-rdv", "remove": "prise-de-rdv"})
    with db.unit_of_work(app.state.database_url) as session:
        assert sorted(t.tag for t in session.execute(select(ConversationTag)).scalars()) == ["b-x-b", "très-urgent"]


def _annotate_samples(client, tracker_url):
    token = token_of(client)
    rdv = _event_id(tracker_url, "demo-rdv", "camille@")
    confus = _event_id(tracker_url, "demo-confus", "jveu")
    piscine = _event_id(tracker_url, "demo-piscine", "la piscine")
    client.post("/review/annotate", data={"csrf_token": token, "sender": "demo-rdv", "event_id": rdv,
                                          "intent": "inform", "ent_start_0": 0, "ent_end_0": 19,
                                          "ent_entity_0": "email", "ent_value_0": "camille@example.org"})
    client.post("/review/annotate", data={"csrf_token": token, "sender": "demo-confus", "event_id": confus,
                                          "intent": "ask_procedure", "destination": "test"})
    client.post("/review/annotate", data={"csrf_token": token, "sender": "demo-piscine", "event_id": piscine,
                                          "intent": "ask_opening_hours"})  # already written by hand
    return token


def test_export_writes_a_deduplicated_idempotent_file(app, tracker_url, project_root, training_dir):
    client = client_for(app, "camille")
    page = client.get("/review/training").text
    assert str(training_dir / "nlu" / "review_corrections.yml") in page and "TRAINING_DATA_GIT" in page
    token = _annotate_samples(client, tracker_url)
    response = client.post("/review/export", data={"csrf_token": token, "heldout": "1"})
    assert "1 exemple(s) d&#39;entraînement, 1 exemple(s) de test, 1 déjà présent(s)" in response.text
    assert f"Fichiers modifiés dans {training_dir}" in response.text
    training = training_dir / "nlu" / "review_corrections.yml"
    heldout = training_dir / "tests" / "heldout_review.yml"
    content = training.read_text(encoding="utf-8")
    data = yaml.safe_load(content)
    assert data["version"] == "3.1"
    assert data["nlu"] == [{"intent": "inform", "examples":
                            "- [camille.martin@example.org](email) ou 06 12 34 56 78\n"}]
    assert "camille@example.org" not in content
    assert yaml.safe_load(heldout.read_text())["nlu"][0]["intent"] == "ask_procedure"
    handwritten = (project_root / "data" / "nlu" / "handwritten.yml").read_text()
    client.post("/review/export", data={"csrf_token": token, "heldout": "1"})
    assert training.read_text(encoding="utf-8") == content  # idempotent
    assert (project_root / "data" / "nlu" / "handwritten.yml").read_text() == handwritten
    assert sorted(p.name for p in project_root.rglob("*.yml") if "domain" not in p.parts) == ["handwritten.yml"]


def test_export_opens_a_review_branch_in_the_training_repository(app, tracker_url, training_git):
    repo = training_git
    client = client_for(app, "camille")
    assert f"dépôt Git <code>{repo}</code>" in client.get("/review/training").text
    token = _annotate_samples(client, tracker_url)
    page = client.post("/review/export", data={"csrf_token": token, "heldout": "1"}).text
    branch = git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/review/")
    assert branch.endswith("-1")
    commit = git(repo, "rev-parse", branch)
    assert f"Dépôt Git {repo} : branche {branch}, commit {commit[:12]}" in page
    assert "camille.martin@example.org" in git(repo, "show", f"{branch}:nlu/review_corrections.yml")
    assert git(repo, "log", "-1", "--format=%an", branch) == "Outil de révision"
    assert git(repo, "branch", "--show-current") == "main"
    page = client.post("/review/export", data={"csrf_token": token, "heldout": "1"}).text
    assert "rien de nouveau, aucune branche créée" in page


def _report(score: float, date: float) -> str:
    return json.dumps({"intent_accuracy": score, "macro_f1": score, "entity_f1": {"date": date, "facility": 0.9},
                       "per_intent": {"greet": {"f1": 1.0}},
                       "perturbed": {"no_accents": {"intent_accuracy": score - 0.1, "n": 30, "gap_points": 10.0}}})


def _retrain(app, tmp_path, monkeypatch, new_date: float):
    models = tmp_path / "models"
    models.mkdir()
    (models / "current.tar.gz").write_bytes(b"old")
    monkeypatch.setenv("RASA_MODELS_DIR", str(models))
    monkeypatch.setenv("RETRAIN_REJECTED_DIR", str(tmp_path / "rejected"))
    monkeypatch.setattr(retrain.config, "PROJECT_ROOT", app.state.project_root)
    calls, loaded = [], []

    def run(cmd, cwd):
        calls.append(cmd)
        if "train" in cmd:
            Path(cmd[cmd.index("--out") + 1], cmd[cmd.index("--fixed-model-name") + 1] + ".tar.gz").write_bytes(b"new")
            return retrain.subprocess.CompletedProcess(cmd, 0, "trained", "")
        current = "current" in cmd[cmd.index("--model") + 1]
        return retrain.subprocess.CompletedProcess(cmd, 0, _report(0.80, 0.9) if current else _report(0.85, new_date), "")

    app.state.retrain_runner = retrain.Runner(run)
    app.state.retrain_loader = loaded.append
    app.state.retrain_served = lambda: "current.tar.gz"
    client = client_for(app, "camille")
    page = client.post("/review/retrain", data={"csrf_token": token_of(client)}).text
    assert "L&#39;entraînement a démarré" in page
    for _ in range(100):
        page = client.get("/review/training").text
        if "nouveau modèle en service" in page or "nouveau modèle refusé" in page:
            break
        time.sleep(0.1)
    return page, calls, loaded, models


def test_retrain_runs_in_the_background_and_shows_figures(app, tmp_path, monkeypatch, training_dir):
    page, calls, loaded, _ = _retrain(app, tmp_path, monkeypatch, new_date=0.9)
    assert "nouveau modèle en service" in page
    assert "0.800" in page and "0.850" in page and "Exactitude des intentions" in page
    assert "F1 de l&#39;entité « Date »" in page and "Exactitude des intentions, sans accents" in page
    assert "F1 de l&#39;intention « Salutation »" in page
    assert 'class="worse"' not in page and "Modèle comparé : <code>current.tar.gz</code>" in page
    assert loaded and loaded[0].name.startswith("review-")
    assert any("evaluate_nlu.py" in " ".join(c) for c in calls)


def test_a_model_whose_entity_f1_fell_is_refused_and_shown(app, tmp_path, monkeypatch, training_dir):
    page, _, loaded, models = _retrain(app, tmp_path, monkeypatch, new_date=0.87)
    assert "nouveau modèle refusé" in page and not loaded
    row = re.search(r'<tr class="worse">(.*?)</tr>', page, re.S).group(1)
    assert "F1 de l&#39;entité « Date »" in row and "0.900" in row and "0.870" in row and "refusé" in row
    assert page.count('<tr class="worse">') == 1
    assert [p.name for p in models.glob("*")] == ["current.tar.gz"]  # never served by a restart
    assert len(list((tmp_path / "rejected").glob("review-*.tar.gz"))) == 1


def test_dashboard_figures(app):
    page = client_for(app, "dominique").get("/review/dashboard").text
    assert "<strong>4</strong> conversations" in page
    assert "<strong>7</strong> messages de citoyens" in page
    assert "<strong>25 %</strong> de conversations avec une incompréhension" in page
    assert '<span title="ask_opening_hours">Horaires d&#39;ouverture</span> : 1' in page
    assert "« jveu un truc pr mon gamin a l ecole » (1 fois)" in page
    masked = client_for(app, "camille").get("/review/dashboard").text
    assert "camille@example.org" not in masked
