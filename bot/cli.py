"""`policybot` command line: build, ask, chat, eval, serve (+ commands registered by feature modules).

User mistakes (no index, missing policy file, model not available offline) end in one
clear message on stderr and exit code 2 — never a traceback.
"""
from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from bot.settings import Settings
from bot.terminal_text import json_line, stdin_lines, valid_text

EXIT_USER_ERROR = 2


class UserError(Exception):
    """Something the user can fix; the message says how."""


def _user_errors() -> tuple[type[BaseException], ...]:
    from bot.settings import SettingsError
    from index.embed import ModelUnavailableError
    from index.guard import UnsafeSwitchError
    from index.policy import PolicyParseError
    from index.store import IndexUnavailableError

    return (UserError, SettingsError, ModelUnavailableError, PolicyParseError, IndexUnavailableError,
            UnsafeSwitchError, FileNotFoundError)


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env()
    if getattr(args, "policy", None):
        settings = replace(settings, policy_path=Path(args.policy))
    if getattr(args, "index", None):
        settings = replace(settings, index_dir=Path(args.index))
    return settings


def check_index_fresh(settings: Settings) -> dict:
    """The bot must never answer from a stale index: refuse, naming the command that fixes it."""
    from index.policy import file_sha256
    from index.store import read_manifest

    manifest = read_manifest(settings.index_dir)
    if manifest is None:
        raise UserError(f"no index in {settings.index_dir}: run `policybot build` (or `make run`) first")
    if not settings.policy_path.is_file():
        return manifest  # a deployment may ship the index without the text; nothing to compare
    try:
        sha = file_sha256(settings.policy_path)
    except (OSError, UnicodeDecodeError) as exc:
        why = "is not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else f"cannot be read ({exc.strerror})"
        raise UserError(f"the policy file {settings.policy_path} {why}, so the index cannot be checked against "
                        "it: fix the file or its permissions (or set POLICYBOT_POLICY), then run `policybot build`") \
            from None
    if sha != manifest.get("policy_sha256"):
        raise UserError(f"the index in {settings.index_dir} was built from another version of "
                        f"{settings.policy_path}: run `policybot build` (`policybot diff` shows the changes)")
    return manifest


def load_answerer(settings: Settings):
    """Load the index once for this process and wrap it for the adapters."""
    from bot.answerer import Answerer
    from index.store import load_searcher

    check_index_fresh(settings)
    searcher = load_searcher(settings.index_dir, model=settings.model)
    return Answerer.fixed(searcher, settings.contact_email_override)


# --- build -----------------------------------------------------------------------------
def cmd_build(args: argparse.Namespace) -> int:
    from index import store

    settings = _settings(args)
    if args.rollback:
        name = store.rollback(settings.index_dir)
        print(f"rolled back: {settings.index_dir} now serves generation {name}")
        return 0
    new_policy = store.load_policy(settings.policy_path)  # a broken text stops here, before the index is touched
    old_text = store.built_policy_text(settings.index_dir)
    if old_text is not None:
        _print_change_summary(old_text, new_policy)
    bar = _progress_bar(enabled=not args.quiet and sys.stderr.isatty())
    report = store.build(settings.policy_path, settings.index_dir, settings.model, force=args.force,
                         progress=bar, accept_removals=args.accept_removals)
    if report.skipped:
        print(f"index is up to date ({report.clause_count} clauses, model {report.model}) at "
              f"{_revision_text(report)}; nothing to do (use --force to rebuild)")
        return 0
    print(f"built {report.clause_count} clauses with {report.model} in {report.seconds:.1f}s "
          f"({_revision_text(report)}) → {settings.index_dir}/{report.generation}")
    if report.previous:
        print("previous generation kept: `policybot build --rollback` restores it")
    from bot.announce import announce_build

    if announce_build(settings, report):
        print("announced the changes in the Slack channel set by POLICYBOT_ANNOUNCE_CHANNEL")
    return 0


