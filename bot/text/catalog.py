"""The text catalog: every sentence a user reads (terminal, Slack, hand-off e-mail), ja and en.

One table, so that a wording is changed in one place and a missing translation is a test
failure (tests/test_text_catalog.py: every key has both languages and the same fields),
not a KeyError in front of a user. Entries are `str.format` templates. Most are plain text
that the renderer escapes; the ones whose key ends in `_mrkdwn` are Slack mrkdwn templates
(bold, links) whose fields the caller has already escaped.
"""
from __future__ import annotations

LANGS = ("ja", "en")

# Fields one language may leave out: the English draft speaks of "our" desk, the Japanese one
# names the company. Everything else must use the same fields in both languages.
OPTIONAL_FIELDS: dict[str, frozenset[str]] = {"draft.contact_window": frozenset({"company"})}

CATALOG: dict[str, dict[str, str]] = {
    # -- an answer, in any medium (bot/render/words.py, bot/render/text.py) -------------------
    "answer.lead.answered": {
        "ja": "{company}の個人情報保護方針では、次のとおり定めています。",
        "en": "The privacy policy of {company} says the following (quoted in the original Japanese):"},
    "answer.lead.empty": {
        "ja": "個人情報保護方針についての質問を入力してください。",
        "en": "Please type a question about the privacy policy."},
    "answer.lead.too_long": {
        "ja": "メッセージが長すぎます（{limit:,}文字まで）。質問の部分だけを送ってください。",
        "en": "That message is too long (over {limit:,} characters). Please shorten it to the question itself."},
    "answer.lead.not_covered": {
        "ja": "個人情報保護方針にはこの質問への明確な定めがないため、推測ではお答えしません。お問い合わせ窓口にご確認ください。",
        "en": "The privacy policy does not answer this question clearly, so I will not guess. "
              "Please ask the contact window."},
    "answer.lead.not_stated": {
        "ja": "個人情報保護方針はこの件に触れていますが、お尋ねの期間や金額などの数値は定めていないため、"
              "推測ではお答えしません。お問い合わせ窓口にご確認ください。",
        "en": "The privacy policy touches on this, but it does not state the figure you ask for (a period, "
              "a deadline or an amount), so I will not guess. Please ask the contact window."},
    "answer.company_default": {"ja": "当社", "en": "the company"},
    "answer.context_line": {
        "ja": "（前の質問「{earlier}」を踏まえてお答えします）",
        "en": "(Read as a follow-up to your earlier question: “{earlier}”)"},
    "answer.related": {
        "ja": "参考（質問への答えではありません）:",
        "en": "Related reading (not an answer to the question):"},
    "answer.contact": {"ja": "お問い合わせ窓口: {email}", "en": "Contact window: {email}"},
    "answer.revision": {"ja": "（{revision} 改定版より引用）", "en": "(Policy revision {revision})"},
    # the mailto: draft of an answer (bot/render/mailto.py)
    "answer.mail_subject": {"ja": "個人情報保護方針に関するお問い合わせ", "en": "Question about the privacy policy"},
    "answer.mail_question": {"ja": "質問:", "en": "Question:"},
    "answer.mail_context": {"ja": "前の質問:", "en": "Following up on:"},
    "answer.mail_clauses": {"ja": "関連する条項:", "en": "Clauses the assistant found:"},

    # -- the terminal (bot/render/text.py) -----------------------------------------------------
    "cli.mail_draft": {"ja": "窓口へのメール下書き", "en": "Write to the contact window"},
    # `chat` greets in both languages: it cannot know the user's before the first question.
    "cli.chat_title": {"ja": "{company} 個人情報保護方針アシスタント（{revision} 改定版）",
                       "en": "{company} privacy-policy assistant (revision {revision})"},
    "cli.chat_prompt": {"ja": "質問を入力してください", "en": "Ask a question about the privacy policy. "
                                                           "Ctrl-D or 'exit' to quit."},
    "cli.chat_followups": {"ja": "続けて質問すると前の質問を踏まえて答えます。{new} で新しい会話",
                           "en": "Follow-ups keep the context; {new} starts over."},
    "cli.chat_new": {"ja": "新しい会話を始めます", "en": "New conversation."},

    # -- Slack: an answer message (bot/slack_render/answer.py) ---------------------------------
    "slack.question": {"ja": "質問", "en": "Question"},
    "slack.source": {"ja": "{company}個人情報保護方針（{date}改定）より引用",
                     "en": "Quoted from the privacy policy of {company} (revised {date})"},
    "slack.source_nodate": {"ja": "{company}個人情報保護方針より引用",
                            "en": "Quoted from the privacy policy of {company}"},
    "slack.contact_mrkdwn": {"ja": "お問い合わせ窓口: {link}", "en": "Contact window: {link}"},
    # one bilingual label: support staff and askers of either language see the same button
    "slack.forward": {"ja": "窓口に転送 / Forward to the contact window",
                      "en": "窓口に転送 / Forward to the contact window"},
    "slack.up": {"ja": "👍 役に立った", "en": "👍 Helpful"},
    "slack.down": {"ja": "👎 役に立たなかった", "en": "👎 Not helpful"},
    "slack.share": {"ja": "チャンネルに共有", "en": "Share in channel"},
    "slack.shared_by": {"ja": "{user} さんが共有しました", "en": "Shared by {user}"},
    "slack.continued": {"ja": "（続きは次のメッセージ {n}/{total}）", "en": "(continued in the next message {n}/{total})"},
    "slack.truncated": {"ja": "…（長いため以下省略）", "en": "… (too long, truncated)"},
    "slack.examples": {"ja": "質問の例", "en": "Example questions"},
    "slack.lead_of": {"ja": "{label}の柱書", "en": "lead sentence of {label}"},
    "slack.related": {"ja": "参考（この質問への答えではありません）",
                      "en": "Related reading (not an answer to this question)"},
    # one-line replies (bot/slack_render/notices.py)
    "notice.error": {"ja": "回答の作成中に問題が発生しました。少し時間をおいて、もう一度お試しください。",
                     "en": "Something went wrong while preparing the answer. Please try again in a moment."},
    "notice.thanks_up": {"ja": "フィードバックありがとうございます（👍）。", "en": "Thanks for the feedback (👍)."},
    "notice.thanks_down": {"ja": "フィードバックありがとうございます（👎）。回答の改善に役立てます。",
                           "en": "Thanks for the feedback (👎). It helps us improve the answers."},
    "notice.gone": {"ja": "この回答は見つかりませんでした（古いメッセージの可能性があります）。もう一度質問してください。",
                    "en": "This answer could not be found (the message may be too old). Please ask again."},
    "notice.shortcut_empty": {
        "ja": "このメッセージには本文がないため、返信案を作れません。本文のあるメッセージで実行してください。",
        "en": "This message has no text, so no reply draft can be made. Run the shortcut on a message with text."},

    # -- Slack: the assistant panel (bot/listeners/events/assistant.py; Japanese, the policy's language)
    "assistant.status": {"ja": "条文を確認しています…", "en": "Checking the clauses…"},
    "assistant.greeting": {"ja": "個人情報保護方針についてご質問ください。該当する条文をそのまま引用してお答えします。",
                           "en": "Ask me about the privacy policy: I answer by quoting its clauses."},
    "assistant.prompt": {"ja": "{title}について教えてください", "en": "Tell me about {title}"},

    # -- Slack: the message shortcut's reply draft (bot/slack_render/drafts.py) ----------------
    "shortcut.intro": {"ja": "このメッセージへの返信案です（あなたにだけ表示されています）。",
                       "en": "A reply draft for this message (only you can see this)."},
    "shortcut.original": {"ja": "元のメッセージ", "en": "Original message"},
    "shortcut.draft": {"ja": "返信案（コピーしてお使いください）", "en": "Reply draft (copy and send)"},
    "draft.greeting": {"ja": "お問い合わせいただき、誠にありがとうございます。", "en": "Thank you for contacting us."},
    "draft.not_covered": {
        "ja": "ご質問の件につきましては、当社の個人情報保護方針に明確な定めがないため、"
              "この場で確定的なご回答を差し上げることができません。",
        "en": "Our privacy policy does not clearly address your question, so we cannot give a definitive "
              "answer here."},
    "draft.not_stated": {
        "ja": "ご質問の期間や金額などにつきましては、当社の個人情報保護方針に定めがないため、"
              "この場で確定的なご回答を差し上げることができません。",
        "en": "Our privacy policy does not state the figure you ask about (a period, a deadline or an amount), "
              "so we cannot give a definitive answer here."},
    "draft.ask_window": {
        "ja": "恐れ入りますが、{company} 個人情報お問い合わせ窓口（{email}）までお問い合わせくださいますよう、"
              "お願い申し上げます。",
        "en": "Please contact the personal information inquiry desk of {company} at {email}."},
    "draft.will_check": {"ja": "担当部署にて確認のうえ、改めてご連絡を差し上げます。",
                         "en": "We will check with the responsible team and get back to you."},
    "draft.answered": {"ja": "ご質問の件につきまして、{company}の個人情報保護方針では、次のとおり定めております。",
                       "en": "Regarding your question, the privacy policy of {company} provides as follows "
                             "(quoted in the original Japanese):"},
    "draft.label": {"ja": "■ {label}", "en": "[{label}]"},
    "draft.revision": {"ja": "（{date}改定の個人情報保護方針より引用）", "en": "(Privacy policy revised on {date})"},
    "draft.contact_window": {
        "ja": "お手続きやご不明な点につきましては、{company} 個人情報お問い合わせ窓口（{email}）"
              "までご連絡くださいますよう、お願い申し上げます。",
        "en": "For requests or further questions, please contact our personal information inquiry desk at {email}."},
    "draft.any_questions": {"ja": "ご不明な点がございましたら、お気軽にお問い合わせください。",
                            "en": "If you have any further questions, please do not hesitate to contact us."},
    "draft.closing": {"ja": "今後ともよろしくお願い申し上げます。", "en": "Best regards,"},

    # -- Slack: App Home (bot/slack_render/home.py); the tab shows the ja entries and the en usage
    "home.title": {"ja": "個人情報保護方針アシスタント", "en": "Privacy policy assistant"},
    "home.intro": {
        "ja": "{company}の個人情報保護方針（プライバシーポリシー）についての質問に、条文をそのまま引用してお答えします。"
              "方針に定めのない質問には推測で答えず、お問い合わせ窓口をご案内します。",
        "en": "I answer questions about the privacy policy of {company} by quoting its clauses verbatim. "
              "When the policy does not cover a question, I do not guess: I point you to the contact window."},
    "home.usage_mrkdwn": {
        "ja": "*使い方*\n"
              "• チャンネルで *@policybot 質問* とメンション → スレッドで回答します\n"
              "• このアプリに DM で質問 → そのまま回答します\n"
              "• `/policy 質問` → あなたにだけ回答（「チャンネルに共有」ボタンで共有できます）\n"
              "• メッセージのショートカット *ポリシーで回答* → お客様への返信案（敬語・条文引用つき）を作成します",
        "en": "*How to use (English)*\n"
              "Mention *@policybot* with your question in a channel (answer in the thread), send a DM, "
              "or use `/policy question` for a private answer. Answers quote the policy in the original Japanese."},
    "home.examples": {"ja": "質問の例", "en": "Example questions"},
    "home.scope": {"ja": "対象: {company}個人情報保護方針（{date}改定）",
                   "en": "Policy: the privacy policy of {company} (revised {date})"},
    "home.contact_mrkdwn": {"ja": "お問い合わせ窓口: {link}", "en": "Contact window: {link}"},

    # -- Slack: the forward modal and its replies (bot/slack_render/forward.py) ------------------
    "forward.title": {"ja": "窓口に転送", "en": "Forward to contact"},
    "forward.submit": {"ja": "送信", "en": "Send"},
    "forward.close": {"ja": "キャンセル", "en": "Cancel"},
    "forward.intro": {
        "ja": "お問い合わせ窓口（{email}）にメールで転送します。内容を確認し、必要なら書き直してください。",
        "en": "This sends your question by e-mail to the contact window ({email}). Check it, and edit it if needed."},
    "forward.question": {"ja": "お問い合わせ内容", "en": "Your question"},
    "forward.redacted_hint": {
        "ja": "メールアドレスと電話番号は保存しないため [email] / [phone] になっています。"
              "窓口に伝える場合は、ここか補足欄に書き直してください。",
        "en": "E-mail addresses and phone numbers are not stored, so they show as [email] / [phone]. "
              "Type them again here or under additional context if the contact window needs them."},
    "forward.context": {"ja": "補足（任意）", "en": "Additional context (optional)"},
    "forward.context_hint": {
        "ja": "注文番号、ご希望の連絡方法など、窓口に伝えたいこと",
        "en": "Order number, how you prefer to be contacted, anything the contact window should know"},
    "forward.reply": {"ja": "返信先メールアドレス（任意）", "en": "Reply address (optional)"},
    "forward.reply_hint": {
        "ja": "窓口からの返信を受け取るアドレスです。空欄なら Slack でご連絡します。",
        "en": "The contact window replies to this address. Leave it empty to be contacted on Slack."},
    "forward.no_server": {
        "ja": "このボットにはメールサーバーが設定されていません。"
              "送信すると内容を保存し、ご自身で送れるメールの下書きリンクをお渡しします。",
        "en": "No mail server is configured for this bot. When you send, the request is saved and you get a "
              "link to a prefilled e-mail draft to send yourself."},
    "forward.draft": {"ja": "メールの下書きを開く", "en": "open a prefilled e-mail draft"},
    "forward.sent_mrkdwn": {"ja": "✅ お問い合わせ窓口（{email}）に転送しました。受付番号: *{ref}*",
                            "en": "✅ Forwarded to the contact window ({email}). Reference: *{ref}*"},
    "forward.sent_reply_mrkdwn": {"ja": "窓口からの返信は {reply} に届きます。", "en": "The reply will go to {reply}."},
    "forward.queued_mrkdwn": {
        "ja": "📨 転送を受け付けました。受付番号: *{ref}*\nメールサーバーに一時的につながらないため、"
              "復旧しだい自動で送信します。お急ぎの場合は <{mailto}|{draft}> からご自身で送ることもできます。",
        "en": "📨 Your request is saved. Reference: *{ref}*\nThe mail server cannot be reached right now; it will "
              "be sent automatically as soon as it is back. If it is urgent, <{mailto}|{draft}> and send it "
              "yourself."},
    "forward.no_server_done_mrkdwn": {
        "ja": "⚠️ このボットにはメールサーバーが設定されていないため、*メールは送信されていません*。"
              "内容は受付番号 *{ref}* で保存しました。<{mailto}|{draft}> から、ご自身で送信してください。",
        "en": "⚠️ No mail server is configured for this bot, so *nothing was e-mailed*. Your request is saved as "
              "*{ref}*. Please <{mailto}|{draft}> and send it yourself."},
    "forward.refused_mrkdwn": {
        "ja": "⚠️ メールサーバーに送信を拒否されたため、*転送できませんでした*。内容は受付番号 *{ref}* で保存され、"
              "管理者が確認して再送します。お急ぎの場合は <{mailto}|{draft}> からご自身で送ってください。",
        "en": "⚠️ The mail server refused the message, so it *could not be forwarded*. Your request is saved as "
              "*{ref}*; an operator will check and resend it. If it is urgent, <{mailto}|{draft}> and send it "
              "yourself."},
    "forward.in_progress_mrkdwn": {"ja": "📨 この内容は転送の処理中です。受付番号: *{ref}*",
                                   "en": "📨 This request is being forwarded. Reference: *{ref}*"},
    "forward.duplicate": {"ja": "この内容はすでに受け付けています（二重の送信はしていません）。",
                          "en": "This request was already received (it was not sent twice)."},
    "forward.failed_mrkdwn": {
        "ja": "転送の処理中に問題が発生しました。お手数ですが <{mailto}|{draft}> からご自身で送るか、"
              "少し時間をおいてもう一度お試しください。",
        "en": "Something went wrong while forwarding. Please <{mailto}|{draft}> and send it yourself, or try "
              "again in a moment."},
    "forward.thread_sent_mrkdwn": {
        "ja": "📨 {user} さんがこの質問をお問い合わせ窓口に転送しました（受付番号 {ref}）。",
        "en": "📨 {user} forwarded this question to the contact window (reference {ref})."},
    "forward.thread_queued_mrkdwn": {
        "ja": "📨 {user} さんがこの質問をお問い合わせ窓口への転送を依頼しました（受付番号 {ref}、送信待ち）。",
        "en": "📨 {user} asked to forward this question to the contact window (reference {ref}, waiting to be sent)."},
    "forward.err_empty_question": {"ja": "お問い合わせ内容を入力してください。", "en": "Please write your question."},
    "forward.err_question_too_long": {"ja": "長すぎます。{limit:,}文字以内にしてください。",
                                      "en": "Too long: at most {limit:,} characters."},
    "forward.err_context_too_long": {"ja": "長すぎます。{limit:,}文字以内にしてください。",
                                     "en": "Too long: at most {limit:,} characters."},
    "forward.err_bad_reply_to": {"ja": "メールアドレスの形式ではありません（例: name@example.com）。",
                                 "en": "Not an e-mail address (example: name@example.com)."},
    "forward.err_no_contact": {
        "ja": "お問い合わせ窓口のメールアドレスが設定されていないため、転送できません。管理者にお知らせください。",
        "en": "No contact address is configured, so this cannot be forwarded. Please tell an administrator."},
    "forward.err_bad_contact": {
        "ja": "お問い合わせ窓口のメールアドレスが正しくないため、転送できません。管理者にお知らせください。",
        "en": "The contact address is not valid, so this cannot be forwarded. Please tell an administrator."},
    "forward.err_gone": {"ja": "元の回答が見つかりませんでした。もう一度質問してから転送してください。",
                         "en": "The original answer could not be found. Please ask again, then forward it."},

    # -- the hand-off e-mail to the contact window (bot/handoff/compose.py) ----------------------
    "handoff.subject": {"ja": "個人情報保護方針に関するお問い合わせ", "en": "Privacy policy inquiry"},
    "handoff.greeting": {"ja": "{company}お問い合わせ窓口 御中", "en": "To the contact window{company}"},
    "handoff.greeting_company": {"ja": "{company}", "en": " of {company}"},
    "handoff.intro": {"ja": "個人情報保護方針アシスタント（Slack ボット）が、次のお問い合わせを利用者に代わって転送します。",
                      "en": "The privacy-policy assistant (a Slack bot) forwards the following request on behalf "
                            "of a user."},
    "handoff.ref": {"ja": "受付番号", "en": "Reference"},
    "handoff.question": {"ja": "■ お問い合わせ内容", "en": "■ Question"},
    "handoff.context": {"ja": "■ 補足（ご本人の記入）", "en": "■ Additional context (written by the asker)"},
    "handoff.reply": {"ja": "■ 返信先", "en": "■ Reply to"},
    "handoff.no_reply": {"ja": "記入なし（Slack でご本人にご連絡ください）",
                         "en": "not given (please contact the asker on Slack)"},
    "handoff.asker": {"ja": "■ 依頼者", "en": "■ Asked by"},
    "handoff.asker_slack": {"ja": "Slack ユーザー {who}", "en": "Slack user {who}"},
    "handoff.asker_cli": {"ja": "端末（policybot コマンド）の利用者", "en": "a terminal user (policybot command)"},
    "handoff.permalink": {"ja": "■ Slack の元のスレッド", "en": "■ Original Slack thread"},
    "handoff.answered": {"ja": "■ アシスタントが示した条項（{revision}改定版）",
                         "en": "■ Clauses the assistant quoted (policy revision {revision})"},
    "handoff.nearest": {
        "ja": "■ アシスタントが参照した条項（いずれも質問への明確な答えではありません。{revision}改定版）",
        "en": "■ Clauses the assistant looked at (none answers the question clearly; policy revision {revision})"},
    "handoff.footer": {
        "ja": "このメールはアシスタントが自動で作成しました。ご回答は上記の返信先、または Slack でご本人へお願いします。",
        "en": "This e-mail was written by the assistant. Please reply to the address above, or to the asker on "
              "Slack."},
    "handoff.truncated": {"ja": "…（メールリンクの長さの制限のため省略しました。続きを貼り付けてください）",
                          "en": "… (shortened to fit in a mail link; please paste the rest)"},
}

# Example questions (Slack's empty-question notice and App Home): lists, not sentences to translate.
EXAMPLES: dict[str, tuple[str, ...]] = {
    "ja": ("第三者に提供される？",
           "利用料金の請求に個人情報を使いますか？",
           "自分のデータを削除してほしい",
           "業務委託先に個人情報を渡すことはありますか？"),
    "en": ("Do you share my data with third parties?",
           "How can I ask you to delete my personal data?"),
}


def _lang(lang: str | None) -> str:
    """English for 'en'; Japanese, the policy's own language, for anything else."""
    return "en" if lang == "en" else "ja"


def t(key: str, lang: str | None, **fields: object) -> str:
    """The entry `key` in `lang`, its fields filled in. An unknown key raises KeyError."""
    return CATALOG[key][_lang(lang)].format(**fields)


def examples(lang: str | None) -> tuple[str, ...]:
    return EXAMPLES[_lang(lang)]
