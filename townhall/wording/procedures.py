"""Administrative procedures in French: documents, cost, delay, and the offer to book."""
from __future__ import annotations

from townhall.wording import Reply


def answer(procedure, asked: str | None) -> list[str | Reply]:
    """What to bring, what it costs, how long it takes; ``asked`` ("delay", "cost") comes first."""
    documents = "\n".join(f"- {d}" for d in (procedure.documents or []))
    if asked == "delay":  # "combien de temps pour avoir mon passeport ?": the delay first
        messages: list[str | Reply] = [
            f"Délai pour la démarche « {procedure.name} » : {procedure.delay}.",
            f"Coût : {procedure.cost}.\nPièces à fournir :\n{documents}",
        ]
    elif asked == "cost":
        messages = [
            f"Coût de la démarche « {procedure.name} » : {procedure.cost}.",
            f"Délai : {procedure.delay}.\nPièces à fournir :\n{documents}",
        ]
    else:
        messages = [
            f"Démarche « {procedure.name} » : voici ce qu'il faut fournir.\n{documents}",
            f"Coût : {procedure.cost}.\nDélai : {procedure.delay}.",
        ]
    if procedure.notes:
        messages.append(procedure.notes)
    messages.append(f"La fiche officielle sur service-public.fr : {procedure.url}")
    if procedure.needs_appointment:
        messages.append(Reply(
            "Cette démarche se fait sur rendez-vous en mairie. Voulez-vous prendre rendez-vous ?",
            [
                {"title": "Prendre rendez-vous", "payload": f'/book_appointment{{"procedure":"{procedure.code}"}}'},
                {"title": "Non merci", "payload": "/deny"},
            ],
        ))
    return messages