def _revision_text(report) -> str:
    """「revision 2026-06-03 改定」: the revision answers will quote. The earliest date of the
    trailer is the enactment (制定); any later one is a revision (改定)."""
    if not report.revision:
        return "revision unknown: no 制定/改定 date at the end of the policy"
    event = "改定" if len(report.dates) > 1 else "制定"
    return f"revision {report.revision} {event}"


def _progress_bar(enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    bar = tqdm(total=4, desc="building index", unit="step", file=sys.stderr, leave=False)

    def step(label: str, done: int, total: int) -> None:
        bar.set_postfix_str(label)
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()
    return step


def _print_change_summary(old_text: str, new_policy) -> None:
    """What a maintainer must review before the new text goes live (issue: clause-level diff)."""
    from index.diff import diff_policies, format_terminal
    from index.policy import PolicyParseError, parse

    try:
        old_policy = parse(old_text)
    except PolicyParseError:
        return  # the live index's own copy no longer parses (damaged, or an older parser): nothing to compare
    if old_policy.sha256 == new_policy.sha256:
        return
    print(format_terminal(diff_policies(old_policy, new_policy), color=sys.stdout.isatty()))


# --- ask / chat --------------------------------------------------------------------------
def cmd_ask(args: argparse.Namespace) -> int:
    from bot.render.text import ask_text

    settings = _settings(args)
    answerer = load_answerer(settings)
    if args.question == ["-"]:
        for line in stdin_lines(sys.stdin):
            question, history = ask_line(line)
            sys.stdout.write(json_line(answerer.answer(question, history=history).to_json()) + "\n")
            sys.stdout.flush()
        return 0
    question = " ".join(valid_text(word) for word in args.question)
    result = answerer.answer(question)
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        print(ask_text(result))
    return 0


def ask_line(line: str) -> tuple[str, list[str]]:
    """One line of `ask --json -`: a plain question, or `{"question": …, "history": [earlier, …]}`.

    A line that starts with `{` but is not such an object is a question like any other (someone
    may well ask about `{…}`): it is answered, never refused.
    """
    if not line.lstrip().startswith("{"):
        return line, []
    try:
        item = json.loads(line)
    except (ValueError, RecursionError):
        return line, []
    if not isinstance(item, dict) or not isinstance(item.get("question"), str):
        return line, []
    history = item.get("history") or []
    history = [history] if isinstance(history, str) else history if isinstance(history, list) else []
    # JSON may escape a lone surrogate (\ud83d): make it valid text like any other input
    return valid_text(item["question"]), [valid_text(h) for h in history if isinstance(h, str)]


CHAT_NEW = "/new"
CHAT_MAX_HISTORY = 10  # earlier questions kept as context; followup.py reads only the last few


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.render.text import bilingual, chat_greeting, chat_reply

    settings = _settings(args)
    answerer = load_answerer(settings)
    facts = answerer.facts
    print(chat_greeting(facts.company_name, facts.revision, CHAT_NEW))
    history: list[str] = []
    while True:
        try:
            question = valid_text(input("\n? "))  # a terminal's stdin hands undecodable bytes in as surrogates
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if question.strip().lower() in {"exit", "quit", ":q"}:
            return 0
        if not question.strip():
            continue
        if question.strip().lower() == CHAT_NEW:
            history.clear()
            print(bilingual("cli.chat_new"))
            continue
        result = answerer.answer(question, history=history)
        history = (history + [question])[-CHAT_MAX_HISTORY:]
        print(chat_reply(result))


# --- eval --------------------------------------------------------------------------------
def cmd_eval(args: argparse.Namespace) -> int:
    from bot.evaluate import evaluate, format_report, load_questions

    settings = _settings(args)
    try:  # read the questions before the model: a mistyped path should fail at once
        questions = load_questions(Path(args.questions))
    except ValueError as exc:
        raise UserError(str(exc)) from None
    answerer = load_answerer(settings)
    started = time.perf_counter()
    report = evaluate(answerer, questions)
    report["seconds"] = round(time.perf_counter() - started, 2)
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else format_report(report, args.verbose))
    return 0


