"""The policy parser (index/policy.py) on the real policy text and on small malformed texts.

Answers quote clause texts and cite their labels, so ids, labels and verbatim texts are
checked against the real file; broken texts must stop the build with the offending line.
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from index.policy import TRAILER_ID, PolicyParseError, load, parse

REPO = Path(__file__).resolve().parents[1]
POLICY_PATH = REPO / "policy_text" / "privacy_policy.txt"
SOURCE = POLICY_PATH.read_text(encoding="utf-8")
SOURCE_LINES = SOURCE.splitlines()


@pytest.fixture(scope="module")
def policy():
    return load(POLICY_PATH)


@pytest.fixture(scope="module")
def clauses(policy):
    return {c.id: c for c in policy.clauses()}


def line_of(text: str) -> int:
    """1-based line number of the source line that contains `text` (exactly once)."""
    found = [n for n, line in enumerate(SOURCE_LINES, start=1) if text in line]
    assert len(found) == 1, (text, found)
    return found[0]


# --- ids and labels on the real policy --------------------------------------------------
@pytest.mark.parametrize("clause_id, label", [
    ("3-1-4", "第3条（利用目的）第1項第4号"),
    ("3-1", "第3条（利用目的）第1項"),
    ("3-4", "第3条（利用目的）第4項"),
    ("4-2-3", "第4条（第三者提供）第2項第3号"),
    ("5", "第5条（個人情報の取扱いの委託）"),
    ("6", "第6条（共同利用）"),
    ("6-1-2", "第6条（共同利用）第2号"),
    ("7-1", "第7条（安全管理措置）第1項"),
    ("7-2", "第7条（安全管理措置）第2項"),
    ("8-1", "第8条（開示等の請求）第1項"),
    ("9-1", "第9条（本ポリシーの変更）第1項"),
    ("10", "第10条（お問い合わせ窓口）"),
    ("2-2", "第2条第2項"),
])
def test_clause_labels_follow_legal_usage(clauses, clause_id, label):
    assert clauses[clause_id].label == label


def test_item_clause_carries_its_structure_and_verbatim_text(clauses):
    item = clauses["3-1-4"]
    assert (item.kind, item.article, item.paragraph, item.item, item.title) == ("item", 3, 1, 4, "利用目的")
    assert item.text == "利用料金の請求及び決済のため"
    assert item.line == line_of("- (4) 利用料金の請求及び決済のため")
    assert "利用目的" in item.context and "次の目的のために利用します" in item.context  # lead + title embedded


def test_a_unit_that_lists_items_has_its_lead_as_a_view(clauses):
    """The lead sentence (柱書) is embedded on its own too, so the list does not drown it."""
    for unit_id, lead in (("4-1", "当社は、次に掲げる場合を除き"), ("6", "当社は、次のとおり")):
        unit = clauses[unit_id]
        assert len(unit.views) == 1
        title, view_lead = unit.views[0].split("\n")
        assert title == unit.title and view_lead.startswith(lead)
        assert view_lead == unit.text.splitlines()[0]  # verbatim, and without the items
    listing = {c.id.rsplit("-", 1)[0] for c in clauses.values() if c.kind == "item"}
    assert {c.id for c in clauses.values() if c.views} == {i if i in clauses else i.split("-")[0] for i in listing}
    assert all(not c.views for c in clauses.values() if c.kind in ("item", "trailer"))


def test_views_survive_the_json_round_trip(clauses):
    from index.policy import Clause

    assert Clause.from_json(clauses["4-1"].to_json()) == clauses["4-1"]
    legacy = {k: v for k, v in clauses["5"].to_json().items() if k != "views"}
    assert Clause.from_json(legacy).views == ()


def test_single_paragraph_article_is_cited_without_paragraph_number(clauses):
    five = clauses["5"]
    assert five.kind == "article" and five.paragraph is None and five.item is None
    assert five.text == SOURCE_LINES[line_of("当社は、利用目的の達成に必要な範囲内") - 1]
    assert not any(c.startswith("5-") for c in clauses)
    assert all("第1項" not in c.label for c in clauses.values() if c.article in (5, 6, 10))


def test_items_of_a_single_paragraph_article(clauses):
    assert [c for c in clauses if c.startswith("6-")] == ["6-1-1", "6-1-2", "6-1-3", "6-1-4"]
    assert clauses["6-1-2"].text == "共同して利用する者の範囲：当社と業務提携契約を締結した提携事業者"
    assert clauses["6"].text.splitlines()[0] == "当社は、次のとおり、個人データを提携事業者と共同して利用することがあります。"


def test_half_width_brackets_of_article_9_are_normalised_in_the_label(policy, clauses):
    assert "第9条 (本ポリシーの変更)" in SOURCE  # the source really has half-width brackets
    assert clauses["9-1"].title == "本ポリシーの変更"
    assert {c.label for c in clauses.values() if c.article == 9} == {
        "第9条（本ポリシーの変更）第1項", "第9条（本ポリシーの変更）第2項"}


def test_leading_fragment_becomes_article_2_without_title_or_invented_text(policy, clauses):
    assert SOURCE_LINES[0].startswith("2. ")  # the file begins in the middle of 第2条
    article_2 = [c for c in clauses.values() if c.article == 2]
    assert [c.id for c in article_2] == ["2-2", "2-3"]
    assert all(c.title is None and c.kind == "paragraph" for c in article_2)
    assert [c.label for c in article_2] == ["第2条第2項", "第2条第3項"]
    assert [c.text for c in article_2] == [SOURCE_LINES[0][3:], SOURCE_LINES[1][3:]]
    assert policy.articles[0].number == 2 and policy.articles[0].title is None
    assert "2" not in clauses and "2-1" not in clauses and "preamble" not in clauses


def test_page_break_blank_line_does_not_split_a_paragraph(policy, clauses):
    article_4 = next(a for a in policy.articles if a.number == 4)
    assert [p.number for p in article_4.paragraphs] == [1, 2, 3]
    assert [c for c in clauses if c.startswith("4-2-")] == ["4-2-1", "4-2-2", "4-2-3", "4-2-4"]
    assert clauses["4-2-3"].text == "本人の氏名その他の本人を特定するに足りる事項"
    assert clauses["4-2"].text.splitlines() == [
        "当社は、個人データを第三者に提供したときは、次に掲げる事項に関する記録を作成します。",
        "(1) 提供した年月日",
        "(2) 提供先の第三者の氏名又は名称及び住所",
        "(3) 本人の氏名その他の本人を特定するに足りる事項",
        "(4) 提供した個人データの項目",
    ]
    assert clauses["4-3"].text.startswith("当社は、第三者が個人関連情報を")


def test_unnumbered_paragraphs_are_numbered_in_order(clauses):
    assert [c for c in clauses if c.startswith("7")] == ["7-1", "7-2"]
    assert clauses["7-1"].text.startswith("当社は、個人データの漏えい")
    assert clauses["7-2"].text.startswith("当社は、個人情報保護管理責任者を置き")


def test_contact_block_keeps_its_indented_lines(clauses):
    lines = clauses["10"].text.splitlines()
    assert lines[0].startswith("本ポリシーに関するお問い合わせ")
    assert lines[-1] == "メールアドレス：info@sokonara.co.jp"
    assert len(lines) == 4


def test_trailer_is_its_own_clause(clauses):
    trailer = clauses[TRAILER_ID]
    assert trailer.kind == "trailer"
    assert trailer.text == "制定日：2024年10月1日\n改定日：2026年6月3日"
    assert trailer.line == line_of("制定日：")


def test_facts_are_read_from_the_text(policy):
    assert policy.contact_email == "info@sokonara.co.jp"
    assert policy.company_name == "株式会社ソコナラ"
    assert policy.dates == [date(2024, 10, 1), date(2026, 6, 3)]
    assert policy.revision_date == date(2026, 6, 3)


def test_another_address_and_revision_in_the_text_are_what_the_parser_reads():
    changed = SOURCE.replace("info@sokonara.co.jp", "privacy-desk@example.org").replace(
        "改定日：2026年6月3日", "改定日：2027年１月１５日")
    policy = parse(changed)
    assert policy.contact_email == "privacy-desk@example.org"
    assert policy.revision_date == date(2027, 1, 15)  # full-width digits in the date too
    assert policy.sha256 != parse(SOURCE).sha256


def test_clause_ids_are_unique_and_in_document_order(policy):
    ids = [c.id for c in policy.clauses()]
    assert len(ids) == len(set(ids))
    lines = [c.line for c in policy.clauses()]
    assert lines == sorted(lines)


def test_every_clause_text_is_verbatim_from_the_source(policy):
    for clause in policy.clauses():
        for line in clause.text.splitlines():
            # paragraph texts list their items as "(n) text"; the source writes "- (n) text"
            bare = re.sub(r"^\(\d+\) ", "", line) if clause.kind in ("paragraph", "article") else line
            assert bare and bare in SOURCE, (clause.id, line)


# --- full-width input -------------------------------------------------------------------
FULL_WIDTH = """第３条（利用目的）
１．当社は、次の目的で利用します。
－（１）本サービスの提供のため
　－（２）料金の請求のため
２．当社は、利用目的を変更することがあります。

