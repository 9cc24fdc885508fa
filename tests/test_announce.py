"""Slack announcement of a policy revision: Block Kit formatting, and posting through a real
slack_sdk WebClient to a local HTTP server standing in for Slack's Web API."""
from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.announce import ANNOUNCE_ENV, MAX_DETAILED, announce_build, announcement, post_announcement
from bot.slack_client import make_client
from bot.settings import Settings
from index.diff import diff_policies
from index.policy import load, parse
from index.build import BuildReport
from tests.slack_api_stub import RETRY_BASE_S

FIXTURES = Path(__file__).parent / "fixtures" / "policies"
BASE = FIXTURES / "base.txt"


def diff_to(name: str):
    return diff_policies(load(BASE), load(FIXTURES / name))


def texts(blocks) -> str:
    """All visible text of the blocks, for assertions."""
    return json.dumps(blocks, ensure_ascii=False)


def styled_runs(blocks, style: str) -> list[str]:
    runs = []
    for block in blocks:
        for section in block.get("elements", []):
            for element in section.get("elements", []) if isinstance(section, dict) else []:
                if element.get("style", {}).get(style):
                    runs.append(element["text"])
    return runs


# --- formatting (pure) -----------------------------------------------------------------------

def test_contact_change_shows_old_and_new_address_with_struck_and_bold_text():
    fallback, blocks = announcement(diff_to("contact_changed.txt"))
    assert fallback == "個人情報保護方針が改定されました（2026-06-03 → 2026-09-01）：変更 2件"
    assert blocks[0]["type"] == "header"
    assert "*お問い合わせ窓口* info@sokonara.co.jp → privacy@sokonara.co.jp" in blocks[1]["text"]["text"]
    assert "info" in styled_runs(blocks, "strike") and "privacy" in styled_runs(blocks, "bold")
    # the postal address is in the same contact block: its old and new parts are shown too
    assert "中央区天神" in styled_runs(blocks, "strike") and "博多区博多駅前" in styled_runs(blocks, "bold")
    assert "変更: 第10条（お問い合わせ）【お問合せ窓口】\n" in styled_runs(blocks, "bold")


def test_renumbered_items_are_listed_as_moves_not_deletions():
    _, blocks = announcement(diff_to("inserted_item.txt"))
    body = texts(blocks)
    assert "追加: 第3条（利用目的）第1項第8号" in body
    assert "第3条（利用目的）第1項第8号 → 第3条（利用目的）第1項第9号" in body
    assert "第3条（利用目的）第1項第9号 → 第3条（利用目的）第1項第10号" in body
    assert "削除" not in body


def test_long_unchanged_text_is_trimmed_around_the_edit():
    _, blocks = announcement(diff_to("changed_clause.txt"))
    clause = next(b for b in blocks if "第3条（利用目的）第2項" in texts([b]))
    runs = [e["text"] for e in clause["elements"][0]["elements"]]
    assert "相当の" in runs and "限り" in runs
    # after the last edit (「…範囲内に限り」) only the next characters are kept, then 「…」
    after_edit = load(FIXTURES / "changed_clause.txt").clauses()
    after_edit = next(c.text for c in after_edit if c.id == "3-2").split("範囲内に限り", 1)[1]
    assert runs[-1].endswith("…") and after_edit.startswith(runs[-1][:-1]) and len(runs[-1]) < len(after_edit)
    assert "その他の方法により公表します。" not in "".join(runs)  # the end of 第2項, far from the edit


def test_a_large_revision_stays_within_slacks_block_limit():
    text = BASE.read_text(encoding="utf-8")
    for n in range(1, 11):
        text = text.replace(f"- ({n}) ", f"- ({n}) 改定後の")
    diff = diff_policies(load(BASE), parse(text))
    assert len(diff.changes) > MAX_DETAILED  # the items of 第3条第1項 and 第4条第2項, all reworded
    _, blocks = announcement(diff)
    assert len(blocks) <= 50
    assert len([b for b in blocks if b["type"] == "rich_text"]) == MAX_DETAILED
    assert blocks[-1]["elements"][0]["text"].startswith(f"ほか {len(diff.changes) - MAX_DETAILED}件の変更があります。")


# --- posting to a local stand-in for Slack -----------------------------------------------------

class FakeSlack:
    """Records Web API calls and answers with a canned response."""

    def __init__(self, response: dict | None = None):
        self.calls: list[dict] = []
        self.response = response or {"ok": True, "channel": "C0ANNOUNCE", "ts": "1700000000.000100"}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server API)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.calls.append({"path": self.path, "auth": self.headers.get("Authorization"),
                                   "json": json.loads(body or b"{}")})
                payload = json.dumps(fake.response).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def slack():
    server = FakeSlack()
    yield server
    server.close()


