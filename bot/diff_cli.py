"""`policybot diff [OLD NEW]`: what changed between two policy texts, clause by clause.

Without arguments it compares the text the live index was built from (kept in the index)
with the policy file: exactly what the next `policybot build` will change in answers.
Imports no model: it only parses texts.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from bot.cli_base import UserError, location_options


@click.command(short_help="show clause-level changes between two policy texts", epilog="""\b
examples:
  policybot diff                       # index vs policy_text/privacy_policy.txt
  policybot diff old.txt new.txt
  policybot diff --json | jq '.changes[].new_label'""")
@click.argument("old", required=False)
@click.argument("new", required=False)
@location_options
@click.option("--json", "as_json", is_flag=True, help="print the diff as one JSON object")
@click.option("--color/--no-color", default=None,
              help="colour the output even when it is not a terminal / no colours (also when NO_COLOR is set)")
def diff(old: str | None, new: str | None, policy: Path | None, index: Path | None, as_json: bool,
         color: bool | None) -> int:
    """Compare two policy texts clause by clause: added, removed, renumbered (moved) and changed
    clauses, with a character diff of changed text and the revision dates. Without OLD NEW: the
    text the current index was built from against the policy file (--policy is then NEW, --index
    holds OLD)."""
    from index.diff import diff_policies, format_terminal

    (old_policy, old_source), (new_policy, new_source) = _inputs(old, new, policy, index)
    changes = diff_policies(old_policy, new_policy, old_source, new_source)
    if as_json:
        print(json.dumps(changes.to_json(), ensure_ascii=False, indent=2))
    else:
        print(format_terminal(changes, color=_use_color(color)))
    return 0


def _use_color(flag: bool | None) -> bool:
    if flag is not None:
        return flag
    if not sys.stdout.isatty():
        return False
    from bot.settings import Settings

    return not Settings.from_env().no_color


def _inputs(old: str | None, new: str | None, policy: Path | None, index: Path | None):
    """((old Policy, its source), (new Policy, its source)); UserError when they cannot be had."""
    from index.policy import parse

    if old and new:
        return _load_file(Path(old)), _load_file(Path(new))
    if old:
        raise UserError("give both OLD and NEW, or neither (to compare the index with the policy file)")
    from bot.settings import Settings
    from index.store import built_policy_text

    settings = Settings.from_env(policy_path=policy, index_dir=index)
    old_text = built_policy_text(settings.index_dir)
    if old_text is None:
        raise UserError(f"no index in {settings.index_dir} to compare with: run `policybot build` first, "
                        "or give two files: policybot diff OLD NEW")
    old_source = f"{settings.index_dir} (index)"
    return (parse(old_text, path=old_source), old_source), _load_file(settings.policy_path)


def _load_file(path: Path):
    from index.policy import load

    if path.is_dir():
        raise UserError(f"{path} is a directory: give a policy text file")
    return load(path), str(path)
