"""Clause-level policy diff (index/diff.py) and `policybot diff` on fixture revisions of the policy."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.diff import ADDED, CHANGED, MOVED, REMOVED, char_ops, diff_policies, format_terminal, render_ops
from index.policy import PolicyParseError, load, parse

FIXTURES = Path(__file__).parent / "fixtures" / "policies"
BASE = FIXTURES / "base.txt"


def diff_of(name: str):
    return diff_policies(load(BASE), load(FIXTURES / name), "base.txt", name)


def by_kind(diff, kind):
    return [c for c in diff.changes if c.kind == kind]


def test_changed_clause_is_reported_with_a_character_diff_and_the_new_revision():
    diff = diff_of("changed_clause.txt")
    changed = {c.new_id: c for c in by_kind(diff, CHANGED)}
    assert set(changed) == {"3-2", "trailer"}
    assert not by_kind(diff, ADDED) and not by_kind(diff, REMOVED) and not by_kind(diff, MOVED)
    clause = changed["3-2"]
    assert clause.new_label == "第3条（利用目的）第2項"
    edits = [op for op in clause.ops if op[0] != "equal"]
    assert edits == [("insert", "", "相当の")]  # characters, not a whole-sentence replacement
    assert (diff.old.revision, diff.new.revision) == ("2026-06-03", "2026-09-01")
    assert diff.warnings == ()


def test_inserted_item_renumbers_the_following_items_as_moves():
    diff = diff_of("inserted_item.txt")
    added = by_kind(diff, ADDED)
    assert [(c.new_id, c.new_text) for c in added] == [("3-1-8", "人工知能を用いた本サービスの機能の開発及び改善のため")]
    moves = [(c.old_id, c.new_id) for c in by_kind(diff, MOVED)]
    assert moves == [("3-1-8", "3-1-9"), ("3-1-9", "3-1-10"), ("3-1-10", "3-1-11")]
    assert all(not c.text_changed for c in by_kind(diff, MOVED))
    assert not by_kind(diff, REMOVED)
    nine = next(c for c in by_kind(diff, MOVED) if c.old_id == "3-1-9")
    assert (nine.old_label, nine.new_label) == ("第3条（利用目的）第1項第9号", "第3条（利用目的）第1項第10号")


def test_a_changed_item_is_not_reported_again_as_a_change_of_its_paragraph():
    diff = diff_of("inserted_item.txt")
    assert all(c.new_id != "3-1" and c.old_id != "3-1" for c in diff.changes)


def test_changed_contact_window_shows_the_old_and_new_address():
    diff = diff_of("contact_changed.txt")
    assert (diff.old.contact_email, diff.new.contact_email) == ("info@sokonara.co.jp", "privacy@sokonara.co.jp")
    window = next(c for c in diff.changes if c.new_id == "10")
    assert window.kind == CHANGED and window.new_label == "第10条（お問い合わせ窓口）"
    assert ("replace", "info", "privacy") in window.ops
    assert "contact e-mail: info@sokonara.co.jp → privacy@sokonara.co.jp" in format_terminal(diff)


def test_dropped_article_is_removed_and_the_later_articles_move():
    diff = diff_of("dropped_article.txt")
    removed = {(c.unit, c.old_id) for c in by_kind(diff, REMOVED)}
    assert removed == {("heading", "7"), ("paragraph", "7-1"), ("paragraph", "7-2")}
    moves = {(c.unit, c.old_id): c for c in by_kind(diff, MOVED)}
    assert moves[("heading", "8")].new_label == "第7条（開示等の請求）"
    assert moves[("article", "10")].new_id == "9"
    # 第8条第1項 moved to 第7条第1項 and its reference 第10条 → 第9条 was edited: a move plus a change.
    edited = moves[("paragraph", "8-1")]
    assert edited.new_id == "7-1" and edited.text_changed
    assert [op for op in edited.ops if op[0] != "equal"] == [("replace", "10", "9")]
    assert not moves[("paragraph", "8-2")].text_changed
    assert diff.warnings == ()


def test_a_reference_left_pointing_at_a_renumbered_article_is_warned_about():
    text = (FIXTURES / "dropped_article.txt").read_text(encoding="utf-8").replace("第9条に定める窓口", "第10条に定める窓口")
    diff = diff_policies(load(BASE), parse(text))
    assert diff.warnings == ("第7条（開示等の請求）第1項 still refers to 第10条, but that article is now 第9条: "
                             "update the reference",)


def test_edit_without_a_new_revision_date_is_warned_about():
    text = BASE.read_text(encoding="utf-8").replace("十分な保護水準", "十分な水準")
    diff = diff_policies(load(BASE), parse(text))
    assert [c.new_id for c in diff.changes] == ["5"]
    assert any("revision date did not" in w for w in diff.warnings)


def test_identical_texts_have_no_changes():
    diff = diff_policies(load(BASE), load(BASE))
    assert diff.identical and not diff.has_changes
    assert "No changes" in format_terminal(diff)


def test_removed_clauses_are_listed_where_they_were():
    diff = diff_of("dropped_article.txt")
    ids = [(c.kind, c.old_id or c.new_id) for c in diff.changes]
    assert ids.index((REMOVED, "7-2")) < ids.index((MOVED, "8-1")) < ids.index((CHANGED, "trailer"))


@pytest.mark.parametrize("name", ["changed_clause.txt", "inserted_item.txt", "contact_changed.txt",
                                  "dropped_article.txt"])
def test_json_ops_rebuild_both_texts(name):
    data = json.loads(json.dumps(diff_of(name).to_json(), ensure_ascii=False))
    assert set(data) >= {"old", "new", "changes", "warnings", "counts"}
    assert data["old"]["sha256"] != data["new"]["sha256"] and data["new"]["revision"] == "2026-09-01"
    for change in data["changes"]:
        assert change["kind"] in {"changed", "added", "removed", "moved"}
        if change["kind"] in {"changed", "moved"}:
            assert "".join(op[1] for op in change["ops"]) == change["old_text"]
            assert "".join(op[2] for op in change["ops"]) == change["new_text"]


def test_one_character_coincidences_are_folded_into_the_edit():
    ops = char_ops("メールアドレス：info@example.jp", "メールアドレス：privacy@example.jp")
    assert [op for op in ops if op[0] != "equal"] == [("replace", "info", "privacy")]


def test_terminal_colours_only_when_asked():
    diff = diff_of("changed_clause.txt")
    plain, coloured = format_terminal(diff, color=False), format_terminal(diff, color=True)
    assert "\x1b[" not in plain and "{+相当の+}" in plain
    assert "\x1b[32m相当の\x1b[0m" in coloured
    assert render_ops((("delete", "保護", ""),), color=False) == "[-保護-]"


def test_duplicate_article_stops_with_the_line_number():
    with pytest.raises(PolicyParseError) as err:
        load(FIXTURES / "broken_duplicate_article.txt")
    assert err.value.line == 37
    assert "broken_duplicate_article.txt:37:" in str(err.value)


def test_heading_typo_stops_with_the_line_number():
    with pytest.raises(PolicyParseError) as err:
        load(FIXTURES / "broken_heading_typo.txt")
    assert err.value.line == 34


# --- the command -----------------------------------------------------------------------------

def run_cli(capsys, *argv):
    from bot.cli import main

    code = main(["diff", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_diff_command_prints_json(capsys):
    code, out, err = run_cli(capsys, str(BASE), str(FIXTURES / "inserted_item.txt"), "--json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert data["counts"] == {"changed": 1, "added": 1, "removed": 0, "moved": 3}
    assert data["new"]["source"].endswith("inserted_item.txt")


def test_diff_command_terminal_output_without_colour_when_piped(capsys):
    code, out, _ = run_cli(capsys, str(BASE), str(FIXTURES / "contact_changed.txt"))
    assert code == 0
    assert "~ changed  第10条（お問い合わせ窓口）" in out and "\x1b[" not in out
    code, out, _ = run_cli(capsys, str(BASE), str(FIXTURES / "contact_changed.txt"), "--color")
    assert "\x1b[" in out


@pytest.mark.parametrize("argv, message", [
    (["only-one.txt"], "give both OLD and NEW"),
    ([str(BASE), "missing.txt"], "policy file not found: missing.txt"),
    ([str(BASE), str(FIXTURES / "broken_duplicate_article.txt")], "broken_duplicate_article.txt:37: 第5条 appears twice"),
    ([str(BASE), str(FIXTURES)], "is a directory"),
])
def test_diff_command_user_errors(capsys, argv, message):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err


def test_diff_command_without_an_index_says_what_to_do(capsys, tmp_path):
    code, _, err = run_cli(capsys, "--index", str(tmp_path / "none"), "--policy", str(BASE))
    assert code == 2
    assert "run `policybot build` first" in err


def test_a_retitled_article_is_one_heading_change():
    text = BASE.read_text(encoding="utf-8").replace("第3条 （利用目的）", "第3条 （個人情報の利用目的）")
    diff = diff_policies(load(BASE), parse(text))
    [change] = diff.changes
    assert (change.kind, change.unit, change.new_label) == (CHANGED, "heading", "第3条（個人情報の利用目的）")
    assert [op for op in change.ops if op[0] != "equal"] == [("insert", "", "個人情報の")]


def test_a_second_paragraph_turns_the_article_into_paragraph_one():
    text = BASE.read_text(encoding="utf-8").replace(
        "委託先に対して必要かつ適切な監督を行います。\n",
        "委託先に対して必要かつ適切な監督を行います。\n当社は、委託先における個人データの取扱状況を定期的に確認します。\n")
    diff = diff_policies(load(BASE), parse(text))
    assert [(c.kind, c.old_id, c.new_id) for c in diff.changes] == [(MOVED, "5", "5-1"), (ADDED, None, "5-2")]
