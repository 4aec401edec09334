"""The review tool: inbox, conversation view, annotation, export, retraining, dashboard.

Roles: reading conversations and the dashboard: admin, trainer, agent (contacts are masked
for trainers); annotating, exporting and retraining: admin, trainer.
"""
from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData

from backoffice.auth import StaffIdentity, flash, redirect, render, require_login, require_role, verify_csrf
from backoffice.deps import MAX_DATABASE_INT
from conversation_store import open_store
from townhall import codes, config, db, references
from townhall.masking import mask_contacts
from townhall.review import annotations as notes
from townhall.review import conversations as conv
from townhall.review import dashboard as dash
from townhall.review import export as exporter
from townhall.review import labels, retrain, vocabulary
from townhall.review.models import RetrainJob
from townhall.text import fold

router = APIRouter(prefix="/review", dependencies=[Depends(verify_csrf)])
require_trainer = require_role("trainer")
PAGE_SIZE = 50
_vocabulary: notes.Vocabulary | None = None
REFERENCE = re.compile(r"\b(?:RDV|SIG)-[A-Z2-9]{6}\b")


def vocab() -> notes.Vocabulary:
    """The domain's intents and entities, read once."""
    global _vocabulary
    if _vocabulary is None:
        _vocabulary = vocabulary.load()
    return _vocabulary


def _conversations(request: Request) -> conv.ConversationStore:
    return open_store(request.app.state.tracker_url)


def _date(text: str | None) -> date | None:
    try:
        day = date.fromisoformat(text.strip()) if text else None
    except ValueError:
        return None
    return day if day is not None and 1970 <= day.year <= 2200 else None  # tracker times are epoch seconds


def _event_id(value) -> int:
    """A message's id from a form: ASCII digits within the database's range, else 0 (not found)."""
    text = str(value or "").strip()
    if not re.fullmatch(r"[0-9]{1,18}", text):
        return 0
    number = int(text)
    return number if number <= MAX_DATABASE_INT else 0


def _url(sender_id: str) -> str:
    from urllib.parse import quote

    return "/review/conversation?sender=" + quote(sender_id, safe="")


