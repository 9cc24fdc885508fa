"""`policybot diff [OLD NEW]`: what changed between two policy texts, clause by clause.

Without arguments it compares the text the live index was built from (kept in the index)
with the policy file: exactly what the next `policybot build` will change in answers.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from bot.settings import Settings
from index.diff import diff_policies, format_terminal
from index.policy import Policy, PolicyParseError, load, parse

EXIT_USER_ERROR = 2


class DiffInputError(Exception):
    """A missing or unreadable input; the message says what to do."""


def register_cli(subparsers) -> None:
    """Add `policybot diff` to the main parser's subcommands."""
    p = subparsers.add_parser(
        "diff", help="show clause-level changes between two policy texts",
        description="Compare two policy texts clause by clause: added, removed, renumbered (moved) and "
                    "changed clauses, with a character diff of changed text and the revision dates. "
                    "Without OLD NEW: the text the current index was built from against the policy file.",
        epilog="examples:\n  policybot diff                       # index vs policy_text/privacy_policy.txt\n"
               "  policybot diff old.txt new.txt\n  policybot diff --json | jq '.changes[].new_label'",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("old", nargs="?", metavar="OLD", help="the earlier policy text file")
    p.add_argument("new", nargs="?", metavar="NEW", help="the revised policy text file")
    p.add_argument("--policy", help="policy file used as NEW when no files are given "
                                    "(default: $POLICYBOT_POLICY or policy_text/privacy_policy.txt)")
    p.add_argument("--index", help="index whose text is OLD when no files are given "
                                   "(default: $POLICYBOT_INDEX or var/index)")
    p.add_argument("--json", action="store_true", help="print the diff as one JSON object")
    colour = p.add_mutually_exclusive_group()
    colour.add_argument("--color", dest="color", action="store_const", const=True, default=None,
                        help="colour the output even when it is not a terminal")
    colour.add_argument("--no-color", dest="color", action="store_const", const=False,
                        help="no colours (also when NO_COLOR is set)")
    p.set_defaults(func=cmd_diff)


def cmd_diff(args: argparse.Namespace) -> int:
    try:
        (old, old_source), (new, new_source) = _inputs(args)
    except (DiffInputError, PolicyParseError) as exc:
        print(f"policybot diff: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    diff = diff_policies(old, new, old_source, new_source)
    if args.json:
        print(json.dumps(diff.to_json(), ensure_ascii=False, indent=2))
    else:
        print(format_terminal(diff, color=_use_color(args.color)))
    return 0


def _use_color(flag: bool | None) -> bool:
    if flag is not None:
        return flag
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _inputs(args: argparse.Namespace) -> tuple[tuple[Policy, str], tuple[Policy, str]]:
    if args.old and args.new:
        return _load_file(Path(args.old)), _load_file(Path(args.new))
    if args.old:
        raise DiffInputError("give both OLD and NEW, or neither (to compare the index with the policy file)")
    settings = Settings.from_env()
    index_dir = Path(args.index) if args.index else settings.index_dir
    policy_path = Path(args.policy) if args.policy else settings.policy_path
    from index.store import built_policy_text  # local: keeps `diff OLD NEW` free of the index stack

    old_text = built_policy_text(index_dir)
    if old_text is None:
        raise DiffInputError(f"no index in {index_dir} to compare with: run `policybot build` first, "
                             "or give two files: policybot diff OLD NEW")
    old_source = f"{index_dir} (index)"
    return (parse(old_text, path=old_source), old_source), _load_file(policy_path)


def _load_file(path: Path) -> tuple[Policy, str]:
    if path.is_dir():
        raise DiffInputError(f"{path} is a directory: give a policy text file")
    return load(path), str(path)
