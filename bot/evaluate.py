"""`policybot eval`: recall@1/@3, MRR and escalation accuracy on a question or conversation file
(DESIGN.md "Question files")."""
from __future__ import annotations

import json
from pathlib import Path

from bot.answerer import Answerer


def load_questions(path: Path) -> list[dict]:
    questions = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{lineno}: not JSON ({exc.msg})") from None
        if not isinstance(item, dict):
            raise ValueError(f"{path}:{lineno}: not a JSON object")
        if "turns" in item:  # a conversation: the last turn is scored, the earlier ones are its history
            turns = item["turns"]
            if not isinstance(turns, list) or not turns or not all(isinstance(t, str) for t in turns):
                raise ValueError(f"{path}:{lineno}: `turns` must be a non-empty list of questions")
            item = {**item, "q": turns[-1], "history": turns[:-1]}
        missing = {"id", "q", "gold", "escalate"} - set(item)
        if missing:
            raise ValueError(f"{path}:{lineno}: missing {', '.join(sorted(missing))}")
        questions.append(item)
    return questions


CONVERSATION_KINDS = ("followup", "switch", "oos-switch")


def hits_gold(clause_id: str, gold: list[str]) -> bool:
    """A citation hits gold G when its id equals G, lies inside G, or contains G."""
    return any(clause_id == g or clause_id.startswith(g + "-") or g.startswith(clause_id + "-") for g in gold)


def evaluate(answerer: Answerer, questions: list[dict]) -> dict:
    """recall@k and MRR measure the retrieval ranking (distinct passages, also for escalated
    in-scope questions, so a wrong escalation is counted once, under in_scope_escalated, not
    again as a miss). What an answer shows is measured apart: `cited_recall` (answered in-scope
    questions whose citations include a gold clause) and `citations_in_gold` (their precision)."""
    rows = []
    for q in questions:
        result = answerer.answer(q["q"], history=q.get("history", ()))
        ranked = list(result.record.ranking) if result.record is not None else []
        cited = [c.id for c in result.citations]
        first = next((i for i, cid in enumerate(ranked) if hits_gold(cid, q["gold"])), None)
        rows.append({
            "id": q["id"], "kind": q.get("kind"), "lang": q.get("lang"), "q": q["q"], "gold": q["gold"],
            "escalate": bool(q["escalate"]), "want_contact": bool(q.get("contact")),
            "status": result.status, "ranked": ranked, "cited": cited, "first_hit": first,
            "contact": result.contact is not None, "confidence": round(result.confidence, 3),
            "history": list(q.get("history", ())), "context": result.context_question,
        })
    inscope = [r for r in rows if not r["escalate"]]
    oos = [r for r in rows if r["escalate"]]
    english = [r for r in inscope if r["lang"] == "en"]
    pasted = [r for r in inscope if r["kind"] == "pasted"]
    answered = [r for r in inscope if r["status"] == "answered"]
    cited = sum(len(r["cited"]) for r in answered)

    def recall(rs: list[dict], k: int) -> float:
        return _ratio(sum(r["first_hit"] is not None and r["first_hit"] < k for r in rs), len(rs))

    return {
        "questions": len(rows),
        "in_scope": len(inscope),
        "recall@1": recall(inscope, 1),
        "recall@3": recall(inscope, 3),
        "mrr": _ratio(sum(1 / (r["first_hit"] + 1) for r in inscope if r["first_hit"] is not None), len(inscope)),
        "english_recall@3": recall(english, 3),
        "pasted_recall@3": recall(pasted, 3),
        "out_of_scope_escalated": _ratio(sum(r["status"] == "escalated" for r in oos), len(oos)),
        "in_scope_escalated": _ratio(sum(r["status"] == "escalated" for r in inscope), len(inscope)),
        "contact_set_when_expected": _ratio(sum(r["contact"] for r in rows if r["want_contact"]),
                                            sum(r["want_contact"] for r in rows)),
        # How many clauses an answer quotes, and the share of them in gold (a lower bound on
        # precision: gold lists name the clauses that answer, not every one that is relevant).
        "citations_per_answer": _ratio(cited, len(answered)),
        "citations_in_gold": _ratio(sum(hits_gold(cid, r["gold"]) for r in answered for cid in r["cited"]), cited),
        "cited_recall": _ratio(sum(any(hits_gold(cid, r["gold"]) for cid in r["cited"]) for r in answered),
                               len(answered)),
        **(_conversation_figures(rows, recall) if any("turns" in q for q in questions) else {}),
        "rows": rows,
    }


