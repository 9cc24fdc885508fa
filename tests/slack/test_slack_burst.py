"""A burst of 100 mentions at once: every delivery acked within Slack's 3 s, one reply each."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from .driver import BOT_TOKEN

QUESTIONS = ("利用料金の請求に個人情報を使いますか？", "個人データを第三者に提供しますか？", "開示の請求はどこに連絡すればいいですか？",
             "Do you share my personal data with partners?")
N = 100


def test_100_concurrent_mentions_get_100_fast_acks_and_100_single_replies(sender, slack_stub, slack_bot):
    events = [sender.mention(QUESTIONS[i % len(QUESTIONS)]) for i in range(N)]
    with ThreadPoolExecutor(max_workers=N) as pool:
        sent = list(pool.map(sender.send_event, events))
    assert [s.status for s in sent] == [200] * N
    slowest = max(s.seconds for s in sent)
    assert slowest < 3.0, f"slowest ack took {slowest:.2f}s"  # Slack's limit; the task asks for this check
    slack_stub.wait_for("chat.postMessage", N, timeout=120)
    assert slack_bot.drain(timeout=60)
    posts = slack_stub.calls("chat.postMessage")
    assert len(posts) == N
    assert sorted(p.body["thread_ts"] for p in posts) == sorted(e["ts"] for e in events)
    assert all(p.token == BOT_TOKEN and p.body["blocks"] for p in posts)
