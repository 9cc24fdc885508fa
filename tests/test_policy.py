"""The policy parser (index/policy.py) on the real policy text and on small malformed texts.

Answers quote clause texts and cite their labels, so ids, labels and verbatim texts are
checked against the real file; broken texts must stop the build with the offending line.
"""
from __future__ import annotations

import hashlib
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


# --- the issued text: every clause -----------------------------------------------------
ISSUED_SHA256 = "4b0a293206b073dd1da018f3a86ca64537b5f99769d67125235964814aa5786a"
SHARED_POLICY = REPO.parent / "shared" / "policy" / "privacy_policy.txt"

# Golden list: id, citation label, first characters of the verbatim text, in document order.
GOLDEN = [
    ("2-2", "第2条第2項", "当社は、個人情報を含む利用者"),
    ("3-1", "第3条（利用目的）第1項", "当社は、当社サービスにおいて"),
    ("3-1-1", "第3条（利用目的）第1項第1号", "当社サービスの提供・維持・品"),
    ("3-1-2", "第3条（利用目的）第1項第2号", "ユーザー登録における審査"),
    ("3-1-3", "第3条（利用目的）第1項第3号", "本人確認及び不正利用防止"),
    ("3-1-4", "第3条（利用目的）第1項第4号", "利用料金の請求及び支払決済手"),
    ("3-1-5", "第3条（利用目的）第1項第5号", "当社サービスにお問い合わせ等"),
    ("3-1-6", "第3条（利用目的）第1項第6号", "当社サービスに関する利用規約"),
    ("3-1-7", "第3条（利用目的）第1項第7号", "当社サービス又は提携サービス"),
    ("3-1-8", "第3条（利用目的）第1項第8号", "当社サービスの利用状況等の調"),
    ("3-1-9", "第3条（利用目的）第1項第9号", "本サービスを利用する企業に対"),
    ("3-2", "第3条（利用目的）第2項", "当社は、前項の利用目的を、変"),
    ("3-3", "第3条（利用目的）第3項", "当社は、取得した個人情報を、利用者を特定できない"),
    ("3-4", "第3条（利用目的）第4項", "当社は、取得した個人情報を、他の情報と照合"),
    ("4-1", "第4条（第三者提供）第1項", "当社は、個人情報保護法その他"),
    ("4-2", "第4条（第三者提供）第2項", "当社は、利用者の同意に基づき"),
    ("4-2-1", "第4条（第三者提供）第2項第1号", "利用者から事前の同意を得てい"),
    ("4-2-2", "第4条（第三者提供）第2項第2号", "当該第三者の氏名又は名称及び"),
    ("4-2-3", "第4条（第三者提供）第2項第3号", "当該個人情報によって識別され"),
    ("4-2-4", "第4条（第三者提供）第2項第4号", "当該個人情報の項目"),
    ("4-3", "第4条（第三者提供）第3項", "当社は、個人関連情報（個人情"),
    ("5", "第5条（個人情報の取扱いの委託）", "当社は、利用目的の達成に必要"),
    ("6", "第6条（共同利用）", "当社は、提携事業者その他第三"),
    ("7-1", "第7条（安全管理体制）第1項", "当社は、個人情報の漏えい、滅"),
    ("7-2", "第7条（安全管理体制）第2項", "当社は、個人情報管理責任者を"),
    ("8", "第8条（個人情報に関する利用者の開示・訂正等の権利）", "当社サービスにおける個人情報"),
    ("9-1", "第9条（本ポリシーの変更）第1項", "当社は、個人情報の取扱いに関"),
    ("9-2", "第9条（本ポリシーの変更）第2項", "変更後の本ポリシーについては"),
    ("10-1", "第10条（お問い合わせ）", "当社の個人情報の取扱いに関す"),
    ("10-2", "第10条（お問い合わせ）【お問合せ窓口】", "【お問合せ窓口】\nメールアドレス：info@"),
    ("trailer", "制定日・改定日", "2024年10月1日 制定\n2026年6月3日 改定"),
]


def test_the_shipped_text_is_the_issued_text_byte_for_byte():
    raw = POLICY_PATH.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == ISSUED_SHA256
    assert not raw.endswith(b"\n")  # issued without a trailing newline; editors must not add one
    if SHARED_POLICY.is_file():
        assert raw == SHARED_POLICY.read_bytes()


def test_every_clause_of_the_issued_text(policy):
    got = [(c.id, c.label, c.text[:len(start)]) for c, (_, _, start) in zip(policy.clauses(), GOLDEN)]
    assert len(policy.clauses()) == len(GOLDEN)
    assert got == GOLDEN


