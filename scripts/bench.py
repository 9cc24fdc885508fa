"""Benchmark the answering core: build time, cold `ask`, warm latency, throughput, peak memory.

    .venv/bin/python scripts/bench.py [--questions FILE] [--repeat 3]

Figures go into README "Performance". Measured, not asserted: tests never time things.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DEFAULT_QUESTIONS = REPO.parent / "shared" / "eval" / "questions-dev.jsonl"
FALLBACK_QUESTIONS = ["利用料金の請求のために個人情報を使うことはありますか？", "Do you share my data with third parties?",
                      "個人情報を削除してほしい場合はどうすればいいですか", "パスワードを忘れました"]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def run_cli(args: list[str], env: dict, stdin: str | None = None) -> tuple[float, int]:
    """Wall time and peak RSS (KiB) of one `policybot` process."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True,
                          env=env, cwd=REPO)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"policybot {' '.join(args)} failed:\n{proc.stderr}")
    return wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--repeat", type=int, default=3, help="passes over the questions for the warm latency")
    args = parser.parse_args()
    questions = ([json.loads(line)["q"] for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
                 if args.questions.is_file() else FALLBACK_QUESTIONS)

    from bot.answerer import Answerer
    from index import store
    from index.build import build
    from index.embed import DEFAULT_MODEL, AuxEncoder, load_embedder

    policy = REPO / "policy_text" / "privacy_policy.txt"
    results: dict[str, object] = {"cpu_count": os.cpu_count(), "questions": len(questions)}
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        t0 = time.perf_counter()
        embedder = load_embedder(DEFAULT_MODEL)
        aux = AuxEncoder()
        results["model_load_s"] = round(time.perf_counter() - t0, 2)
        report = build(policy, index_dir, DEFAULT_MODEL, embedder=embedder, aux_encoder=aux)
        results["build_in_process_s"] = round(report.seconds, 2)
        results["clauses"] = report.clause_count

        env = dict(os.environ, POLICYBOT_INDEX=str(index_dir), POLICYBOT_POLICY=str(policy), HF_HUB_OFFLINE="1")
        wall, _ = run_cli(["build", "--force", "-q"], env)
        results["build_cli_wall_s"] = round(wall, 2)
        colds = [run_cli(["ask", "--json", questions[0]], env)[0] for _ in range(2)]
        results["cold_ask_wall_s"] = round(min(colds), 2)
        wall, rss = run_cli(["ask", "--json", "-"], env, stdin="\n".join(questions * 2) + "\n")
        results["batch_questions_per_s"] = round(2 * len(questions) / wall, 1)
        results["batch_wall_s"] = round(wall, 2)
        results["peak_rss_child_mib"] = round(rss / 1024, 1)

        searcher = store.load_searcher(index_dir, embedder=embedder, aux_encoder=aux)
        answerer = Answerer.fixed(searcher)
        for q in questions[:5]:
            answerer.answer(q)  # warm-up
        answer_ms, encode_ms = [], []
        for _ in range(args.repeat):
            for q in questions:
                t = time.perf_counter()
                answerer.answer(q)
                answer_ms.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                embedder.model.encode([q], prompt="query: ", normalize_embeddings=True, show_progress_bar=False)
                encode_ms.append((time.perf_counter() - t) * 1000)
        results["warm_answer_ms_p50"] = round(statistics.median(answer_ms), 1)
        results["warm_answer_ms_p95"] = round(percentile(answer_ms, 95), 1)
        results["bare_encode_ms_p50"] = round(statistics.median(encode_ms), 1)
        results["answer_over_encode_ratio_p50"] = round(statistics.median(answer_ms) / statistics.median(encode_ms), 2)
        results["peak_rss_bench_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(results, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
