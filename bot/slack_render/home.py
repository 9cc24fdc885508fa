"""The App Home tab: what the bot does, how to ask, example questions, where to write.

The tab is bilingual: Japanese first (the policy's language), then the English usage.
"""
from __future__ import annotations

from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock
from slack_sdk.models.views import View

from bot.slack_render.messages import context, plain, section
from bot.slack_render.mrkdwn import escape, iso_to_ja_date
from bot.text import examples, t

HEADER_TEXT_LIMIT = 150


def home_view(company: str | None, revision: str | None, contact_email: str | None) -> View:
    who = company or t("answer.company_default", "ja")
    date = iso_to_ja_date(revision)
    blocks: list[Block] = [
        HeaderBlock(text=plain(t("home.title", "ja"), HEADER_TEXT_LIMIT)),
        section(escape(t("home.intro", "ja", company=who))),
        DividerBlock(),
        section(t("home.usage_mrkdwn", "ja")),
        section(f"*{t('home.examples', 'ja')}*\n" + "\n".join(f"• {escape(e)}"
                                                            for e in examples("ja") + examples("en"))),
        DividerBlock(),
        section(t("home.usage_mrkdwn", "en")),
    ]
    facts = []
    if date:
        facts.append(escape(t("home.scope", "ja", company=who, date=date)))
    if contact_email:
        link = f"<mailto:{escape(contact_email)}|{escape(contact_email)}>"
        facts.append(t("home.contact_mrkdwn", "ja", link=link))
    if facts:
        blocks.append(context(" ｜ ".join(facts)))
    return View(type="home", blocks=blocks)
