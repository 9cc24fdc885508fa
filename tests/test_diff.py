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
    # 「…利用目的と関連性…範囲内において変更…」 → 「…利用目的と相当の関連性…範囲内に限り変更…」:
    # characters, not a whole-sentence replacement
    assert edits == [("insert", "", "相当の"), ("replace", "おいて", "限り")]
    assert (diff.old.revision, diff.new.revision) == ("2026-06-03", "2026-09-01")
    assert diff.warnings == ()


def test_inserted_item_renumbers_the_following_items_as_moves():
    diff = diff_of("inserted_item.txt")
    added = by_kind(diff, ADDED)
    assert [(c.new_id, c.new_label, c.new_text) for c in added] == [
        ("3-1-8", "第3条（利用目的）第1項第8号", "人工知能を用いた当社サービスの機能の開発・改善")]
    moves = [(c.old_id, c.new_id) for c in by_kind(diff, MOVED)]
    assert moves == [("3-1-8", "3-1-9"), ("3-1-9", "3-1-10")]
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
    # the contact block is one unit: the e-mail and the postal address change in one clause
    assert [(c.kind, c.old_id, c.new_id) for c in diff.changes] == [(CHANGED, "10-2", "10-2"),
                                                                    (CHANGED, "trailer", "trailer")]
    window = diff.changes[0]
    assert window.unit == "paragraph" and window.new_label == "第10条（お問い合わせ）【お問合せ窓口】"
    assert ("replace", "info", "privacy") in window.ops
    assert "住所：〒810-0001 福岡市中央区天神2丁目5番28号天神西通りセンタービル" in window.old_text
    assert "住所：〒812-0011 福岡市博多区博多駅前2丁目2番2号博多駅前ビル" in window.new_text
    assert "contact e-mail: info@sokonara.co.jp → privacy@sokonara.co.jp" in format_terminal(diff)


def test_issue_9_revision_reports_exactly_what_was_revised_and_nothing_else():
    """Issue 9 scope 3: an inserted item, a reworded paragraph, a new contact e-mail, a new 改定 date."""
    diff = diff_of("revision_2026_09.txt")
    assert [(c.kind, c.old_id, c.new_id) for c in diff.changes] == [
        (ADDED, None, "3-1-8"),
        (MOVED, "3-1-8", "3-1-9"), (MOVED, "3-1-9", "3-1-10"),
        (CHANGED, "3-2", "3-2"),
        (CHANGED, "10-2", "10-2"),
        (CHANGED, "trailer", "trailer"),
    ]
    assert diff.warnings == ()
    added, eighth, ninth, reworded, contact, trailer = diff.changes
    assert (added.unit, added.new_label, added.new_text) == (
        "item", "第3条（利用目的）第1項第8号", "人工知能を用いた当社サービスの機能の開発・改善")
    assert [(m.old_label, m.new_label, m.text_changed) for m in (eighth, ninth)] == [
        ("第3条（利用目的）第1項第8号", "第3条（利用目的）第1項第9号", False),
        ("第3条（利用目的）第1項第9号", "第3条（利用目的）第1項第10号", False)]
    assert (eighth.new_text, ninth.new_text) == (
        "当社サービスの利用状況等の調査・分析", "本サービスを利用する企業に対する、利用規約に同意した利用者情報の提供")

    def edits(change):
        return [op for op in change.ops if op[0] != "equal"]

    assert reworded.new_label == "第3条（利用目的）第2項"
    assert edits(reworded) == [("insert", "", "相当の"), ("replace", "おいて", "限り")]
    assert (contact.unit, contact.new_label) == ("paragraph", "第10条（お問い合わせ）【お問合せ窓口】")
    assert edits(contact) == [("replace", "info", "privacy")]
    assert trailer.unit == "trailer" and edits(trailer) == [("insert", "", "\n2026年9月1日 改定")]
    assert (diff.old.revision, diff.new.revision) == ("2026-06-03", "2026-09-01")
    assert diff.new.dates == ("2024-10-01", "2026-06-03", "2026-09-01")
    assert (diff.old.contact_email, diff.new.contact_email) == ("info@sokonara.co.jp", "privacy@sokonara.co.jp")
    assert diff.counts() == {"changed": 3, "added": 1, "removed": 0, "moved": 2}


