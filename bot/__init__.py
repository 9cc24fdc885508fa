"""The bot: a question becomes an Answer in `bot/answer.py` (pure, no Slack); adapters render it.

`bot/cli.py` (the `policybot` command), `bot/slack_app.py` (Slack), `bot/handoff/` (mail to the
contact window) and `bot/settings.py` (every setting) sit around that core; README "How answering
works" walks the path.
"""