def _conversation_figures(rows: list[dict], recall) -> dict:
    """Conversation files: the last turn by kind — follow-ups (need the earlier turn), switches
    (a new in-scope question: must not be pulled back to the earlier topic), off-topic switches
    (must be escalated) — and how often the earlier turn was taken as context."""
    by_kind = {kind: [r for r in rows if r["kind"] == kind] for kind in CONVERSATION_KINDS}
    return {
        "conversation": True,
        "followup_recall@1": recall(by_kind["followup"], 1),
        "followup_recall@3": recall(by_kind["followup"], 3),
        "switch_recall@3": recall(by_kind["switch"], 3),
        "oos_switch_escalated": _ratio(sum(r["status"] == "escalated" for r in by_kind["oos-switch"]),
                                       len(by_kind["oos-switch"])),
        "followup_context_used": _ratio(sum(r["context"] is not None for r in by_kind["followup"]),
                                        len(by_kind["followup"])),
        "switch_context_used": _ratio(sum(r["context"] is not None for r in by_kind["switch"]),
                                      len(by_kind["switch"])),
    }


def _ratio(n: float, d: int) -> float:
    return round(n / d, 4) if d else 1.0


def format_report(report: dict, verbose: bool = False) -> str:
    lines = [
        f"questions           {report['questions']} ({report['in_scope']} in scope)",
        f"recall@1            {report['recall@1']:.3f}",
        f"recall@3            {report['recall@3']:.3f}   (English {report['english_recall@3']:.3f}, "
        f"pasted {report['pasted_recall@3']:.3f})",
        f"MRR                 {report['mrr']:.3f}",
        f"out-of-scope escalated {report['out_of_scope_escalated']:.3f}",
        f"in-scope escalated  {report['in_scope_escalated']:.3f}",
        f"contact when expected {report['contact_set_when_expected']:.3f}",
        f"citations per answer {report['citations_per_answer']:.2f}   ({report['citations_in_gold']:.0%} in gold; "
        f"{report['cited_recall']:.0%} of answers cite a gold clause)",
    ]
    if report.get("conversation"):
        lines += [
            f"follow-ups          recall@1 {report['followup_recall@1']:.3f}  recall@3 {report['followup_recall@3']:.3f}"
            f"   (read with the earlier turn {report['followup_context_used']:.0%})",
            f"switches            recall@3 {report['switch_recall@3']:.3f}   (read with the earlier turn "
            f"{report['switch_context_used']:.0%})",
            f"off-topic switches escalated {report['oos_switch_escalated']:.3f}",
        ]
    if "seconds" in report:
        lines.append(f"time                {report['seconds']:.1f}s")
    for r in report["rows"]:
        wrong = (r["escalate"] != (r["status"] == "escalated")) or (not r["escalate"] and (r["first_hit"] is None or r["first_hit"] >= 3)) \
            or (r["want_contact"] and not r["contact"])
        if verbose or wrong:
            mark = "MISS" if wrong else "ok  "
            lines.append(f"{mark} {r['id']:5} {r['status']:9} conf={r['confidence']:.2f} top={r['ranked'][:3]} cited={r['cited']} "
                         f"gold={r['gold']} {r['q'][:40]}" + (f"  [after: {r['context'][:30]}]" if r.get("context") else ""))
    return "\n".join(lines)
