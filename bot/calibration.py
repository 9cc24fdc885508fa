"""The fitted answer/escalate model as a file: read, check and write `bot/calibration.json`.

The numbers of the decision are data, not source: `scripts/calibrate.py` fits them and writes
the file, `bot/decide.py` loads it once, and `policybot build` records which file (its sha256
and fit date) a generation of the index was built with. A missing or damaged file stops with
one message naming it and the script that writes a new one; the bot never guesses weights.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

CALIBRATION_PATH = Path(__file__).with_name("calibration.json")  # package data (pyproject)
FORMAT = 1
_SHA256 = re.compile(r"[0-9a-f]{64}")


class CalibrationError(ValueError):
    """The calibration file is missing or unusable; the message names it and the fix."""

    def __init__(self, path: Path, problem: str):
        super().__init__(f"the decision's calibration {path} {problem}: restore it (git checkout) or write a new "
                         "one with `python scripts/calibrate.py`")


@dataclass(frozen=True)
class FittedFile:
    """A question file the model was fitted on, identified by content (it may be edited later)."""

    path: str
    sha256: str
    questions: int


@dataclass(frozen=True)
class LeaveOneOut:
    """The honest error estimate: each question scored by a model fitted without it."""

    threshold: float
    in_scope_escalated: float
    out_of_scope_escalated: float


@dataclass(frozen=True)
class Calibration:
    """Logistic regression over standardized features: p = σ(intercept + Σ w·(x − mean)/scale)."""

    features: tuple[str, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    weights: tuple[float, ...]
    intercept: float
    threshold: float  # answer when p ≥ threshold
    fitted_at: str  # ISO date of the fit
    fitted_on: tuple[FittedFile, ...]
    leave_one_out: LeaveOneOut
    regularization_c: float  # the L2 strength it was fitted with (sklearn's C)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data = {"format": FORMAT, **data}
        for key in ("features", "means", "scales", "weights", "fitted_on"):
            data[key] = list(data[key])
        return data


@dataclass(frozen=True)
class CalibrationStamp:
    """What the index manifest records about the calibration in force when it was built."""

    file: str
    sha256: str
    fitted_at: str

    def to_json(self) -> dict[str, str]:
        return asdict(self)


def load_calibration(path: Path | None = None) -> Calibration:
    """Read and check the calibration file (default: the shipped one); CalibrationError naming it
    when it cannot be used."""
    path = path or CALIBRATION_PATH
    return parse_calibration(_read(path), path)


def calibration_stamp(path: Path | None = None) -> CalibrationStamp:
    """The file's identity for the index manifest (checked first: a damaged file is never recorded)."""
    path = path or CALIBRATION_PATH
    raw = _read(path)
    calibration = parse_calibration(raw, path)
    return CalibrationStamp(f"{path.parent.name}/{path.name}", hashlib.sha256(raw).hexdigest(), calibration.fitted_at)


def write_calibration(calibration: Calibration, path: Path) -> None:
    """Write the file as `load_calibration` reads it (checked by reading it back before it replaces anything)."""
    text = json.dumps(calibration.to_json(), ensure_ascii=False, indent=2) + "\n"
    parse_calibration(text.encode("utf-8"), path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise CalibrationError(path, "is missing") from None
    except OSError as exc:
        raise CalibrationError(path, f"cannot be read ({exc.strerror or type(exc).__name__})") from None


def parse_calibration(raw: bytes, path: Path) -> Calibration:
    """The checked Calibration in `raw`, the bytes of the file at `path` (named in errors)."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise CalibrationError(path, "is not UTF-8 text") from None
    except ValueError as exc:
        raise CalibrationError(path, f"is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise CalibrationError(path, "is not a JSON object")
    if data.get("format") != FORMAT:
        raise CalibrationError(path, f"has format {data.get('format')!r}, this version reads {FORMAT}")
    try:
        return _calibration(data)
    except (KeyError, TypeError, ValueError) as exc:
        problem = f"lacks {exc.args[0]!r}" if isinstance(exc, KeyError) else str(exc)
        raise CalibrationError(path, f"is not a usable calibration ({problem})") from None


def _calibration(data: dict) -> Calibration:
    features = data["features"]
    if not isinstance(features, list) or not features or not all(isinstance(f, str) and f for f in features):
        raise ValueError("features must be a non-empty list of names")
    if len(set(features)) != len(features):
        raise ValueError("features repeat a name")
    columns = {key: _numbers(data[key], key, len(features)) for key in ("means", "scales", "weights")}
    if any(s <= 0 for s in columns["scales"]):
        raise ValueError("scales must be above 0")
    threshold = _number(data["threshold"], "threshold")
    if not 0.0 < threshold < 1.0:
        raise ValueError("threshold must be a probability between 0 and 1")
    fitted_at = data["fitted_at"]
    if not isinstance(fitted_at, str) or not _is_iso_date(fitted_at):
        raise ValueError("fitted_at must be an ISO date (YYYY-MM-DD)")
    fitted_on = data["fitted_on"]
    if not isinstance(fitted_on, list) or not fitted_on:
        raise ValueError("fitted_on must list the question files")
    loo = data["leave_one_out"]
    if not isinstance(loo, dict):
        raise ValueError("leave_one_out must be an object")
    return Calibration(
        features=tuple(features), means=columns["means"], scales=columns["scales"], weights=columns["weights"],
        intercept=_number(data["intercept"], "intercept"), threshold=threshold, fitted_at=fitted_at,
        fitted_on=tuple(_fitted_file(f) for f in fitted_on),
        leave_one_out=LeaveOneOut(*(_number(loo[k], k) for k in
                                    ("threshold", "in_scope_escalated", "out_of_scope_escalated"))),
        regularization_c=_number(data["regularization_c"], "regularization_c"))


def _is_iso_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _fitted_file(entry: Any) -> FittedFile:
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) \
            or not _SHA256.fullmatch(str(entry.get("sha256"))) or type(entry.get("questions")) is not int:
        raise ValueError("each fitted_on entry needs a path, a sha256 and a question count")
    return FittedFile(entry["path"], entry["sha256"], entry["questions"])


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number")
    return float(value)


def _numbers(values: Any, name: str, length: int) -> tuple[float, ...]:
    if not isinstance(values, list) or len(values) != length:
        raise ValueError(f"{name} must hold one number per feature ({length})")
    return tuple(_number(v, name) for v in values)
