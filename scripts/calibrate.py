"""Fit the answer/escalate model of bot/decide.py and write it to bot/calibration.json.

    python scripts/calibrate.py ../shared/eval/questions-dev.jsonl eval/questions-train.jsonl [--index var/index]

Logistic regression (L2, C=0.3, balanced classes) on standardized retrieval signals; label =
"the policy covers this question" (escalate == false). Writes the calibration file that
bot/decide.py loads (features, means, scales, weights, intercept, threshold, the fit date, the
question files with their sha256, the leave-one-out error rates: the honest estimate) and prints
the leave-one-out figures. Only generic signals go in: nothing about particular questions. Never
fit on eval/questions-heldout.jsonl: it is what the README reports as held out. Needs
scikit-learn (`pip install -e '.[calibrate]'`) and an index built from the current policy.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from datetime import date
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.calibration import CALIBRATION_PATH, Calibration, FittedFile, LeaveOneOut, write_calibration  # noqa: E402

HELD_OUT = "questions-heldout.jsonl"
DECIMALS = 4  # the fit is not more precise than this; fixed digits keep the file stable across refits


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("questions", type=Path, nargs="+", help="one or more question files (pooled)")
    parser.add_argument("--index", type=Path, default=Path("var/index"))
    parser.add_argument("--out", type=Path, default=CALIBRATION_PATH, help="calibration file to write "
                        f"(default: {CALIBRATION_PATH.relative_to(REPO)})")
    parser.add_argument("-C", type=float, default=0.3)
    parser.add_argument("--threshold", type=float, default=0.5)
    args = parser.parse_args()
    if any(path.name == HELD_OUT for path in args.questions):
        parser.error(f"{HELD_OUT} is the held-out set the README reports: never fit on it")

    from bot.decide import FEATURES  # the features the decision reads today

    rows = question_rows(args.questions)
    x, y = signal_matrix(args.index, rows), np.asarray([0 if row["escalate"] else 1 for row in rows])
    means, scales, weights, intercept = fit(x, y, args.C)
    proba = probabilities(x, means, scales, weights, intercept)
    for row, p, feats in zip(rows, proba, x):
        flag = "" if (p >= args.threshold) == (not row["escalate"]) else "  <-- wrong side"
        print(f"{row['id']:5} p={p:.2f} {dict(zip(FEATURES, np.round(feats, 3)))}{flag}", file=sys.stderr)
    loo = leave_one_out(x, y, args.C, args.threshold)
    calibration = calibration_from(FEATURES, means, scales, weights, intercept, threshold=args.threshold,
                                   c=args.C, loo=loo, files=fitted_files(args.questions), fitted_at=date.today())
    write_calibration(calibration, args.out)
    print(f"leave-one-out at {args.threshold}: in-scope escalated {loo.in_scope_escalated:.3f}, "
          f"out-of-scope escalated {loo.out_of_scope_escalated:.3f}", file=sys.stderr)
    print(f"wrote {args.out}: rebuild the index (`policybot build`) so its manifest records it")
    return 0


def question_rows(paths: list[Path]) -> list[dict]:
    return [json.loads(line) for path in paths for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def signal_matrix(index_dir: Path, rows: list[dict]) -> np.ndarray:
    """The decision's features of every question, as retrieval on the index computes them."""
    from bot.answer import clean_question, detect_language
    from bot.decide import features
    from index.store import load_searcher

    searcher = load_searcher(index_dir)
    values = []
    for row in rows:
        text = clean_question(row["q"])
        values.append(features(searcher.search(text, detect_language(text)).signals))
    return np.asarray(values)


def fit(x: np.ndarray, y: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(means, scales, weights, intercept) of a logistic regression on standardized features."""
    from sklearn.linear_model import LogisticRegression

    means, scales = x.mean(axis=0), x.std(axis=0) + 1e-6
    model = LogisticRegression(C=c, class_weight="balanced").fit((x - means) / scales, y)
    return means, scales, model.coef_[0], float(model.intercept_[0])


def probabilities(x: np.ndarray, means, scales, weights, intercept: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(intercept + ((x - means) / scales) @ weights)))


def leave_one_out(x: np.ndarray, y: np.ndarray, c: float, threshold: float) -> LeaveOneOut:
    """Each question scored by a model fitted without it: the error rates to expect on new questions."""
    loo = np.zeros(len(y))
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        loo[i] = probabilities(x[i][None], *fit(x[keep], y[keep], c))[0]
    escalated = loo < threshold
    return LeaveOneOut(threshold, round(float(escalated[y == 1].mean()), 3), round(float(escalated[y == 0].mean()), 3))


def fitted_files(paths: list[Path]) -> tuple[FittedFile, ...]:
    """The question files by path (relative to the repository) and content hash."""
    return tuple(FittedFile(Path(os.path.relpath(path.resolve(), REPO)).as_posix(),
                            hashlib.sha256(path.read_bytes()).hexdigest(), len(question_rows([path])))
                 for path in paths)


def calibration_from(features, means, scales, weights, intercept: float, *, threshold: float, c: float,
                     loo: LeaveOneOut, files: tuple[FittedFile, ...], fitted_at: date) -> Calibration:
    """The fit as the file stores it, every number to DECIMALS places."""
    def fixed(values) -> tuple[float, ...]:
        return tuple(float(f"{v:.{DECIMALS}f}") for v in values)

    return Calibration(features=tuple(features), means=fixed(means), scales=fixed(scales), weights=fixed(weights),
                       intercept=fixed([intercept])[0], threshold=threshold, fitted_at=fitted_at.isoformat(),
                       fitted_on=files, leave_one_out=loo, regularization_c=c)


if __name__ == "__main__":
    raise SystemExit(main())
