"""Play short conversations against a running assistant (REST channel) and write them as Markdown.

    .venv/bin/python scripts/transcripts.py [--url http://localhost:5005] [--out docs/conversations.md]

Each conversation uses a fresh sender id, so the transcripts show what a citizen really gets.
"""
from __future__ import annotations

import argparse
import json
import uuid
from datetime import datetime
from pathlib import Path

import httpx

CONVERSATIONS: dict[str, list[str]] = {
    "Salutation (greet) et aide (help)": ["bonjour", "vous pouvez m'aider a quoi ?"],
    "Horaires (ask_opening_hours), avec une question de suivi": ["la piscine est ouverte dimanche ?", "et le samedi ?"],
    "Horaires, sans équipement précisé": ["c'est ouvert là ?", "/inform{\"facility\":\"mairie\"}"],
    "Adresse (ask_address)": ["c'est où la déchèterie ?"],
    "Contact (ask_contact)": ["le numéro du CCAS svp"],
    "Démarche (ask_procedure)": ["quels papiers pour refaire ma carte d'identité ?"],
    "Collecte des déchets (ask_waste_collection)": ["quand passent les encombrants ?", "rue Pasteur"],
    "Alertes (ask_alerts)": ["il y a des travaux en ce moment ?"],
    "Parler à une personne (request_human)": ["je veux parler à un agent"],
    "Remarque (give_feedback)": ["votre accueil téléphonique est catastrophique"],
    "Données personnelles (privacy_request)": ["quelles données vous gardez sur moi ?", "non"],
    "Hors sujet (out_of_scope)": ["commande-moi une pizza"],
    "Robot ? (bot_challenge)": ["je parle à un robot ?"],
    "Remerciements et au revoir (thank, goodbye)": ["merci beaucoup", "au revoir"],
    "Prise de rendez-vous (book_appointment)": [
        "je voudrais un rendez-vous pour une carte d'identité", "7A2B3C4D5E", "1", "mardi prochain",
        "/inform{\"time\":\"10:00\"}", "Camille Martin", "camille.martin@example.org", "oui",
    ],
    "Signalement (report_incident)": [
        "il y a un nid de poule énorme rue Pasteur", "Un trou profond sur la chaussée devant la boulangerie.",
        "non", "non", "oui",
    ],
    "Suivi d'un signalement (check_report_status)": ["où en est mon signalement SIG-DEMGR4 ?"],
    "Urgence (report_incident, détournée vers les secours)": ["ça sent le gaz très fort dans ma rue"],
    "Annulation avec une mauvaise référence (cancel_appointment)": [
        "je veux annuler mon rendez-vous RDV-7K3F9Q", "camille.martin@example.org",
    ],
}


def render_reply(reply: dict) -> list[str]:
    lines = []
    if reply.get("text"):
        lines += [f"> **Assistant** : {line}" if i == 0 else f"> {line}" for i, line in enumerate(reply["text"].split("\n"))]
    if reply.get("buttons"):
        lines.append("> " + " · ".join(f"[{b.get('title')}]" for b in reply["buttons"]))
    if reply.get("image"):
        lines.append(f"> (image : {reply['image']})")
    if reply.get("attachment"):
        lines.append(f"> (pièce jointe : {json.dumps(reply['attachment'], ensure_ascii=False)})")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://localhost:5005")
    parser.add_argument("--out", default="docs/conversations.md")
    parser.add_argument("--stack", action="store_true",
                        help="start a temporary stack (newest model, demo data) instead of using --url")
    args = parser.parse_args()
    if args.stack:
        import sys

        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from tests.e2e.stack import Stack

        with Stack(demo_data=True) as stack:
            args.url = stack.rasa_url
            write(args)
    else:
        write(args)


def write(args) -> None:
    out = [
        "# Conversations réelles avec l'assistant",
        "",
        f"Produites par `scripts/transcripts.py` contre l'assistant en marche (données de démonstration), "
        f"le {datetime.now():%d/%m/%Y à %H:%M}.",
        "",
    ]
    with httpx.Client(timeout=30) as client:
        for title, messages in CONVERSATIONS.items():
            sender = f"transcript-{uuid.uuid4().hex[:8]}"
            out += [f"## {title}", ""]
            for message in messages:
                out.append(f"**Citoyen** : {message}")
                out.append("")
                replies = client.post(f"{args.url}/webhooks/rest/webhook", json={"sender": sender, "message": message}).json()
                for reply in replies:
                    out += render_reply(reply)
                    out.append(">")
                if out[-1] == ">":
                    out.pop()
                out.append("")
    Path(args.out).write_text("\n".join(out) + "\n", encoding="utf-8")
    print(f"écrit : {args.out}")


if __name__ == "__main__":
    main()
