"""`policybot build` as one pipeline: a policy edit is parsed once and leaves as one generation.

    plan = prepare(policy_path, index_dir, model)        # parse the text, read the live generation, diff
    report = execute(plan, accept_removals=False, ...)   # guard, write the generation, switch

The one `Policy` and its one `PolicyDiff` against the live generation travel in the plan and
the report: the guard (index/guard.py) checks that Policy, the store writes it, the command
prints the diff, and the Slack announcement (bot/announce.py) posts the same diff. Nothing
downstream reads the policy file again or compares the texts a second time. The live text is
parsed once too, and only when it differs from the new one.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from index import store
from index.diff import PolicyDiff, diff_policies
from index.embed import DEFAULT_MODEL, AuxEncoder, Embedder
from index.guard import check_switch
from index.policy import Policy, PolicyParseError, load, parse

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildPlan:
    """What a build starts from: the parsed text, the live generation and how the two differ."""

    policy_path: Path
    index_dir: Path
    model: str
    policy: Policy
    live: store.LiveGeneration | None  # None: no index yet, or a damaged one (treated as absent)
    previous_policy_text: str | None  # the text the live generation was built from
    # The clause-level changes the build makes live; None when there is nothing to compare with
    # (no intact live generation, the same text, or a live text the parser no longer reads).
    diff: PolicyDiff | None
    started: float  # time.perf_counter() when the build began: the report's seconds count from here


@dataclass(frozen=True)
class BuildReport:
    index_dir: Path
    generation: str
    clause_count: int
    model: str
    seconds: float
    skipped: bool  # True when the index was already up to date
    previous: str | None
    previous_policy_text: str | None
    # The revision the index quotes (ISO date, the trailer's latest date) and all the trailer's
    # dates, oldest first: `policybot build` names the revision answers will cite.
    revision: str | None = None
    dates: tuple[str, ...] = ()
    diff: PolicyDiff | None = None  # the plan's diff: what the announcement posts
    calibration: Mapping[str, str] | None = None  # the stamp the manifest records


def load_policy(policy_path: Path) -> Policy:
    """The policy file, read and parsed (the one parse of a build). Errors name the file: a
    missing, non-UTF-8 or broken text, and a path that cannot be read (a directory, no permission)."""
    try:
        return load(policy_path)
    except OSError as exc:
        why = f"cannot be read ({exc.strerror or type(exc).__name__})"
        what = "is a directory, not a text file" if policy_path.is_dir() else why
        raise PolicyParseError(f"the policy file {what}: give the policy text file with --policy or "
                               "POLICYBOT_POLICY, or fix its permissions", path=str(policy_path)) from None


def prepare(policy_path: Path, index_dir: Path, model: str = DEFAULT_MODEL) -> BuildPlan:
    """Parse the policy (once) and compare it with the live generation.

    Raises PolicyParseError before the index is touched when the text is missing or broken.
    """
    started = time.perf_counter()
    policy = load_policy(policy_path)
    index_dir.mkdir(parents=True, exist_ok=True)
    live = store.intact_live(index_dir)
    previous_text = live.policy_text if live else None
    return BuildPlan(policy_path, index_dir, model, policy, live, previous_text,
                     _diff_from(previous_text, policy), started)


def _diff_from(previous_text: str | None, policy: Policy) -> PolicyDiff | None:
    if previous_text is None or previous_text == policy.source_text:
        return None
    try:
        previous = parse(previous_text, path="the live index's policy.txt")
    except PolicyParseError as exc:  # an older parser's text, or a damaged copy: nothing to compare
        log.warning("no change summary: the text of the live index no longer parses (%s)", exc)
        return None
    return diff_policies(previous, policy)


def execute(plan: BuildPlan, *, force: bool = False, accept_removals: bool = False, aux: bool = True,
            embedder: Embedder | None = None, aux_encoder: AuxEncoder | None = None,
            progress: store.Progress | None = None, calibration: Mapping[str, str] | None = None) -> BuildReport:
    """Write the plan's policy as the live generation; a no-op when nothing changed (unless force).

    Raises UnsafeSwitchError (index.guard) when the text lost its contact address, its revision
    date or a large share of the live clauses (unless `accept_removals`), so the old generation
    keeps serving. `calibration` is the decision's calibration stamp: the manifest records it,
    and a new calibration makes a new generation.
    """
    policy, live = plan.policy, plan.live
    stamp = dict(calibration) if calibration is not None else None
    revision = policy.revision_date.isoformat() if policy.revision_date else None
    dates = tuple(d.isoformat() for d in policy.dates)

    def report(generation: str, skipped: bool, previous_text: str | None) -> BuildReport:
        return BuildReport(plan.index_dir, generation, len(policy.clauses()), plan.model,
                           time.perf_counter() - plan.started, skipped, live.path.name if live else None, previous_text,
                           revision, dates, None if skipped else plan.diff, stamp)

    if not force and live and live.built_from(policy.sha256, plan.model, aux, stamp):
        return report(live.path.name, True, None)
    if not accept_removals:
        check_switch(policy, live.clauses if live else None, str(plan.policy_path))
    name = store.write_generation(policy, plan.policy_path, plan.index_dir, plan.model,
                                  previous=live.path.name if live else None, aux=aux, embedder=embedder,
                                  aux_encoder=aux_encoder, progress=progress, calibration=stamp)
    return report(name, False, plan.previous_policy_text)


def build(policy_path: Path, index_dir: Path, model: str = DEFAULT_MODEL, **options) -> BuildReport:
    """`prepare` then `execute` (options as for `execute`): a build with nothing to print between."""
    return execute(prepare(policy_path, index_dir, model), **options)
