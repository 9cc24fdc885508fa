"""bot.slack_text: every Slack markup form is dropped (or reduced to its label) for retrieval,
and the displayed question reads as the user wrote it."""
from __future__ import annotations

import pytest

from bot.slack_text import question_from_slack, valid_unicode

BOT = "UPOLICYBOT"
Q = "個人情報の利用目的を教えてください"


@pytest.mark.parametrize("slack_text, display", [
    # people: a name when Slack sent one, else nothing (an id means nothing to a reader)
    (f"<@U04ABCD1234> {Q}", Q),
    (f"<@W111> <@U04ABCD1234> {Q}", Q),
    (f"<@U04ABCD1234|taro> さん、{Q}", f"@taro さん、{Q}"),
    # channels, with and without the name Slack sometimes omits
    (f"<#C02GD0YEHDJ|general> で {Q}", f"#general で {Q}"),
    (f"<#C02GD0YEHDJ|> {Q}", Q),
    (f"<#C02GD0YEHDJ> {Q}", Q),
    # user groups and special mentions
    (f"<!subteam^S01BL602YLU> {Q}", Q),
    (f"<!subteam^S01BL602YLU|@support> {Q}", f"@support {Q}"),
    (f"<!here> <!channel> <!everyone> {Q}", f"@here @channel @everyone {Q}"),
    (f"<!here|here> {Q}", f"@here {Q}"),
    # dates read as their fallback text
    (f"<!date^1392734382^{{date_short}}|2014年2月18日> 以降の {Q}", f"2014年2月18日 以降の {Q}"),
    # links: their label, or the address when there is none
    (f"<https://example.com/a?b=1&amp;c=2|規約> を見て {Q}", f"規約 を見て {Q}"),
    (f"<https://example.com/faq> {Q}", f"https://example.com/faq {Q}"),
    (f"<mailto:taro@example.com|taro@example.com> {Q}", f"taro@example.com {Q}"),
    (f"{Q} https://example.com/x?y=1", f"{Q} https://example.com/x?y=1"),
    # emoji codes stay whole (never "bow:"), entities are decoded
    (f"<@{BOT}> :bow: {Q}", f":bow: {Q}"),
    (f":+1::skin-tone-2: {Q}", f":+1::skin-tone-2: {Q}"),
    ("a &lt; b &amp;&amp; c &gt; d", "a < b && c > d"),
    # our own mention goes, with a ':' right after it
    (f"<@{BOT}>: {Q}", Q),
    (f"<@{BOT}|policybot> {Q}", Q),
    (f"{Q} <@{BOT}>", Q),
    (f"<@{BOT}>", ""),
])
def test_display_reads_as_the_user_wrote_it(slack_text, display):
    assert question_from_slack(slack_text, BOT).display == display


@pytest.mark.parametrize("slack_text", [
    f"<@{BOT}> <@W111> <@U04ABCD1234> {Q}",
    f"<@{BOT}> <#C02GD0YEHDJ|> <!subteam^S01BL602YLU> {Q}",
    f"<@U04ABCD1234|taro> <#C1|general> <!subteam^S1|@support> <!here> {Q}",
    f":bow: {Q} :+1::skin-tone-2:",
    f"<@{BOT}>:bow:{Q}",
    f"{Q} <https://example.com/faq> https://example.com/x?y=1",
    f"<http://example.com|example.com> {Q} <mailto:a@example.com|a@example.com>",
    f"{Q}\ud83d",
])
def test_retrieval_is_only_the_words(slack_text):
    assert question_from_slack(slack_text, BOT).retrieval == Q


@pytest.mark.parametrize("slack_text, retrieval", [
    (f"<https://example.com/terms|利用規約> と {Q}", f"利用規約 と {Q}"),  # a link's label is the user's words
    (f"<!date^1392734382^{{date_short}}|2014年2月18日> 以降の {Q}", f"2014年2月18日 以降の {Q}"),
    (f"個人情報<@U04ABCD1234>を消して", "個人情報を消して"),  # no space left inside a Japanese sentence
    ("10:30:45 に a:b:c の件", "10:30:45 に a:b:c の件"),  # times and colons are not emoji codes
])
def test_retrieval_keeps_what_the_user_wrote_in_words(slack_text, retrieval):
    assert question_from_slack(slack_text, BOT).retrieval == retrieval


def test_plain_text_from_a_form_is_not_read_as_mrkdwn():
    typed = "a &lt; b <@U04ABCD1234> :bow: https://example.com 質問"
    q = question_from_slack(typed, mrkdwn=False)
    assert q.display == typed
    assert q.retrieval == "a &lt; b <@U04ABCD1234> 質問"


def test_surrogates_become_valid_unicode():
    assert valid_unicode("\ud83d\ude47 ok \ud83d") == "🙇 ok \ufffd"
    assert valid_unicode("fine") == "fine"
    question_from_slack("質問\ud83d").display.encode("utf-8")