def settings_for(slack: FakeSlack, tmp_path: Path, policy: Path, **values) -> Settings:
    return Settings(**{"policy_path": policy, "index_dir": tmp_path / "index", "db_path": tmp_path / "db.sqlite3",
                       "slack_bot_token": "xoxb-test-token", "slack_api_url": slack.url,
                       "slack_retry_base": RETRY_BASE_S, **values})


def report(tmp_path: Path, previous_text: str | None, built: Path, skipped: bool = False) -> BuildReport:
    """What the build pipeline reports after building `built` over a generation of `previous_text`."""
    diff = None if previous_text is None or skipped else diff_policies(parse(previous_text), load(built))
    return BuildReport(index_dir=tmp_path / "index", generation="g-test", clause_count=42, model="m", seconds=1.0,
                       skipped=skipped, previous="g-old" if previous_text else None,
                       previous_policy_text=previous_text, diff=diff)


def test_post_sends_the_summary_to_the_channel(slack, tmp_path):
    settings = settings_for(slack, tmp_path, BASE)
    assert post_announcement(make_client(settings), "C0ANNOUNCE", diff_to("contact_changed.txt")) is True
    [call] = slack.calls
    assert call["path"] == "/api/chat.postMessage"
    assert call["auth"] == "Bearer xoxb-test-token"
    assert call["json"]["channel"] == "C0ANNOUNCE"
    assert call["json"]["text"].startswith("個人情報保護方針が改定されました")
    assert "privacy" in styled_runs(call["json"]["blocks"], "bold")


def test_slack_refusal_is_logged_with_a_hint_and_does_not_raise(tmp_path, caplog):
    server = FakeSlack({"ok": False, "error": "not_in_channel"})
    try:
        settings = settings_for(server, tmp_path, BASE)
        with caplog.at_level(logging.WARNING, logger="bot.announce"):
            assert post_announcement(make_client(settings), "C0ANNOUNCE", diff_to("changed_clause.txt")) is False
    finally:
        server.close()
    assert "not_in_channel" in caplog.text and "/invite" in caplog.text
    assert "xoxb-test-token" not in caplog.text


def test_unreachable_slack_is_logged_and_does_not_raise(tmp_path, caplog):
    settings = Settings(policy_path=BASE, index_dir=tmp_path, db_path=tmp_path / "db",
                        slack_bot_token="xoxb-test-token", slack_api_url="http://127.0.0.1:9/api/",
                        slack_retry_base=RETRY_BASE_S)
    with caplog.at_level(logging.WARNING, logger="bot.announce"):
        assert post_announcement(make_client(settings), "C0ANNOUNCE", diff_to("changed_clause.txt")) is False
    assert "could not announce" in caplog.text


def test_build_announces_only_when_the_channel_is_set(slack, tmp_path, monkeypatch):
    monkeypatch.delenv(ANNOUNCE_ENV, raising=False)
    settings = settings_for(slack, tmp_path, FIXTURES / "inserted_item.txt")
    previous = BASE.read_text(encoding="utf-8")
    assert settings.announce_channel is None
    assert announce_build(settings, report(tmp_path, previous, settings.policy_path)) is False
    assert slack.calls == []

    monkeypatch.setenv(ANNOUNCE_ENV, "C0ANNOUNCE")
    settings = settings_for(slack, tmp_path, FIXTURES / "inserted_item.txt")  # read at start, like every setting
    assert announce_build(settings, report(tmp_path, previous, settings.policy_path)) is True
    [call] = slack.calls
    assert call["json"]["channel"] == "C0ANNOUNCE"
    assert "追加 1件" in call["json"]["text"]


@pytest.mark.parametrize("previous, skipped", [(None, False), ("same", True), ("same", False)])
def test_build_without_clause_changes_posts_nothing(slack, tmp_path, previous, skipped):
    settings = settings_for(slack, tmp_path, BASE, announce_channel="C0ANNOUNCE")
    previous_text = BASE.read_text(encoding="utf-8") if previous else None
    assert announce_build(settings, report(tmp_path, previous_text, BASE, skipped)) is False
    assert slack.calls == []


def test_build_with_a_channel_but_no_token_warns(slack, tmp_path, caplog):
    settings = settings_for(slack, tmp_path, FIXTURES / "changed_clause.txt", announce_channel="C0ANNOUNCE",
                            slack_bot_token=None)
    with caplog.at_level(logging.WARNING, logger="bot.announce"):
        previous = BASE.read_text(encoding="utf-8")
        assert announce_build(settings, report(tmp_path, previous, settings.policy_path)) is False
    assert "SLACK_BOT_TOKEN is not" in caplog.text and slack.calls == []
