"""An Answer as the JSON answer object of the CLI contract (DESIGN.md), for `ask --json`.

The core's Answer holds facts only; the object's wording (`answer`: the plain text of
bot/render/text.py) and its draft link (`contact.mailto`) are filled in here, at the edge.
"""
from __future__ import annotations

from typing import Any

from bot.answer import Answer, Citation
from bot.render.mailto import answer_mailto
from bot.render.text import render_text


def answer_json(answer: Answer) -> dict[str, Any]:
    """The answer object: question, status, plain-text answer, citations, contact, and the rest."""
    return {
        "question": answer.question,
        "status": answer.status,
        "answer": render_text(answer),
        "citations": [citation_json(c) for c in answer.citations],
        "contact": {"email": answer.contact.email, "mailto": answer_mailto(answer)} if answer.contact else None,
        "lang": answer.lang,
        "revision": answer.revision,
        "confidence": round(answer.confidence, 4),
        "related": [citation_json(c) for c in answer.related],
        "context_question": answer.context_question,
    }


def citation_json(citation: Citation) -> dict[str, Any]:
    """One quoted clause: where it is, its verbatim text, its score, its paragraph's lead (柱書)."""
    return {"id": citation.id, "label": citation.label, "article": citation.article,
            "paragraph": citation.paragraph, "item": citation.item, "title": citation.title,
            "text": citation.text, "score": round(citation.score, 4), "lead": citation.lead}
