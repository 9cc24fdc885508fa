"""The decision's calibration as a file (bot/calibration.py): the shipped file loads and is what
bot/decide.py decides with, a damaged one is refused naming itself and scripts/calibrate.py, and
the script's writer produces a file the loader reads back unchanged."""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from bot import decide
from bot.calibration import (CALIBRATION_PATH, CalibrationError, FittedFile, LeaveOneOut, calibration_stamp,
                             load_calibration, write_calibration)

REPO = Path(__file__).resolve().parents[1]


def load_script():
    """scripts/calibrate.py as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("calibrate_script", REPO / "scripts" / "calibrate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_shipped_calibration_loads_and_is_what_the_decision_uses():
    calibration = load_calibration()
    assert CALIBRATION_PATH == REPO / "bot" / "calibration.json"
    assert (decide.FEATURES, decide.MEANS, decide.SCALES, decide.WEIGHTS, decide.BIAS, decide.THRESHOLD) == (
        calibration.features, calibration.means, calibration.scales, calibration.weights, calibration.intercept,
        calibration.threshold)
    assert len(calibration.features) == len(calibration.weights) > 0
    assert {f.path for f in calibration.fitted_on} == {"../shared/eval/questions-dev.jsonl",
                                                       "eval/questions-train.jsonl"}
    assert all("heldout" not in f.path for f in calibration.fitted_on)
    stamp = calibration_stamp()
    assert stamp.sha256 == hashlib.sha256(CALIBRATION_PATH.read_bytes()).hexdigest()
    assert stamp.fitted_at == calibration.fitted_at


def test_the_calibration_is_package_data():
    """An installed wheel must carry the file: setuptools ships it only when pyproject names it."""
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "calibration.json" in project["tool"]["setuptools"]["package-data"]["bot"]


def _valid() -> dict:
    return json.loads(CALIBRATION_PATH.read_text(encoding="utf-8"))


def _with(**changes) -> dict:
    data = _valid()
    data.update(changes)
    return data


def _without(key: str) -> dict:
    data = _valid()
    del data[key]
    return data


@pytest.mark.parametrize("content, problem", [
    (None, "is missing"),
    (b"\xff\xfe not text", "is not UTF-8 text"),
    (b'{"format": 1, "features": [', "is not valid JSON"),
    (b"[1, 2, 3]", "is not a JSON object"),
    (_with(format=2), "has format 2"),
    (_without("weights"), "lacks 'weights'"),
    (_with(weights=[0.1, 0.2]), "weights must hold one number per feature"),
    (_with(means=[0.1, 0.2, 0.3, 0.4, 0.5, float("nan")]), "means must be a finite number"),
    (_with(scales=[0.1, 0.2, 0.0, 0.4, 0.5, 0.6]), "scales must be above 0"),
    (_with(threshold=1.5), "threshold must be a probability"),
    (_with(intercept="1.1"), "intercept must be a finite number"),
    (_with(features=["reach", "reach", "a", "b", "c", "d"]), "features repeat a name"),
    (_with(fitted_at="30/11/2026"), "fitted_at must be an ISO date"),
    (_with(fitted_on=[{"path": "x.jsonl", "sha256": "abc", "questions": 3}]), "each fitted_on entry"),
])
def test_a_damaged_calibration_names_the_file_and_the_script(tmp_path, content, problem):
    path = tmp_path / "calibration.json"
    if isinstance(content, dict):
        path.write_text(json.dumps(content), encoding="utf-8")
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(CalibrationError) as caught:
        load_calibration(path)
    message = str(caught.value)
    assert str(path) in message and "scripts/calibrate.py" in message and problem in message
    assert "\n" not in message
    with pytest.raises(CalibrationError):
        calibration_stamp(path)  # a damaged file is never recorded in a manifest


def test_the_script_writes_a_file_the_decision_reads_back(tmp_path):
    script = load_script()
    questions = tmp_path / "questions.jsonl"
    questions.write_text('{"id": "q1", "q": "a", "escalate": false}\n\n{"id": "q2", "q": "b", "escalate": true}\n',
                         encoding="utf-8")
    files = script.fitted_files([questions])
    assert files == (FittedFile(Path(os.path.relpath(questions, REPO)).as_posix(),
                                hashlib.sha256(questions.read_bytes()).hexdigest(), 2),)
    calibration = script.calibration_from(
        ("reach", "english"), [0.123456, 0.5], [0.25, 0.4386049], [1.00004999, -0.86304], 1.13836,
        threshold=0.5, c=0.3, loo=LeaveOneOut(0.5, 0.12, 0.89), files=files, fitted_at=date(2026, 11, 30))
    assert (calibration.means, calibration.scales, calibration.weights, calibration.intercept) == (
        (0.1235, 0.5), (0.25, 0.4386), (1.0, -0.863), 1.1384)  # four decimals, as the fit is reported
    out = tmp_path / "calibration.json"
    write_calibration(calibration, out)
    assert load_calibration(out) == calibration
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left


def test_the_shipped_file_is_exactly_what_the_script_writes(tmp_path):
    """No hand edits: the shipped numbers are the script's four-decimal figures, and the file is
    byte for byte what its writer produces for them."""
    script = load_script()
    shipped = load_calibration()
    rewritten = script.calibration_from(
        shipped.features, shipped.means, shipped.scales, shipped.weights, shipped.intercept,
        threshold=shipped.threshold, c=shipped.regularization_c, loo=shipped.leave_one_out,
        files=shipped.fitted_on, fitted_at=date.fromisoformat(shipped.fitted_at))
    assert rewritten == shipped
    write_calibration(rewritten, tmp_path / "calibration.json")
    assert (tmp_path / "calibration.json").read_bytes() == CALIBRATION_PATH.read_bytes()


def test_the_script_refuses_the_held_out_questions(tmp_path):
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "calibrate.py"), "eval/questions-heldout.jsonl",
                           "--out", str(tmp_path / "c.json")], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert "held-out" in done.stderr and not (tmp_path / "c.json").exists()
