"""Presentation of an Answer outside Slack: its wording, its mailto: draft, its plain text, its JSON.

Kept apart from bot.answer (which decides, and words nothing) so that every medium reads
the same sentences from bot.text. Slack's own rendering is bot.slack_render.
"""