def test_item_clause_carries_its_structure_and_verbatim_text(clauses):
    item = clauses["3-1-4"]
    assert (item.kind, item.article, item.paragraph, item.item, item.title) == ("item", 3, 1, 4, "利用目的")
    assert item.text == "利用料金の請求及び支払決済手続"
    assert item.line == line_of(" - (4) 利用料金の請求及び支払決済手続")
    assert "利用目的" in item.context and "以下の目的の範囲内で適正に取り扱います" in item.context  # lead + title


def test_a_unit_is_embedded_in_several_views(clauses):
    """Each unit scores by its best view: its context, its own text, its title with its first
    sentence, and — for a unit that lists items — its lead sentence (柱書) alone, which the list
    would otherwise drown."""
    for unit_id, lead in (("3-1", "当社は、当社サービスにおいて"), ("4-2", "当社は、利用者の同意に基づき")):
        unit = clauses[unit_id]
        title, view_lead = unit.views[0].split("\n")
        assert title == unit.title and view_lead.startswith(lead)
        assert view_lead == unit.text.splitlines()[0]  # verbatim, and without the items
        assert unit.text in unit.views
    item = clauses["3-1-4"]
    assert item.views == ("利用料金の請求及び支払決済手続", "利用目的\n利用料金の請求及び支払決済手続")
    for clause in clauses.values():
        assert clause.context not in clause.views and len(set(clause.views)) == len(clause.views)


def test_an_item_carries_its_paragraph_lead_for_display(clauses):
    assert clauses["3-1-4"].lead == "当社は、当社サービスにおいて取得した個人情報を以下の目的の範囲内で適正に取り扱います。"
    assert clauses["4-2-1"].lead.startswith("当社は、利用者の同意に基づき") and clauses["4-2-1"].lead.endswith("保管します。")
    assert all(c.lead is None for c in clauses.values() if c.kind != "item")


def test_views_survive_the_json_round_trip(clauses):
    from index.policy import Clause

    assert Clause.from_json(clauses["4-2"].to_json()) == clauses["4-2"]
    legacy = {k: v for k, v in clauses["5"].to_json().items() if k != "views"}
    assert Clause.from_json(legacy).views == ()


def test_single_paragraph_article_is_cited_without_paragraph_number(clauses):
    for number in ("5", "6", "8"):
        unit = clauses[number]
        assert unit.kind == "article" and unit.paragraph is None and unit.item is None
        assert not any(c.startswith(number + "-") for c in clauses)
    assert clauses["5"].text == SOURCE_LINES[line_of("当社は、利用目的の達成に必要な範囲内") - 1]
    assert all("第1項" not in c.label for c in clauses.values() if c.article in (5, 6, 8, 10))


def test_half_width_brackets_and_the_space_before_them(policy, clauses):
    assert "第9条 (本ポリシーの変更)" in SOURCE and "第3条 （利用目的）" in SOURCE
    assert clauses["9-1"].title == "本ポリシーの変更"
    assert {c.label for c in clauses.values() if c.article == 9} == {
        "第9条（本ポリシーの変更）第1項", "第9条（本ポリシーの変更）第2項"}
    assert [a.title for a in policy.articles][1:] == [
        "利用目的", "第三者提供", "個人情報の取扱いの委託", "共同利用", "安全管理体制",
        "個人情報に関する利用者の開示・訂正等の権利", "本ポリシーの変更", "お問い合わせ"]


def test_leading_fragment_becomes_article_2_without_title_or_invented_text(policy, clauses):
    first_text_line = next(line for line in SOURCE_LINES if line.strip())
    assert first_text_line.startswith("2. ")  # the file begins in the middle of 第2条
    article_2 = [c for c in clauses.values() if c.article == 2]
    assert [c.id for c in article_2] == ["2-2"]
    assert article_2[0].title is None and article_2[0].kind == "paragraph"
    assert article_2[0].label == "第2条第2項"  # paragraph 1 is not in the text: the number stays
    assert article_2[0].text == first_text_line[3:]
    assert policy.articles[0].number == 2 and policy.articles[0].title is None
    assert "2" not in clauses and "2-1" not in clauses and "preamble" not in clauses


def test_page_break_blank_line_does_not_split_a_paragraph(policy, clauses):
    assert "\n\n- (2) 当該第三者" in SOURCE  # the break: a blank line, then the item indented differently
    article_4 = next(a for a in policy.articles if a.number == 4)
    assert [p.number for p in article_4.paragraphs] == [1, 2, 3]
    assert [c for c in clauses if c.startswith("4-2-")] == ["4-2-1", "4-2-2", "4-2-3", "4-2-4"]
    assert clauses["4-2-2"].text.startswith("当該第三者の氏名又は名称及び住所")
    lines = clauses["4-2"].text.splitlines()
    assert lines[0] == "当社は、利用者の同意に基づき個人情報を第三者に提供した場合、以下の事項に関する記録を作成し、保管します。"
    assert [line[:3] for line in lines[1:]] == ["(1)", "(2)", "(3)", "(4)"]
    assert clauses["4-3"].text.startswith("当社は、個人関連情報")


