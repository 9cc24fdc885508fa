"""The build pipeline (index/build.py): one parse of the text, one diff, shared by the store,
the printed summary and the Slack announcement; the manifest records the calibration.

`policybot build` runs in process on real fixture policies with the session models; the
announcement goes through a real slack_sdk client to tests/slack_api_stub.py.
"""
from __future__ import annotations

import json
import shutil
import sys
from collections import Counter
from pathlib import Path

import pytest

from bot.announce import ANNOUNCE_ENV
from bot.calibration import calibration_stamp
from bot.cli import main
from index import policy as policy_mod
from index import store
from index.build import build, execute, prepare
from tests.build_support import build_like_cli, use_session_models
from tests.slack_api_stub import SlackApiStub

FIXTURES = Path(__file__).parent / "fixtures" / "policies"
BASE = FIXTURES / "base.txt"
REVISED = FIXTURES / "inserted_item.txt"  # base.txt with one item added to 第3条第1項


@pytest.fixture()
def build_cli(monkeypatch, embedder, aux_encoder):
    """`policybot build` in process, with the session's models."""
    use_session_models(monkeypatch, embedder, aux_encoder)
    return lambda policy, index_dir: main(["build", "--policy", str(policy), "--index", str(index_dir), "-q"])


@pytest.fixture()
def parsed_texts(monkeypatch) -> Counter:
    """How often each text is parsed: every name bound to index.policy.parse (whatever module
    imported it) is wrapped, so a parse through any path is counted."""
    original = policy_mod.parse
    counts: Counter = Counter()

    def counting_parse(text: str, *args, **kwargs):
        counts[text] += 1
        return original(text, *args, **kwargs)

    for module in list(sys.modules.values()):
        for name, value in list(getattr(module, "__dict__", {}).items()):
            if value is original:
                monkeypatch.setattr(module, name, counting_parse)
    return counts


@pytest.fixture(scope="module")
def base_template(tmp_path_factory, fake_model) -> Path:
    """An index of base.txt as `policybot build` writes it (module scope: built before any parse is
    counted; with the stand-in encoders of tests/fakes.py, as every test here uses)."""
    directory = tmp_path_factory.mktemp("build-base") / "index"
    build_like_cli(BASE, directory, fake_model.embedder, fake_model.aux_encoder)
    return directory


def test_a_build_parses_the_policy_once_and_shares_one_diff(build_cli, parsed_texts, base_template, tmp_path,
                                                            capsys, monkeypatch):
    index_dir = tmp_path / "index"
    shutil.copytree(base_template, index_dir)
    with SlackApiStub() as slack:
        monkeypatch.setenv(ANNOUNCE_ENV, "C0ANNOUNCE")
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
        monkeypatch.setenv("SLACK_API_URL", slack.api_url)
        assert build_cli(REVISED, index_dir) == 0
        [posted] = slack.calls("chat.postMessage")
    out = capsys.readouterr().out

    new_text, live_text = REVISED.read_text(encoding="utf-8"), BASE.read_text(encoding="utf-8")
    # the new text once (guard, store, summary and announcement share it), the live one once for the diff
    assert parsed_texts == Counter({new_text: 1, live_text: 1})
    assert "第3条（利用目的）第1項第8号" in out  # the printed summary names the added item …
    assert posted.body["channel"] == "C0ANNOUNCE" and "追加 1件" in posted.body["text"]  # … and so does Slack
    assert store.read_manifest(index_dir)["policy_sha256"] == policy_mod.text_sha256(new_text)


def test_a_first_build_and_a_no_op_parse_the_text_once(build_cli, parsed_texts, tmp_path, capsys):
    index_dir = tmp_path / "index"
    assert build_cli(BASE, index_dir) == 0
    assert build_cli(BASE, index_dir) == 0
    assert "nothing to do" in capsys.readouterr().out.splitlines()[-1]
    assert parsed_texts == Counter({BASE.read_text(encoding="utf-8"): 2})  # once per build


def test_the_plan_holds_the_diff_the_report_carries(base_template, tmp_path, embedder, aux_encoder):
    index_dir = tmp_path / "index"
    shutil.copytree(base_template, index_dir)
    plan = prepare(REVISED, index_dir, embedder.name)
    assert plan.live is not None and plan.previous_policy_text == BASE.read_text(encoding="utf-8")
    assert [(c.kind, c.new_id) for c in plan.diff.changes if c.kind == "added"] == [("added", "3-1-8")]
    report = execute(plan, embedder=embedder, aux_encoder=aux_encoder)
    assert report.diff is plan.diff and report.skipped is False
    assert report.previous == plan.live.path.name


def test_the_manifest_records_the_calibration_and_build_prints_it(build_cli, tmp_path, capsys):
    index_dir = tmp_path / "index"
    assert build_cli(BASE, index_dir) == 0
    stamp = calibration_stamp()
    assert store.read_manifest(index_dir)["calibration"] == stamp.to_json() == {
        "file": "bot/calibration.json", "sha256": stamp.sha256, "fitted_at": stamp.fitted_at}
    [line] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("calibration ")]
    assert line == (f"calibration bot/calibration.json fitted {stamp.fitted_at} (sha256 {stamp.sha256[:12]}) "
                    "recorded in the manifest")


def test_a_new_calibration_makes_a_new_generation(base_template, tmp_path, embedder, aux_encoder):
    index_dir = tmp_path / "index"
    shutil.copytree(base_template, index_dir)
    stamp = calibration_stamp().to_json()
    same = build(BASE, index_dir, embedder.name, embedder=embedder, aux_encoder=aux_encoder, calibration=stamp)
    assert same.skipped is True
    refitted = dict(stamp, sha256="0" * 64, fitted_at="2027-01-15")
    report = build(BASE, index_dir, embedder.name, embedder=embedder, aux_encoder=aux_encoder, calibration=refitted)
    assert report.skipped is False and report.diff is None  # same text: nothing to announce
    assert store.read_manifest(index_dir)["calibration"] == refitted


def test_a_damaged_calibration_stops_the_build_before_the_index_is_touched(build_cli, base_template, tmp_path,
                                                                           capsys, monkeypatch):
    from bot import calibration
    from tests.cli_support import assert_one_clear_line

    index_dir = tmp_path / "index"
    shutil.copytree(base_template, index_dir)
    before = sorted(p.name for p in index_dir.iterdir())
    broken = tmp_path / "calibration.json"
    broken.write_text(json.dumps({"format": 1, "features": ["reach"]}), encoding="utf-8")
    monkeypatch.setattr(calibration, "CALIBRATION_PATH", broken)
    assert build_cli(REVISED, index_dir) == 2
    assert_one_clear_line(capsys.readouterr().err, str(broken), "scripts/calibrate.py")
    assert sorted(p.name for p in index_dir.iterdir()) == before
