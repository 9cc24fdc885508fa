"""Benchmark what a user waits for and what the machine must hold: cold `ask`, peak memory of
`ask` and of `serve`, build time, warm answer latency and batch throughput.

    .venv/bin/python scripts/bench.py [--questions FILE] [--repeat 3] [--json]

Every process figure is measured on a real `policybot` child process: wall time with a clock,
peak RSS from the kernel (`wait4`'s ru_maxrss of that one child, and for `serve` the highest
VmHWM over its process tree while it answers). `serve` runs in HTTP mode against the local
stand-in for Slack's Web API (tests/slack_api_stub.py) and answers signed mentions, as in the
Slack tests. Figures go into README "Performance"; tests never time things. Peak RSS does not
depend on machine load; wall times do, so say how loaded the machine was (`load` in the table).
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DEFAULT_QUESTIONS = REPO.parent / "shared" / "eval" / "questions-dev.jsonl"
FALLBACK_QUESTIONS = ["利用料金の請求のために個人情報を使うことはありますか？", "Do you share my data with third parties?",
                      "個人情報を削除してほしい場合はどうすればいいですか", "パスワードを忘れました"]
SERVE_MENTIONS = 5  # signed mentions `serve` answers before its peak memory is read


@dataclass(frozen=True)
class Run:
    """One finished `policybot` child process."""

    wall_s: float
    peak_rss_mib: float
    stdout: str


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def policybot(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "bot.cli", *args]


def run_cli(args: list[str], env: dict, stdin: str | None = None) -> Run:
    """Run `policybot ARGS` to the end; its own wall time and peak RSS (not its siblings')."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as inp:
        inp.write((stdin or "").encode("utf-8"))
        inp.seek(0)
        started = time.perf_counter()
        proc = subprocess.Popen(policybot(args), stdin=inp, stdout=out, stderr=err, env=env, cwd=REPO)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"policybot {' '.join(args)} failed:\n{err.read().decode('utf-8', 'replace')}")
        return Run(wall, usage.ru_maxrss / 1024, out.read().decode("utf-8", "replace"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tree_peak_rss_mib(pid: int) -> float:
    """Highest VmHWM (peak RSS) over `pid` and its descendants: a server may fork workers."""
    peak, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            peak = max(peak, int(status.split("VmHWM:")[1].split()[0]))
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, IndexError, ValueError):
            continue
    return peak / 1024


def measure_serve(env: dict, questions: list[str], tmp: Path) -> tuple[float, float]:
    """Start `policybot serve` (HTTP mode) against the Slack stand-in, have it answer signed
    mentions, and read its peak RSS before stopping it. Returns (peak MiB, seconds to first answer)."""
    from tests.slack.driver import BOT_TOKEN, SIGNING_SECRET, SlackSender
    from tests.slack_api_stub import SlackApiStub

    port = _free_port()
    with SlackApiStub(valid_tokens={BOT_TOKEN}) as stub:
        serve_env = dict(env, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, PORT=str(port),
                         SLACK_API_URL=stub.api_url, POLICYBOT_DB=str(tmp / "bench.sqlite3"),
                         POLICYBOT_RELOAD_SECONDS="0")
        serve_env.pop("SLACK_APP_TOKEN", None)
        started = time.perf_counter()
        proc = subprocess.Popen(policybot(["serve"]), env=serve_env, cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            _wait_until_listening(proc, port)
            sender = SlackSender(f"http://127.0.0.1:{port}/slack/events", stub)
            for question in (questions * SERVE_MENTIONS)[:SERVE_MENTIONS]:
                sent = sender.send_event(sender.mention(question))
                if sent.status != 200:
                    raise SystemExit(f"serve answered a signed mention with HTTP {sent.status}: {sent.body}")
            stub.wait_for("chat.postMessage", count=SERVE_MENTIONS, timeout=600)
            first_answer_s = time.perf_counter() - started
            peak = _tree_peak_rss_mib(proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
    return peak, first_answer_s


def _wait_until_listening(proc: subprocess.Popen, port: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"policybot serve exited with {proc.returncode}:\n{proc.stderr.read().decode()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"policybot serve did not listen on port {port} within {timeout:.0f} s")


def warm_latency(index_dir: Path, questions: list[str], repeat: int) -> dict[str, float]:
    """In this process: answer latency with the models loaded, against a bare e5 encode."""
    from bot.answerer import Answerer
    from index import store
    from index.embed import AuxEncoder, load_embedder

    embedder = load_embedder()
    answerer = Answerer.fixed(store.load_searcher(index_dir, embedder=embedder, aux_encoder=AuxEncoder()))
    for q in questions[:5]:
        answerer.answer(q)  # warm-up
    answer_ms, encode_ms = [], []
    for _ in range(repeat):
        for q in questions:
            t = time.perf_counter()
            answerer.answer(q)
            answer_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            embedder.encode_queries([q])
            encode_ms.append((time.perf_counter() - t) * 1000)
    return {"warm_answer_ms_p50": round(statistics.median(answer_ms), 1),
            "warm_answer_ms_p95": round(percentile(answer_ms, 95), 1),
            "bare_encode_ms_p50": round(statistics.median(encode_ms), 1),
            "answer_over_encode_ratio_p50": round(statistics.median(answer_ms) / statistics.median(encode_ms), 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--repeat", type=int, default=3, help="passes over the questions for the warm latency")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    args = parser.parse_args()
    questions = ([json.loads(line)["q"] for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
                 if args.questions.is_file() else FALLBACK_QUESTIONS)

    policy = REPO / "policy_text" / "privacy_policy.txt"
    results: dict[str, object] = {"date": time.strftime("%Y-%m-%d"), "cpu_count": os.cpu_count(),
                                  "load_before": round(os.getloadavg()[0], 1), "questions": len(questions)}
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        env = dict(os.environ, POLICYBOT_INDEX=str(index_dir), POLICYBOT_POLICY=str(policy), HF_HUB_OFFLINE="1")
        build = run_cli(["build", "--force", "-q"], env)
        results["build_cli_wall_s"] = round(build.wall_s, 2)
        results["build_peak_rss_mib"] = round(build.peak_rss_mib)

        colds = [run_cli(["ask", "--json", questions[0]], env) for _ in range(2)]
        results["cold_ask_wall_s"] = round(min(run.wall_s for run in colds), 2)
        results["ask_peak_rss_mib"] = round(max(run.peak_rss_mib for run in colds))

        batch = run_cli(["ask", "--json", "-"], env, stdin="\n".join(questions * 2) + "\n")
        results["batch_questions_per_s"] = round(2 * len(questions) / batch.wall_s, 1)
        results["batch_ask_peak_rss_mib"] = round(batch.peak_rss_mib)

        serve_peak, serve_first = measure_serve(env, questions, Path(tmp))
        results["serve_peak_rss_mib"] = round(serve_peak)
        results["serve_start_to_answers_s"] = round(serve_first, 2)

        results.update(warm_latency(index_dir, questions, args.repeat))
    results["load_after"] = round(os.getloadavg()[0], 1)
    print(json.dumps(results, indent=2, ensure_ascii=False) if args.json else table(results))
    return 0


def table(r: dict) -> str:
    """The figures as README's markdown table (MiB = 2^20 bytes)."""
    rows = [
        ("peak RSS, `policybot serve` (HTTP, answering mentions)", f"{r['serve_peak_rss_mib']} MiB"),
        ("peak RSS, cold `policybot ask --json Q`", f"{r['ask_peak_rss_mib']} MiB"),
        ("peak RSS, `ask --json -` over the questions twice", f"{r['batch_ask_peak_rss_mib']} MiB"),
        ("peak RSS, `policybot build --force`", f"{r['build_peak_rss_mib']} MiB"),
        ("cold `policybot ask --json Q` wall time (best of 2)", f"{r['cold_ask_wall_s']} s"),
        ("`policybot build --force` wall time", f"{r['build_cli_wall_s']} s"),
        ("`serve` start to five answered mentions", f"{r['serve_start_to_answers_s']} s"),
        ("`ask --json -` throughput (incl. start-up)", f"{r['batch_questions_per_s']} questions/s"),
        ("warm answer latency p50 / p95", f"{r['warm_answer_ms_p50']} / {r['warm_answer_ms_p95']} ms"),
        ("bare e5 query encode p50", f"{r['bare_encode_ms_p50']} ms"),
        ("warm answer ÷ bare encode (p50)", f"{r['answer_over_encode_ratio_p50']}"),
    ]
    head = (f"{r['date']}, {r['cpu_count']} cores, {r['questions']} questions, "
            f"1-min load average {r['load_before']} before / {r['load_after']} after")
    return "\n".join([head, "", "| measure | value |", "|---|---|", *(f"| {m} | {v} |" for m, v in rows)])


if __name__ == "__main__":
    raise SystemExit(main())