# --- serve -------------------------------------------------------------------------------
def cmd_serve(args: argparse.Namespace) -> int:
    from bot.answerer import Answerer
    from bot.reload import SearcherHolder, reload_interval_from_env
    from bot.slack_app import serve

    settings = _settings(args)
    if not settings.slack_bot_token:
        raise UserError("SLACK_BOT_TOKEN is not set: see README \"Run it in Slack\" (or use `policybot chat`)")
    if args.auto_build:
        from index import store

        store.build(settings.policy_path, settings.index_dir, settings.model)
    check_index_fresh(settings)
    try:
        interval = reload_interval_from_env()
    except ValueError as exc:
        raise UserError(str(exc)) from None
    holder = SearcherHolder.load(settings.index_dir, model=settings.model, interval=interval,
                                 policy_path=settings.policy_path).start()
    try:
        return serve(settings, Answerer(holder, settings.contact_email_override)) or 0
    finally:
        holder.stop()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="policybot",
        description="Answers questions about the privacy policy, citing its clauses.",
        epilog="examples:\n  policybot build\n  policybot ask 利用料金の請求に個人情報を使いますか\n"
               "  echo 'Do you share my data?' | policybot ask --json -\n"
               "  policybot eval ../shared/eval/questions-dev.jsonl",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--policy", help="policy text file (default: $POLICYBOT_POLICY or policy_text/privacy_policy.txt)")
    common.add_argument("--index", help="index directory (default: $POLICYBOT_INDEX or var/index)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("build", parents=[common], help="build the index from the policy text")
    p.add_argument("--force", action="store_true", help="rebuild even if the policy and model are unchanged")
    p.add_argument("--rollback", action="store_true", help="make the previous index generation live again")
    p.add_argument("--accept-removals", action="store_true",
                   help="switch even if the new text has no contact address or revision date, or removes "
                        "more than a fifth of the live clauses")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("ask", parents=[common], help="answer one question (or one per line with '--json -'; "
                       "a line may be {\"question\": …, \"history\": [earlier questions]})")
    p.add_argument("--json", action="store_true", help="print the JSON answer object")
    p.add_argument("question", nargs="+", help="the question; '-' reads one question per line from stdin")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", parents=[common], help="interactive terminal session")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("eval", parents=[common], help="recall@1/@3, MRR and escalation accuracy on a question "
                       "or conversation file")
    p.add_argument("questions", help="JSONL question file (id, q, kind, lang, gold, escalate, contact) or "
                   "conversation file (id, kind, turns, gold, escalate, contact)")
    p.add_argument("--json", action="store_true")
    p.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("serve", parents=[common], help="run the Slack bot (Socket Mode if SLACK_APP_TOKEN is set)")
    p.add_argument("--auto-build", action="store_true", help="build the index first if it is missing or stale")
    p.set_defaults(func=cmd_serve)

    for register in _feature_registrars():
        register(sub)
    return parser


def _feature_registrars():
    """Commands contributed by feature modules (policy diff, hand-off outbox, stored data)."""
    from bot.data_cli import register_cli as register_data
    from bot.diff_cli import register_cli as register_diff
    from bot.handoff.cli import register_cli as register_handoff

    return [register_diff, register_handoff, register_data]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except _user_errors() as exc:
        print(f"policybot: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # a path the user gave that cannot be used (permissions, a file where a directory goes)
        where = f": {exc.filename}" if exc.filename else ""
        print(f"policybot: {exc.strerror or type(exc).__name__}{where}; check the path and its permissions",
              file=sys.stderr)
        return EXIT_USER_ERROR


def run() -> None:
    """The `policybot` console script: `main`, then a fast exit.

    At exit the interpreter would walk the model's millions of Python objects in its last
    garbage collections: about 1 s of every one-shot `ask`. The process is ending and the OS
    reclaims the memory anyway, so those objects are frozen out of the collector first.
    """
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
