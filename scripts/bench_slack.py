"""Benchmark the Slack bot under a burst: ack latency (what Slack's 3-second rule is about)
and reply latency (mention sent → answer posted), in HTTP mode on this machine.

    .venv/bin/python scripts/bench_slack.py [--events 100] [--workers 4]

Everything is local: the app listens on 127.0.0.1, a stand-in for Slack's Web API
(tests/slack_api_stub.py) records the replies, the index is built from the real policy
into a temporary directory. Prints JSON and the line for README. Measured, not asserted.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

QUESTIONS = ("利用料金の請求に個人情報を使いますか？", "個人データを第三者に提供しますか？",
             "開示の請求はどこに連絡すればいいですか？", "Do you share my personal data with partners?",
             "業務委託先に個人情報を渡すことはありますか？")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100, help="mentions sent at once (default 100)")
    parser.add_argument("--workers", type=int, default=None, help="answer pool size (default: the app's)")
    args = parser.parse_args()

    from bot.answerer import Answerer
    from bot.settings import Settings
    from bot.slack_app import ANSWER_WORKERS, create_app
    from index import store
    from index.build import build
    from index.embed import DEFAULT_MODEL, AuxEncoder, load_embedder
    from tests.slack.driver import BOT_TOKEN, SIGNING_SECRET, SlackSender
    from tests.slack_api_stub import SlackApiStub

    policy = REPO / "policy_text" / "privacy_policy.txt"
    with tempfile.TemporaryDirectory() as tmp, SlackApiStub() as stub:
        index_dir = Path(tmp) / "index"
        embedder, aux = load_embedder(DEFAULT_MODEL), AuxEncoder()
        build(policy, index_dir, DEFAULT_MODEL, embedder=embedder, aux_encoder=aux)
        answerer = Answerer.fixed(store.load_searcher(index_dir, embedder=embedder, aux_encoder=aux))
        settings = Settings(policy_path=policy, index_dir=index_dir, db_path=Path(tmp) / "bench.sqlite3",
                            slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET, slack_app_token=None,
                            slack_api_url=stub.api_url, port=0)
        workers = args.workers or ANSWER_WORKERS
        bot = create_app(settings, answerer, answer_workers=workers)
        server = bot.http_server(host="127.0.0.1", port=0).start()
        sender = SlackSender(server.url, stub)
        try:
            for q in QUESTIONS:  # warm-up: first answers pay one-off costs
                sender.send_event(sender.mention(q))
            stub.wait_for("chat.postMessage", len(QUESTIONS), timeout=120)
            bot.drain()
            stub.clear()

            events = [sender.mention(QUESTIONS[i % len(QUESTIONS)]) for i in range(args.events)]
            sent_at: dict[str, float] = {}

            def send(event):
                sent_at[event["ts"]] = time.perf_counter()
                return sender.send_event(event)

            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.events) as pool:
                results = list(pool.map(send, events))
            stub.wait_for("chat.postMessage", args.events, timeout=600)
            bot.drain()
            wall = time.perf_counter() - started
            posts = stub.calls("chat.postMessage")
        finally:
            server.stop()
            bot.close()

    acks_ms = [r.seconds * 1000 for r in results]
    reply_s = [p.at - sent_at[p.body["thread_ts"]] for p in posts]
    threads = [p.body["thread_ts"] for p in posts]
    out = {
        "events": args.events, "cpu_count": os.cpu_count(), "answer_workers": workers,
        "acks_200": sum(r.status == 200 for r in results),
        "ack_ms_p50": round(statistics.median(acks_ms), 1), "ack_ms_p95": round(percentile(acks_ms, 95), 1),
        "ack_ms_max": round(max(acks_ms), 1),
        "replies": len(posts), "duplicate_replies": len(threads) - len(set(threads)),
        "reply_s_p50": round(statistics.median(reply_s), 2), "reply_s_p95": round(percentile(reply_s, 95), 2),
        "reply_s_max": round(max(reply_s), 2), "burst_wall_s": round(wall, 2),
        "answers_per_s": round(args.events / wall, 1),
    }
    print(json.dumps(out, indent=2))
    print(f"\nSlack burst ({out['events']} concurrent mentions, HTTP mode, {out['cpu_count']} cores, "
          f"{workers} answer workers): ack p50 {out['ack_ms_p50']:.0f} ms / p95 {out['ack_ms_p95']:.0f} ms "
          f"(max {out['ack_ms_max']:.0f} ms); reply p50 {out['reply_s_p50']:.1f} s / p95 {out['reply_s_p95']:.1f} s; "
          f"{out['replies']} replies, {out['duplicate_replies']} duplicated.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
