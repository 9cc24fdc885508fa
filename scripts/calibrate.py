"""Fit the answer/escalate model of bot/decide.py on a question file.

    python scripts/calibrate.py ../shared/eval/questions-dev.jsonl eval/questions-train.jsonl [--index var/index]

Logistic regression (L2, C=0.3, balanced classes) on standardized retrieval signals; label =
"the policy covers this question" (escalate == false). Prints the constants to paste into
bot/decide.py and the leave-one-out error rates (the honest estimate). Only generic signals go
in: nothing about particular questions. Never fit on eval/questions-heldout.jsonl: it is what
the README reports as held out.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.answer import clean_question, detect_language  # noqa: E402
from bot.decide import FEATURES, features  # noqa: E402
from index.store import load_searcher  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("questions", type=Path, nargs="+", help="one or more question files (pooled)")
    parser.add_argument("--index", type=Path, default=Path("var/index"))
    parser.add_argument("-C", type=float, default=0.3)
    parser.add_argument("--threshold", type=float, default=0.5)
    args = parser.parse_args()
    from sklearn.linear_model import LogisticRegression

    searcher = load_searcher(args.index)
    rows = [json.loads(line) for path in args.questions
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    x, y = [], []
    for row in rows:
        text = clean_question(row["q"])
        result = searcher.search(text, detect_language(text))
        x.append(features(result.signals))
        y.append(0 if row["escalate"] else 1)
    x_arr = np.asarray(x)
    means, scales = x_arr.mean(axis=0), x_arr.std(axis=0) + 1e-6
    model = LogisticRegression(C=args.C, class_weight="balanced").fit((x_arr - means) / scales, y)
    proba = model.predict_proba((x_arr - means) / scales)[:, 1]
    for row, p, feats in zip(rows, proba, x):
        flag = "" if (p >= 0.5) == (not row["escalate"]) else "  <-- wrong side"
        print(f"{row['id']:5} p={p:.2f} {dict(zip(FEATURES, np.round(feats, 3)))}{flag}", file=sys.stderr)
    y_arr = np.asarray(y)
    loo = np.zeros(len(y_arr))
    for i in range(len(y_arr)):  # leave-one-out: each question scored by a model fitted without it
        keep = np.arange(len(y_arr)) != i
        m, s = x_arr[keep].mean(axis=0), x_arr[keep].std(axis=0) + 1e-6
        fold = LogisticRegression(C=args.C, class_weight="balanced").fit((x_arr[keep] - m) / s, y_arr[keep])
        loo[i] = fold.predict_proba(((x_arr[i] - m) / s)[None])[0, 1]
    escalated = loo < args.threshold
    print(f"leave-one-out at {args.threshold}: in-scope escalated {escalated[y_arr == 1].mean():.3f}, "
          f"out-of-scope escalated {escalated[y_arr == 0].mean():.3f}", file=sys.stderr)
    r = lambda values: "(" + ", ".join(f"{v:.4f}" for v in values) + ")"  # noqa: E731
    print(f"MEANS = {r(means)}\nSCALES = {r(scales)}\nWEIGHTS = {r(model.coef_[0])}\nBIAS = {model.intercept_[0]:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
