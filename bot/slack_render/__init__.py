"""Slack's side of presentation: what the bot posts, built from slack_sdk's Block Kit models.

- `ids`: the action, callback and command ids that messages carry and listeners route on.
- `mrkdwn`: the text rules (escaping, cuts that keep an entity whole, quotes).
- `messages`: the block builders and `Message` (Slack's 3,000-character and 50-block limits).
- `answer`, `drafts`, `notices`, `home`, `forward`: one surface each.

Reading what Slack sends (mentions, entities, emoji codes) is bot.slack_text's job, not this package's.
"""
