"""`policybot` command line (click): build, ask, chat, eval, serve, and diff, handoff, data.

Each command is a composition root: it reads `Settings` once, builds what it needs and imports
only that (`policybot --help` and `policybot diff` load no model). User mistakes (no index,
missing policy file, model not available offline, a bad setting, a bad option) end in one
clear line on stderr and exit code 2 — never a traceback: `main` is the one place that maps
them.
"""
from __future__ import annotations

import gc
import json
import sys
import time
from pathlib import Path

import click

from bot.cli_base import EXIT_USER_ERROR, UserError, location_options, user_error_types
from bot.data_cli import data
from bot.diff_cli import diff
from bot.handoff.cli import handoff
from bot.settings import Settings
from bot.terminal_text import json_line, stdin_lines, valid_text

__all__ = ["EXIT_USER_ERROR", "UserError", "ask_line", "check_index_fresh", "cli", "load_answerer", "main", "run"]

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
_NO_ARGS = getattr(click.exceptions, "NoArgsIsHelpError", ())  # click ≥ 8.2


class PolicybotGroup(click.Group):
    """The root command, and the one place where errors become exit codes: a user error (a bad
    option, a bad setting, no index, …) is one line on stderr and exit 2, never a traceback;
    otherwise the command's own return value is the exit code."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra) -> int:
        code = self._exit_code(args, prog_name, complete_var, **extra)
        if standalone_mode:
            sys.exit(code)
        return code

    def _exit_code(self, args, prog_name, complete_var, **extra) -> int:
        try:
            return int(super().main(args, prog_name, complete_var, standalone_mode=False, **extra) or 0)
        except _NO_ARGS as exc:  # `policybot` or `policybot data` alone: the help, as a usage error
            print(exc.format_message())
            return EXIT_USER_ERROR
        except click.UsageError as exc:  # a bad option or argument, and where its usage is
            where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
            _say(f"{exc.format_message()}{where}")
            return EXIT_USER_ERROR
        except click.ClickException as exc:
            _say(exc.format_message())
            return exc.exit_code
        except (click.Abort, KeyboardInterrupt):
            return 130
        except BrokenPipeError:
            return 0
        except Exception as exc:
            if isinstance(exc, user_error_types()):
                _say(str(exc))
                return EXIT_USER_ERROR
            if isinstance(exc, OSError):  # a path the user gave that cannot be used (permissions, a file for a dir)
                where = f": {exc.filename}" if exc.filename else ""
                _say(f"{exc.strerror or type(exc).__name__}{where}; check the path and its permissions")
                return EXIT_USER_ERROR
            raise


@click.group("policybot", cls=PolicybotGroup, context_settings=CONTEXT, epilog="""\b
examples:
  policybot build
  policybot ask 利用料金の請求に個人情報を使いますか
  echo 'Do you share my data?' | policybot ask --json -
  policybot eval ../shared/eval/questions-dev.jsonl""")
def cli() -> None:
    """Answers questions about the privacy policy, citing its clauses."""


cli.add_command(diff)
cli.add_command(handoff)
cli.add_command(data)


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
@cli.command(short_help="build the index from the policy text")
@location_options
@click.option("--force", is_flag=True, help="rebuild even if the policy and model are unchanged")
@click.option("--rollback", is_flag=True, help="make the previous index generation live again")
@click.option("--accept-removals", is_flag=True,
              help="switch even if the new text has no contact address or revision date, or removes "
                   "more than a fifth of the live clauses")
@click.option("-q", "--quiet", is_flag=True, help="no progress bar")
def build(policy: Path | None, index: Path | None, force: bool, rollback: bool, accept_removals: bool,
          quiet: bool) -> int:
    """Build the index from the policy text (a no-op when the policy and model are unchanged)."""
    return run_build(Settings.from_env(policy_path=policy, index_dir=index), force=force, rollback=rollback,
                     accept_removals=accept_removals, quiet=quiet)


def run_build(settings: Settings, *, force: bool, rollback: bool, accept_removals: bool, quiet: bool) -> int:
    """Build (or roll back) the index, print what changed, and announce it in Slack when configured."""
    from bot.calibration import calibration_stamp
    from index import build, store

    if rollback:
        name = store.rollback(settings.index_dir)
        print(f"rolled back: {settings.index_dir} now serves generation {name}")
        return 0
    calibration = calibration_stamp()  # the decision's fitted model, recorded in the manifest
    plan = build.prepare(settings.policy_path, settings.index_dir, settings.model)  # a broken text stops here
    if plan.diff is not None:  # what a maintainer must review before the new text goes live
        from index.diff import format_terminal

        print(format_terminal(plan.diff, color=sys.stdout.isatty() and not settings.no_color))
    bar = _progress_bar(enabled=not quiet and sys.stderr.isatty())
    report = build.execute(plan, force=force, progress=bar, accept_removals=accept_removals,
                           calibration=calibration.to_json())
    if report.skipped:
        print(f"index is up to date ({report.clause_count} clauses, model {report.model}) at "
              f"{_revision_text(report)}; nothing to do (use --force to rebuild)")
        return 0
    print(f"built {report.clause_count} clauses with {report.model} in {report.seconds:.1f}s "
          f"({_revision_text(report)}) → {settings.index_dir}/{report.generation}")
    print(f"calibration {calibration.file} fitted {calibration.fitted_at} (sha256 {calibration.sha256[:12]}) "
          "recorded in the manifest")
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


# --- ask / chat --------------------------------------------------------------------------
@cli.command(short_help="answer one question (or one per line with '--json -'; a line may be "
                        "{\"question\": …, \"history\": [earlier questions]})")
@location_options
@click.option("--json", "as_json", is_flag=True, help="print the JSON answer object")
@click.argument("question", nargs=-1, required=True)
def ask(policy: Path | None, index: Path | None, as_json: bool, question: tuple[str, ...]) -> int:
    """Answer QUESTION; '-' reads one question per line from stdin and writes one JSON object a line."""
    from bot.render.json_doc import answer_json
    from bot.render.text import ask_text

    answerer = load_answerer(Settings.from_env(policy_path=policy, index_dir=index))
    if question == ("-",):
        for line in stdin_lines(sys.stdin):
            text, history = ask_line(line)
            sys.stdout.write(json_line(answer_json(answerer.answer(text, history=history))) + "\n")
            sys.stdout.flush()
        return 0
    result = answerer.answer(" ".join(valid_text(word) for word in question))
    if as_json:
        print(json.dumps(answer_json(result), ensure_ascii=False, indent=2))
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


@cli.command(short_help="interactive terminal session")
@location_options
def chat(policy: Path | None, index: Path | None) -> int:
    """An interactive terminal session: follow-ups keep the context, /new starts over."""
    from bot.render.text import bilingual, chat_greeting, chat_reply

    answerer = load_answerer(Settings.from_env(policy_path=policy, index_dir=index))
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
@cli.command("eval", short_help="recall@1/@3, MRR and escalation accuracy on a question or conversation file")
@location_options
@click.argument("questions")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
@click.option("-v", "--verbose", is_flag=True, help="list every miss")
def evaluate_command(policy: Path | None, index: Path | None, questions: str, as_json: bool, verbose: bool) -> int:
    """Score the bot on QUESTIONS: a JSONL question file (id, q, kind, lang, gold, escalate, contact)
    or conversation file (id, kind, turns, gold, escalate, contact)."""
    from bot.evaluate import evaluate, format_report, load_questions

    settings = Settings.from_env(policy_path=policy, index_dir=index)
    try:  # read the questions before the model: a mistyped path should fail at once
        rows = load_questions(Path(questions))
    except ValueError as exc:
        raise UserError(str(exc)) from None
    answerer = load_answerer(settings)
    started = time.perf_counter()
    report = evaluate(answerer, rows)
    report["seconds"] = round(time.perf_counter() - started, 2)
    print(json.dumps(report, ensure_ascii=False, indent=2) if as_json else format_report(report, verbose))
    return 0


# --- serve -------------------------------------------------------------------------------
@cli.command(short_help="run the Slack bot (Socket Mode if SLACK_APP_TOKEN is set)")
@location_options
@click.option("--auto-build", is_flag=True, help="build the index first if it is missing or stale")
def serve(policy: Path | None, index: Path | None, auto_build: bool) -> int:
    """Run the Slack bot: Socket Mode if SLACK_APP_TOKEN is set, else HTTP on PORT at /slack/events."""
    from bot.answerer import Answerer
    from bot.metrics import BotMetrics
    from bot.reload import SearcherHolder
    from bot.slack_app import serve as serve_slack

    settings = Settings.from_env(policy_path=policy, index_dir=index)
    if not settings.slack_bot_token:
        raise UserError("SLACK_BOT_TOKEN is not set: see README \"Run it in Slack\" (or use `policybot chat`)")
    if auto_build:
        from bot.calibration import calibration_stamp
        from index.build import build

        build(settings.policy_path, settings.index_dir, settings.model, calibration=calibration_stamp().to_json())
    check_index_fresh(settings)
    metrics = BotMetrics()  # one registry: answers counted by the app, reloads by the holder
    holder = SearcherHolder.load(settings.index_dir, model=settings.model, interval=settings.reload_seconds,
                                 policy_path=settings.policy_path, metrics=metrics).start()
    try:
        return serve_slack(settings, Answerer(holder, settings.contact_email_override), metrics=metrics) or 0
    finally:
        holder.stop()


# --- running it --------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    """Run one command in this process; returns its exit code (tests, `run`)."""
    return cli.main(args=argv, prog_name="policybot", standalone_mode=False)


def _say(message: str) -> None:
    """One line on stderr, whatever the message held."""
    print("policybot: " + " ".join(message.split()), file=sys.stderr)


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