def test_dropped_article_is_removed_and_the_later_articles_move():
    diff = diff_of("dropped_article.txt")
    removed = {(c.unit, c.old_id) for c in by_kind(diff, REMOVED)}
    assert removed == {("heading", "7"), ("paragraph", "7-1"), ("paragraph", "7-2")}
    moves = {(c.unit, c.old_id): c for c in by_kind(diff, MOVED)}
    assert moves[("heading", "8")].new_label == "第7条（個人情報に関する利用者の開示・訂正等の権利）"
    assert (moves[("paragraph", "10-2")].new_id, moves[("paragraph", "10-2")].new_label) == (
        "9-2", "第9条（お問い合わせ）【お問合せ窓口】")
    # 第8条 (one paragraph) moved to 第7条 and its reference 第10条 → 第9条 was edited: a move plus a change.
    edited = moves[("article", "8")]
    assert edited.new_id == "7" and edited.text_changed
    assert [op for op in edited.ops if op[0] != "equal"] == [("replace", "10", "9")]
    assert not moves[("paragraph", "9-1")].text_changed and moves[("paragraph", "9-1")].new_id == "8-1"
    assert by_kind(diff, CHANGED) == [c for c in diff.changes if c.new_id == "trailer"]
    assert diff.warnings == ()


def test_a_reference_left_pointing_at_a_renumbered_article_is_warned_about():
    text = (FIXTURES / "dropped_article.txt").read_text(encoding="utf-8").replace(
        "第9条に定めるお問い合わせ窓口", "第10条に定めるお問い合わせ窓口")
    diff = diff_policies(load(BASE), parse(text))
    assert diff.warnings == ("第7条（個人情報に関する利用者の開示・訂正等の権利） still refers to 第10条, "
                             "but that article is now 第9条: update the reference",)


def test_edit_without_a_new_revision_date_is_warned_about():
    text = BASE.read_text(encoding="utf-8").replace("必要かつ適切な監督を行います", "適切な監督を行います")
    diff = diff_policies(load(BASE), parse(text))
    assert [(c.kind, c.new_id) for c in diff.changes] == [(CHANGED, "5")]
    assert diff.warnings == ("the text changed but the revision date did not (still 2026-06-03): "
                             "add a line YYYY年M月D日 改定 after the dates at the end of the policy",)


def test_identical_texts_have_no_changes():
    diff = diff_policies(load(BASE), load(BASE))
    assert diff.identical and not diff.has_changes
    assert "No changes" in format_terminal(diff)


def test_removed_clauses_are_listed_where_they_were():
    diff = diff_of("dropped_article.txt")
    # in the new text's order, the removed 第7条 where it stood: before the old 第8条 (now 第7条)
    assert [(c.kind, c.unit, c.old_id, c.new_id) for c in diff.changes] == [
        (REMOVED, "heading", "7", None), (REMOVED, "paragraph", "7-1", None), (REMOVED, "paragraph", "7-2", None),
        (MOVED, "heading", "8", "7"), (MOVED, "article", "8", "7"),
        (MOVED, "heading", "9", "8"), (MOVED, "paragraph", "9-1", "8-1"), (MOVED, "paragraph", "9-2", "8-2"),
        (MOVED, "heading", "10", "9"), (MOVED, "paragraph", "10-1", "9-1"), (MOVED, "paragraph", "10-2", "9-2"),
        (CHANGED, "trailer", "trailer", "trailer")]


@pytest.mark.parametrize("name", ["changed_clause.txt", "inserted_item.txt", "contact_changed.txt",
                                  "dropped_article.txt", "revision_2026_09.txt"])
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
    assert err.value.line == 36  # 「第5条 （共同利用）」, the renumbered heading of 第6条
    assert "broken_duplicate_article.txt:36: 第5条 appears twice (first at line 32)" in str(err.value)


