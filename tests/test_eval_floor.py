"""Quality floors on the issued policy text: the shared dev questions, our training set (the
decision was calibrated on dev + train) and our held-out set (never fitted on). A retrieval or
calibration regression fails here.

Each floor sits one question below what `policybot eval` measured when it was set (2026-11-30;
README "Quality"), so losing one more question fails. Raise them when quality improves; never
lower them to let a change through without saying why in the commit.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.evaluate import evaluate, format_report, load_questions

pytestmark = pytest.mark.model  # the quality floors of the real model

REPO = Path(__file__).resolve().parents[1]
QUESTION_FILES = {
    "dev": REPO.parent / "shared" / "eval" / "questions-dev.jsonl",
    "train": REPO / "eval" / "questions-train.jsonl",
    "heldout": REPO / "eval" / "questions-heldout.jsonl",
    # conversations: the last turn is scored, read with the earlier turns (bot/followup.py)
    "conv-dev": REPO.parent / "shared" / "eval" / "conversations-dev.jsonl",
    "conv-train": REPO / "eval" / "conversations-train.jsonl",
    "conv-heldout": REPO / "eval" / "conversations-heldout.jsonl",
}

# measured 2026-11-30 (in-scope / out-of-scope questions: dev 34/6, train 48/12, held-out 64/16):
# dev R@1 0.794 R@3 0.882 EN R@3 0.714 OOS escalated 1.0 in-scope escalated 0.0 contact 1.0
#     citations in gold 0.67, answers citing gold 0.82 (3 pasted questions: no floor of its own)
# train R@1 0.583 R@3 0.750 EN R@3 0.812 pasted R@3 0.667 OOS 0.917 in-scope escalated 0.208
# held-out R@1 0.500 R@3 0.766 EN R@3 0.737 pasted R@3 0.583 OOS 0.750 in-scope escalated 0.234 contact 0.6
# (OOS raised 2026-11-30: figures the policy does not state are escalated, bot/figures.py)
AT_LEAST = {
    ("dev", "recall@1"): 0.76,
    ("dev", "recall@3"): 0.85,
    ("dev", "english_recall@3"): 0.57,
    ("dev", "out_of_scope_escalated"): 0.83,
    ("dev", "contact_set_when_expected"): 0.83,
    ("dev", "citations_in_gold"): 0.64,
    ("dev", "cited_recall"): 0.79,
    ("train", "recall@1"): 0.56,
    ("train", "recall@3"): 0.72,
    ("train", "english_recall@3"): 0.75,
    ("train", "pasted_recall@3"): 0.55,
    ("train", "out_of_scope_escalated"): 0.83,
    ("heldout", "recall@1"): 0.48,
    ("heldout", "recall@3"): 0.75,
    ("heldout", "english_recall@3"): 0.68,
    ("heldout", "pasted_recall@3"): 0.5,
    ("heldout", "out_of_scope_escalated"): 0.68,
    ("heldout", "contact_set_when_expected"): 0.5,
    # conversations, measured 2026-11-30 (follow-ups / switches / off-topic switches: dev 11/1/1,
    # train 10/3/3, held-out 15/5/4): dev follow-up R@3 1.0, switch R@3 1.0, off-topic switch
    # escalated 1.0 (acceptance: these two stay at 1.0); train 0.9 / 0.667 / 1.0; held-out
    # 0.733 / 0.8 / 1.0 (never tuned on; the off-topic switch that was answered asked for a figure)
    ("conv-dev", "followup_recall@3"): 0.9,
    ("conv-dev", "switch_recall@3"): 1.0,
    ("conv-dev", "oos_switch_escalated"): 1.0,
    ("conv-dev", "recall@3"): 0.91,
    ("conv-dev", "contact_set_when_expected"): 0.5,
    ("conv-train", "followup_recall@3"): 0.8,
    ("conv-train", "oos_switch_escalated"): 0.66,
    ("conv-heldout", "followup_recall@3"): 0.66,
    ("conv-heldout", "switch_recall@3"): 0.6,
    ("conv-heldout", "oos_switch_escalated"): 0.75,
}
AT_MOST = {
    ("dev", "in_scope_escalated"): 0.03,
    ("train", "in_scope_escalated"): 0.23,
    ("heldout", "in_scope_escalated"): 0.25,
}


@pytest.fixture(scope="module")
def reports(real_model) -> dict[str, dict]:
    out = {}
    for name, path in QUESTION_FILES.items():
        if path.is_file():
            questions = load_questions(path)
            assert questions, f"{path} holds no questions"
            out[name] = evaluate(real_model.answerer, questions)
    return out


@pytest.fixture()
def report(reports) -> dict:
    if "dev" not in reports:
        pytest.skip(f"dev question file not found: {QUESTION_FILES['dev']} (it lives in the shared checkout)")
    return reports["dev"]


def _pick(reports: dict, name: str) -> dict:
    if name not in reports:
        pytest.skip(f"no {name} question file")
    return reports[name]


def test_the_report_covers_every_kind_of_question(report):
    kinds = {row["kind"] for row in report["rows"]}
    assert {"direct", "english", "rights", "oos"} <= kinds
    assert report["questions"] == len(report["rows"]) and 0 < report["in_scope"] < report["questions"]


@pytest.mark.parametrize("which, floor", sorted(AT_LEAST.items()))
def test_metric_stays_above_its_floor(reports, which, floor):
    name, metric = which
    report = _pick(reports, name)
    assert report[metric] >= floor, f"{name} {metric} {report[metric]:.3f} < {floor}\n{format_report(report)}"


@pytest.mark.parametrize("which, ceiling", sorted(AT_MOST.items()))
def test_metric_stays_below_its_ceiling(reports, which, ceiling):
    name, metric = which
    report = _pick(reports, name)
    assert report[metric] <= ceiling, f"{name} {metric} {report[metric]:.3f} > {ceiling}\n{format_report(report)}"