第４条　(共同利用)
当社は、次のとおり共同して利用します。
（１）項目：氏名
（２）範囲：提携事業者
"""


def test_full_width_digits_and_brackets_in_headings_paragraphs_and_items():
    clauses = {c.id: c for c in parse(FULL_WIDTH).clauses()}
    assert list(clauses) == ["3-1", "3-1-1", "3-1-2", "3-2", "4", "4-1-1", "4-1-2"]
    assert clauses["3-1-2"].label == "第3条（利用目的）第1項第2号"
    assert clauses["3-1-2"].text == "料金の請求のため"  # marker cut, the text keeps its own widths
    assert clauses["3-2"].text == "当社は、利用目的を変更することがあります。"
    assert clauses["4-1-1"].label == "第4条（共同利用）第1号"
    assert clauses["4-1-1"].text == "項目：氏名"


def test_kanji_article_numbers_and_untitled_headings():
    policy = parse("第十条（お問い合わせ窓口）\nお問い合わせはこちらへ。\n")
    assert [(c.id, c.label) for c in policy.clauses()] == [("10", "第10条（お問い合わせ窓口）")]
    assert [c.label for c in parse("第1条\n本ポリシーの目的を定めます。\n").clauses()] == ["第1条"]


def test_wrapped_item_line_continues_the_item():
    text = "第1条（目的）\n1. 次のとおりとします。\n- (1) 長い号の\n  続きの行\n- (2) 次の号\n2. 次の項\n"
    clauses = {c.id: c for c in parse(text).clauses()}
    assert clauses["1-1-1"].text == "長い号の\n続きの行"
    assert clauses["1-1-2"].text == "次の号"
    assert clauses["1-2"].text == "次の項"


# --- malformed input --------------------------------------------------------------------
def error_of(text: str) -> PolicyParseError:
    with pytest.raises(PolicyParseError) as caught:
        parse(text)
    return caught.value


@pytest.mark.parametrize("text", ["", "  \n\n\u3000\n"])
def test_empty_text_is_rejected(text):
    error = error_of(text)
    assert "empty" in str(error)


def test_text_without_headings_names_line_1():
    error = error_of("当社は個人情報を大切にします。\n1. これは段落です。\n")
    assert error.line == 1
    assert "第N条" in str(error) and ":1:" in str(error)


def test_duplicate_article_names_both_lines():
    error = error_of("第3条（利用目的）\n1. あ\n\n第4条（第三者提供）\n1. い\n第4条（共同利用）\n1. う\n")
    assert error.line == 6
    assert ":6:" in str(error) and "line 4" in str(error) and "第4条" in str(error)


def test_out_of_order_articles_name_the_line():
    error = error_of("第4条（第三者提供）\n1. い\n\n第3条（利用目的）\n1. あ\n")
    assert error.line == 4
    assert "第3条" in str(error) and "第4条" in str(error)


def test_item_numbering_jump_names_the_line():
    error = error_of("第3条（利用目的）\n1. 次の目的\n- (1) あ\n- (3) う\n")
    assert error.line == 4
    assert "(3)" in str(error) and "(2)" in str(error)


def test_paragraph_numbering_jump_names_the_line():
    error = error_of("第3条（利用目的）\n1. あ\n3. う\n")
    assert error.line == 3


def test_load_names_the_file_in_errors(tmp_path):
    broken = tmp_path / "broken.txt"
    broken.write_text("第3条（利用目的）\n1. あ\n第3条（利用目的）\n1. い\n", encoding="utf-8")
    with pytest.raises(PolicyParseError, match=r"broken\.txt:3:"):
        load(broken)


def test_missing_file_is_a_clear_error(tmp_path):
    missing = tmp_path / "nowhere" / "policy.txt"
    with pytest.raises(PolicyParseError) as caught:
        load(missing)
    assert "not found" in str(caught.value) and str(missing) in str(caught.value)


def test_non_utf8_file_is_a_clear_error(tmp_path):
    sjis = tmp_path / "sjis.txt"
    sjis.write_bytes("第1条（目的）\n本ポリシーの目的。\n".encode("shift_jis"))
    with pytest.raises(PolicyParseError, match="UTF-8"):
        load(sjis)


# --- texts saved by other editors, dates in the wrong place ------------------------------
def test_a_byte_order_mark_does_not_change_the_structure(tmp_path):
    with_bom = tmp_path / "bom.txt"
    with_bom.write_bytes(b"\xef\xbb\xbf" + SOURCE.encode("utf-8"))
    assert [c.id for c in load(with_bom).clauses()] == [c.id for c in parse(SOURCE).clauses()]


def test_a_heading_after_the_date_block_is_not_swallowed_by_the_trailer():
    text = "第1条（目的）\n1. あ\n施行日：2025年4月1日\n第2条（お問い合わせ窓口）\n1. い\n"
    try:
        policy = parse(text)
    except PolicyParseError as error:  # refusing the text with the line is right too
        assert error.line == 4
        return
    assert [a.number for a in policy.articles] == [1, 2]