def test_heading_typo_stops_with_the_line_number():
    with pytest.raises(PolicyParseError) as err:
        load(FIXTURES / "broken_heading_typo.txt")
    assert err.value.line == 32  # 「第5乗 （個人情報の取扱いの委託）」
    assert "looks like an article heading" in str(err.value)


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
    assert data["counts"] == {"changed": 1, "added": 1, "removed": 0, "moved": 2}
    assert data["new"]["source"].endswith("inserted_item.txt")


def test_diff_command_terminal_output_without_colour_when_piped(capsys):
    code, out, _ = run_cli(capsys, str(BASE), str(FIXTURES / "contact_changed.txt"))
    assert code == 0
    assert "~ changed  第10条（お問い合わせ）【お問合せ窓口】" in out and "\x1b[" not in out
    code, out, _ = run_cli(capsys, str(BASE), str(FIXTURES / "contact_changed.txt"), "--color")
    assert "\x1b[" in out


def test_diff_command_names_the_revision_and_lists_the_issue_9_revision(capsys):
    code, out, err = run_cli(capsys, str(BASE), str(FIXTURES / "revision_2026_09.txt"))
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "Policy changes"
    assert lines[1].startswith("  old: 2026-06-03  sha256 4b0a293206b0 ") and lines[1].endswith("base.txt")
    assert lines[2].startswith("  new: 2026-09-01  sha256 ") and lines[2].endswith("revision_2026_09.txt")
    assert lines[3:6] == ["  revision: 2026-06-03 → 2026-09-01",
                          "  contact e-mail: info@sokonara.co.jp → privacy@sokonara.co.jp",
                          "  3 changed, 1 added, 2 moved"]
    assert [line for line in lines if line[:2] in ("+ ", "- ", "> ", "~ ")] == [
        "+ added    第3条（利用目的）第1項第8号",
        "> moved    第3条（利用目的）第1項第8号 → 第3条（利用目的）第1項第9号",
        "> moved    第3条（利用目的）第1項第9号 → 第3条（利用目的）第1項第10号",
        "~ changed  第3条（利用目的）第2項",
        "~ changed  第10条（お問い合わせ）【お問合せ窓口】",
        "~ changed  制定日・改定日"]
    assert "    メールアドレス：[-info-]{+privacy+}@sokonara.co.jp" in lines
    assert "warning" not in out


@pytest.mark.parametrize("argv, message", [
    (["only-one.txt"], "give both OLD and NEW"),
    ([str(BASE), "missing.txt"], "policy file not found: missing.txt"),
    ([str(BASE), str(FIXTURES / "broken_duplicate_article.txt")], "broken_duplicate_article.txt:36: 第5条 appears twice"),
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
    # 第5条 has one unnumbered paragraph (cited 第5条（…）); a second one, written the way 第7条
    # writes its two, makes the first 第5条（…）第1項.
    text = BASE.read_text(encoding="utf-8").replace(
        "必要かつ適切な監督を行います。\n",
        "必要かつ適切な監督を行います。\n\n当社は、委託先における個人データの取扱状況を定期的に確認します。\n")
    diff = diff_policies(load(BASE), parse(text))
    assert [(c.kind, c.old_id, c.new_id) for c in diff.changes] == [(MOVED, "5", "5-1"), (ADDED, None, "5-2")]
    moved, added = diff.changes
    assert (moved.old_label, moved.new_label, moved.text_changed) == (
        "第5条（個人情報の取扱いの委託）", "第5条（個人情報の取扱いの委託）第1項", False)
    assert (added.new_label, added.new_text) == (
        "第5条（個人情報の取扱いの委託）第2項", "当社は、委託先における個人データの取扱状況を定期的に確認します。")


def test_a_law_article_is_not_taken_for_one_of_the_policys_articles():
    from index.diff import _refs

    assert _refs("個人情報保護法第2条第6項に定義された「匿名加工情報」及び第10条に定める窓口") == {10}