def test_unnumbered_paragraphs_are_numbered_in_order(clauses):
    assert [c for c in clauses if c.startswith("7")] == ["7-1", "7-2"]
    assert clauses["7-1"].text.startswith("当社は、個人情報の漏えい")
    assert clauses["7-2"].text.startswith("当社は、個人情報管理責任者を配置し")


def test_article_10_is_its_lead_and_one_contact_block(clauses):
    assert [c for c in clauses if c.startswith("10")] == ["10-1", "10-2"]
    assert clauses["10-1"].text == SOURCE_LINES[line_of("以下のお問い合わせ窓口へご連絡ください") - 1]
    block = clauses["10-2"]
    assert block.kind == "paragraph" and block.paragraph == 2 and block.line == line_of("【お問合せ窓口】")
    assert block.text.splitlines() == [
        "【お問合せ窓口】", "メールアドレス：info@sokonara.co.jp", "個人情報取扱事業者", "株式会社ソコナラ",
        "住所：〒810-0001 福岡市中央区天神2丁目5番28号天神西通りセンタービル", "代表者：三宅 庸介"]
    assert "制定" not in block.text and "改定" not in block.text  # the dates are not part of the article


def test_trailer_is_its_own_clause_with_the_dates(clauses):
    trailer = clauses[TRAILER_ID]
    assert trailer.kind == "trailer" and trailer.article is None
    assert trailer.text == "2024年10月1日 制定\n2026年6月3日 改定"
    assert trailer.line == line_of("2024年10月1日 制定")


def test_facts_are_read_from_the_text(policy):
    assert policy.contact_email == "info@sokonara.co.jp"
    assert policy.company_name == "株式会社ソコナラ"
    assert policy.company_address == "〒810-0001 福岡市中央区天神2丁目5番28号天神西通りセンタービル"
    assert policy.representative == "三宅 庸介"
    assert policy.dates == [date(2024, 10, 1), date(2026, 6, 3)]
    assert policy.revision_date == date(2026, 6, 3)


def test_another_address_and_revision_in_the_text_are_what_the_parser_reads():
    changed = SOURCE.replace("info@sokonara.co.jp", "privacy-desk@example.org").replace(
        "2026年6月3日 改定", "2027年１月１５日 改定").replace("代表者：三宅 庸介", "代表取締役：山田 花子")
    policy = parse(changed)
    assert policy.contact_email == "privacy-desk@example.org"
    assert policy.revision_date == date(2027, 1, 15)  # full-width digits in the date too
    assert policy.representative == "山田 花子"
    assert policy.sha256 != parse(SOURCE).sha256


@pytest.mark.parametrize("dates", [
    "制定日：2024年10月1日\n改定日：2026年6月3日",
    "2024年10月1日制定\n最終改定 2026年6月3日",
    "制定　2024年10月1日\n\n改訂：2026年6月3日",
])
def test_date_lines_in_other_shapes_are_the_trailer(dates):
    policy = parse(SOURCE.rsplit("\n\n2024年", 1)[0] + "\n\n" + dates)
    assert policy.revision_date == date(2026, 6, 3) and policy.dates[0] == date(2024, 10, 1)
    assert [c.id for c in policy.clauses()][-3:] == ["10-1", "10-2", "trailer"]


def test_dates_at_the_top_are_the_trailer_too():
    body, dates = SOURCE.rsplit("\n\n2024年", 1)
    policy = parse("2024年" + dates + "\n\n" + body)
    assert policy.revision_date == date(2026, 6, 3)
    assert [c.id for c in policy.clauses()] == [g[0] for g in GOLDEN]
    assert policy.clauses()[-2].text.splitlines()[-1] == "代表者：三宅 庸介"


def test_a_date_inside_a_sentence_is_not_a_trailer_line():
    policy = parse("第1条（目的）\n本ポリシーは2024年10月1日に制定されたものです。\n2024年10月1日 制定\n")
    assert policy.clauses()[0].text == "本ポリシーは2024年10月1日に制定されたものです。"
    assert policy.trailer_text == "2024年10月1日 制定"


def test_a_paragraph_after_a_block_is_refused_with_its_line():
    error = error_of("第1条（窓口）\n1. 次の窓口へ。\n【窓口】\nメール：a@example.org\n2. 次の項\n")
    assert error.line == 5 and "【窓口】" in str(error)


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


def test_a_heading_after_the_date_block_still_starts_an_article():
    text = "第1条（目的）\n1. あ\n施行日：2025年4月1日\n第2条（お問い合わせ窓口）\n1. い\n"
    policy = parse(text)
    assert [a.number for a in policy.articles] == [1, 2]
    assert policy.trailer_text == "施行日：2025年4月1日"
