"""The services built from `Settings` by the composition roots (`create_app`, `policybot` commands).

Each factory turns settings into one ready service; a root calls it once per process and
hands the result down, so no service reads a setting, or the environment, on its own.
"""
from __future__ import annotations

from bot.handoff.outbox import Backoff, Outbox
from bot.handoff.service import HandoffService
from bot.handoff.smtp import SmtpConfig, SmtpSender
from bot.settings import Settings


def smtp_sender(settings: Settings) -> SmtpSender | None:
    """The mail server for hand-offs; None when SMTP_HOST is unset. SmtpConfigError names a bad SMTP_* value."""
    config = SmtpConfig.from_env(settings.smtp_variables())
    return SmtpSender(config) if config else None


def handoff_backoff(settings: Settings) -> Backoff:
    """Waits between retries of a hand-off the mail server did not take (POLICYBOT_HANDOFF_RETRY_*)."""
    return Backoff(base=settings.handoff_retry_base, cap=settings.handoff_retry_cap)


def handoff_service(settings: Settings, outbox: Outbox | None = None,
                    sender: SmtpSender | None = None) -> HandoffService:
    """The outbox in the bot's database, the SMTP sender and the retry backoff, wired together.

    The mail settings are checked first, so a bad SMTP_* value stops before any file is opened;
    a root that opens its database before the outbox exists passes the `sender` it built first.
    """
    sender = sender or smtp_sender(settings)
    return HandoffService(outbox or Outbox(settings.database_url), sender, handoff_backoff(settings))
