"""bot/redact.py: nothing personal or secret survives, nothing else is touched."""
import pytest

from bot.redact import EMAIL_MARK, PHONE_MARK, TOKEN_MARK, redact, redact_value


@pytest.mark.parametrize("phone", [
    "090-1234-5678",
    "080 1234 5678",
    "09012345678",
    "03-1234-5678",
    "0120-123-456",
    "092-123-4567",
    "+81 90 1234 5678",
    "+81-3-1234-5678",
    "+819012345678",
    "(03) 1234-5678",
    "０９０－１２３４－５６７８",
    "＋８１ ９０ １２３４ ５６７８",
    "+1 415 555 0100",
])
def test_phone_numbers_are_redacted(phone):
    out = redact(f"電話は{phone}です")
    assert out == f"電話は{PHONE_MARK}です"


@pytest.mark.parametrize("email", [
    "taro.yamada@example.co.jp",
    "info@sokonara.co.jp",
    "a+tag@sub.example.com",
    "ｉｎｆｏ＠ｅｘａｍｐｌｅ．ｃｏｍ",
    "taro%40example.com",
])
def test_email_addresses_are_redacted(email):
    assert redact(f"連絡先 {email} まで") == f"連絡先 {EMAIL_MARK} まで"


@pytest.mark.parametrize("token", [
    "xoxb-1234-5678-abcdEFGH",
    "xoxp-11-22-33-abcdef",
    "xapp-1-A123-456-abcdef0123",
    "xoxe.xoxp-1-abc",
    "XOXB-1-2-3",
])
def test_slack_tokens_are_redacted(token):
    assert redact(f"token={token} end") == f"token={TOKEN_MARK} end"


@pytest.mark.parametrize("text", [
    "改定日：2026年6月3日",
    "revision 2026-06-03",
    "ts=1700000000.000100 thread_ts=1700000000.000200",
    "clause 3-1-4 and 第10条",
    "〒810-0001 福岡県福岡市中央区天神一丁目1番1号",
    "user U012AB3CD in C0123 event Ev012ABC",
    "took 1234 ms for 100 events",
    "<@U123> <!channel> <#C123|general>",
])
def test_ordinary_text_is_left_alone(text):
    assert redact(text) == text


def test_phone_glued_to_a_tel_prefix_is_redacted():
    assert redact("TEL090-1234-5678") == f"TEL{PHONE_MARK}"


def test_slack_ids_with_leading_zeros_are_not_phone_numbers():
    assert redact("channel C0123456789 user U09012345678") == "channel C0123456789 user U09012345678"


def test_several_kinds_in_one_line():
    line = "from taro@example.com tel 090-1234-5678 auth Bearer xoxb-1-2-3"
    assert redact(line) == f"from {EMAIL_MARK} tel {PHONE_MARK} auth Bearer {TOKEN_MARK}"


def test_data_inside_percent_encoded_links_is_redacted():
    link = "<mailto:info@x.example?subject=%E8%B3%AA%E5%95%8F&body=%E9%9B%BB%E8%A9%B1%20090-1234-5678%20%2B81%2090%201234%205678%20taro%40example.com|info>"
    out = redact(link)
    for secret in ("090-1234-5678", "%2B81%2090%201234%205678", "taro%40example.com", "info@x.example"):
        assert secret not in out
    assert "%5Bphone%5D" in out or "[phone]" in out


def test_percent_encoded_text_without_personal_data_is_unchanged():
    url = "https://example.com/search?q=%E5%80%8B%E4%BA%BA%E6%83%85%E5%A0%B1&page=2"
    assert redact(url) == url


def test_redact_is_idempotent():
    once = redact("taro@example.com 090-1234-5678 xoxb-1-2")
    assert redact(once) == once


def test_redact_value_walks_nested_values():
    value = {"q": "090-1234-5678", "list": ["a@b.example", 3], "n": 5, "none": None}
    assert redact_value(value) == {"q": PHONE_MARK, "list": [EMAIL_MARK, 3], "n": 5, "none": None}