@router.get("", response_class=HTMLResponse)
def inbox(request: Request, start: str | None = None, end: str | None = None, channel: str | None = None,
          intent: str | None = None, low: str | None = None, fallback: str | None = None,
          handoff: str | None = None, reviewed: str | None = None, tag: str | None = None,
          q: str | None = None, sort: str = "newest", page: int = 1,
          user: StaffIdentity = Depends(require_login)):
    flt = conv.InboxFilter(start=_date(start), end=_date(end), channel=channel or None, intent=intent or None,
                           low_confidence=bool(low), fallback=bool(fallback), handoff=bool(handoff),
                           reviewed=reviewed if reviewed in ("yes", "no") else None, tag=tag or None,
                           query=(q or "")[:200] or None, sort="confidence" if sort == "confidence" else "newest",
                           masked=user.masks_contacts)
    with db.unit_of_work(request.app.state.database_url) as session:
        done = notes.reviewed_conversations(session)
        tags = notes.tags_by_conversation(session)
        all_tags = notes.all_tags(session)
    items = conv.inbox(_conversations(request), flt, done, tags)
    pages = max(1, (len(items) + PAGE_SIZE - 1) // PAGE_SIZE)
    page = min(max(1, page), pages)
    shown = items[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    rows = [{"summary": s, "url": _url(s.sender_id),
             "first_text": (s.masked_first_text if user.masks_contacts else s.first_text)[:160],
             "reviewed": s.sender_id in done, "tags": sorted(tags.get(s.sender_id, ()))} for s in shown]
    query = {k: v for k, v in request.query_params.items() if k != "page"}
    return render(request, "review/inbox.html", rows=rows, total=len(items), page=page, pages=pages, flt=flt,
                  params=query, channels=conv.channels(_conversations(request)),
                  tags=all_tags, low_threshold=conv.LOW_CONFIDENCE, **_choices())


def _segments(text: str, entities: list[dict]) -> list[dict]:
    """The message split into plain text and highlighted entities."""
    parts, cursor = [], 0
    for e in sorted(entities, key=lambda e: e["start"]):
        if e["start"] < cursor:
            continue
        if e["start"] > cursor:
            parts.append({"text": text[cursor:e["start"]]})
        parts.append({"text": text[e["start"]:e["end"]], "entity": e["entity"], "value": e.get("value")})
        cursor = e["end"]
    if cursor < len(text):
        parts.append({"text": text[cursor:]})
    return parts


@router.get("/conversation", response_class=HTMLResponse)
def conversation(request: Request, sender: str, user: StaffIdentity = Depends(require_login)):
    masked = user.masks_contacts
    turns = conv.conversation(_conversations(request), sender, masked=masked)  # texts cut and masked once
    if not turns:
        raise HTTPException(404, detail="Cette conversation n'existe pas ou a été supprimée.")
    with db.unit_of_work(request.app.state.database_url) as session:
        saved = notes.annotations_of(session, sender)
        review = notes.conversation_review(session, sender)
        tags = sorted(notes.tags_by_conversation(session).get(sender, ()))
        changes = [{"changed_at": c.changed_at, "changed_by": c.changed_by,
                    "summary": mask_contacts(c.summary) if masked else c.summary}
                   for c in notes.history(session, sender)[:30]]
    mask = lambda t: t  # noqa: E731 (texts are already masked by conv.conversation)
    items, found_refs = [], set()
    for turn in turns:
        item = {"turn": turn}
        if turn.kind == "user":
            m = turn.message
            note = saved.get(turn.event_id)
            entities = note.entities if note else m.entities
            item.update(text=mask(m.text), segments=[{**s, "text": mask(s["text"]),
                                                      "value": conv.mask_value(s.get("value")) if masked else s.get("value")}
                                                     for s in _segments(m.text, entities)],
                        note=note, entities=[{**e, "text": mask(m.text[e["start"]:e["end"]]),
                                              "value": conv.mask_value(e.get("value")) if masked else e.get("value")}
                                             for e in entities],
                        predicted=[f"{labels.entity(e['entity'])} = {labels.value(e['entity'], mask(str(e.get('value'))))}"
                                   for e in m.entities],
                        low=m.confidence is not None and m.confidence < conv.LOW_CONFIDENCE)
            found_refs.update(REFERENCE.findall(m.text.upper()))
        elif turn.kind == "bot":
            item["text"] = mask(turn.text)
            found_refs.update(REFERENCE.findall(turn.text or ""))
        elif turn.kind == "slot":
            item["value"] = turn.value
            if turn.name == "reference" and isinstance(turn.value, str) and references.parse(turn.value):
                found_refs.add(references.parse(turn.value))
        items.append(item)
    slots = conv.final_slots(turns)
    links = []
    for ref in sorted(found_refs):
        if user.role in ("admin", "agent"):
            url = f"/staff/reports/{ref}" if ref.startswith("SIG") else f"/staff/appointments?reference={ref}"
        else:
            url = None
        links.append({"reference": ref, "url": url, "kind": "signalement" if ref.startswith("SIG") else "rendez-vous"})
    return render(request, "review/conversation.html", sender=sender, items=items, slots=slots,
                  active_form=conv.active_form(turns), review=review, tags=tags, links=links, changes=changes,
                  can_annotate=user.role in ("admin", "trainer"), self_url=_url(sender), **_choices())


def _choices() -> dict:
    """The names staff choose from, each with its French label (the code goes in a title)."""
    return {"labels": labels, "canonical": codes.BY_KIND,
            "intents": sorted(vocab().intents, key=lambda i: fold(labels.intent(i))),
            "entity_names": sorted(vocab().entities, key=lambda e: fold(labels.entity(e)))}


def _entities_from_form(form: FormData, text: str) -> list[dict]:
    """Existing rows (kept, fixed or deleted) plus the new entity selected in the text."""
    result = []
    for i in range(100):
        if f"ent_start_{i}" not in form:
            break
        if form.get(f"ent_delete_{i}"):
            continue
        result.append({"start": form.get(f"ent_start_{i}"), "end": form.get(f"ent_end_{i}"),
                       "entity": form.get(f"ent_entity_{i}"), "value": form.get(f"ent_value_{i}")})
    new_entity = form.get("new_entity")
    if new_entity:
        start, end = form.get("new_start"), form.get("new_end")
        fragment = str(form.get("new_text") or "")
        if start and end and re.fullmatch(r"[0-9]{1,9}", str(start)) and re.fullmatch(r"[0-9]{1,9}", str(end)):
            span = (int(start), int(end))
        else:
            span = notes.locate(text, fragment)
            if span is None:
                raise notes.AnnotationError("Le texte de la nouvelle entité ne figure pas dans le message.")
        result.append({"start": span[0], "end": span[1], "entity": new_entity, "value": form.get("new_value")})
    return result


@router.post("/annotate")
async def annotate(request: Request, user: StaffIdentity = Depends(require_trainer)):
    form = await request.form()
    sender = str(form.get("sender") or "")
    event_id = _event_id(form.get("event_id"))
    message = conv.user_message(_conversations(request), sender, event_id)
    if message is None:
        raise HTTPException(404, detail="Ce message n'existe pas ou a été supprimé.")
    names = notes.names_in((t.name, t.value) for t in conv.conversation(_conversations(request), sender) if t.kind == "slot")
    try:
        entities = _entities_from_form(form, message.text)
        with db.unit_of_work(request.app.state.database_url) as session:
            notes.annotate(session, message, intent=str(form.get("intent") or ""), entities=entities,
                           out_of_scope=bool(form.get("out_of_scope")), reviewed=bool(form.get("reviewed")),
                           destination=str(form.get("destination") or "train"), by=str(user), vocabulary=vocab(),
                           names=names)
    except notes.AnnotationError as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, "L'annotation est enregistrée.")
    return redirect(_url(sender) + f"#m{event_id}")


@router.post("/unannotate")
def unannotate(request: Request, sender: str = Form(""), event_id: str = Form("0"),
               user: StaffIdentity = Depends(require_trainer)):
    event_id = _event_id(event_id)
    with db.unit_of_work(request.app.state.database_url) as session:
        notes.remove_annotation(session, sender, event_id, str(user))
    flash(request, "L'annotation est supprimée.")
    return redirect(_url(sender) + f"#m{event_id}")


@router.post("/conversation/reviewed")
def mark_reviewed(request: Request, sender: str = Form(""), reviewed: str = Form("1"),
                  user: StaffIdentity = Depends(require_trainer)):
    if not conv.conversation(_conversations(request), sender):
        raise HTTPException(404, detail="Cette conversation n'existe pas ou a été supprimée.")
    with db.unit_of_work(request.app.state.database_url) as session:
        notes.mark_conversation(session, sender, reviewed == "1", str(user))
    flash(request, "La conversation est marquée comme relue." if reviewed == "1" else "La conversation est à relire.")
    return redirect(_url(sender))


@router.post("/conversation/tags")
def add_tag(request: Request, sender: str = Form(""), tag: str = Form(""), remove: str = Form(""),
            user: StaffIdentity = Depends(require_trainer)):
    try:
        with db.unit_of_work(request.app.state.database_url) as session:
            if remove:
                notes.remove_tag(session, sender, remove)
            else:
                notes.add_tag(session, sender, tag, str(user))
    except notes.AnnotationError as exc:
        flash(request, str(exc), "error")
    return redirect(_url(sender))


def _metrics(job: RetrainJob) -> list[retrain.Comparison]:
    """Every figure the gate compared, before and after (refused ones flagged)."""
    before = json.loads(job.metrics_before) if job.metrics_before else None
    after = json.loads(job.metrics_after) if job.metrics_after else None
    return retrain.compare(before, after) if before or after else []


@router.get("/training", response_class=HTMLResponse)
def training(request: Request, user: StaffIdentity = Depends(require_trainer)):
    from sqlalchemy import func, select

    from townhall.review.models import MessageAnnotation

    with db.unit_of_work(request.app.state.database_url) as session:
        jobs = retrain.recent_jobs(session)
        counts = dict(session.execute(select(MessageAnnotation.destination, func.count())
                                      .group_by(MessageAnnotation.destination)).all())
        jobs = [{"job": j, "metrics": _metrics(j), "before_name": j.model_before and Path(j.model_before).name,
                 "after_name": j.model_after and Path(j.model_after).name} for j in jobs]
    running = any(j["job"].status in retrain.RUNNING for j in jobs)
    folder = config.training_data_dir()
    return render(request, "review/training.html", jobs=jobs, running=running, counts=counts, folder=folder,
                  training_file=folder / exporter.TRAINING_FILE, heldout_file=folder / exporter.HELDOUT_FILE,
                  git_repo=config.training_data_git())


@router.post("/export")
def export(request: Request, heldout: str = Form(""), user: StaffIdentity = Depends(require_trainer)):
    with db.unit_of_work(request.app.state.database_url) as session:
        result = exporter.export(session, root=getattr(request.app.state, "project_root", None),
                                 include_heldout=bool(heldout), intents=set(vocab().intents))
    message = result.summary()
    if result.conflicts:
        message += " Conflits ignorés : " + " ; ".join(result.conflicts[:5])
    flash(request, message, "error" if result.conflicts or result.git_error else "info")
    return redirect("/review/training")


@router.post("/retrain")
def start_retrain(request: Request, user: StaffIdentity = Depends(require_trainer)):
    runner = getattr(request.app.state, "retrain_runner", None)
    loader = getattr(request.app.state, "retrain_loader", None) or retrain.load_into_rasa
    served = getattr(request.app.state, "retrain_served", None)
    try:
        retrain.start(request.app.state.database_url, str(user), runner=runner, loader=loader, served=served)
    except retrain.AlreadyRunning:
        flash(request, "Un entraînement est déjà en cours.", "error")
    else:
        flash(request, "L'entraînement a démarré. Cette page se met à jour toute seule.")
    return redirect("/review/training")


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, days: int = 30, user: StaffIdentity = Depends(require_login)):
    days = min(max(days, 1), 365)
    with db.unit_of_work(request.app.state.database_url) as session:
        figures = dash.figures(_conversations(request), session, days=days)
    if user.masks_contacts:
        figures.unanswered = [(conv.mask_contacts(t), n) for t, n in figures.unanswered]
    peak = max([m for _, _, m in figures.days] + [1])
    return render(request, "review/dashboard.html", f=figures, days=days, peak=peak, labels=labels)
