"""Hand-off to the contact window: compose the request, store it durably, send it over SMTP.

Adapters use `handoff_from_answer(...)` to build a request and `HandoffService.submit(...)`
to store and send it; `policybot handoff` lets operators inspect and resend.
"""
from bot.handoff.compose import Handoff, HandoffError, handoff_from_answer, mailto_for, valid_email
from bot.handoff.outbox import Backoff, Outbox, OutboxEntry, OutboxWorker
from bot.handoff.service import (OUTCOME_IN_PROGRESS, OUTCOME_NO_SERVER, OUTCOME_QUEUED, OUTCOME_REFUSED,
                                 OUTCOME_SENT, Delivery, HandoffService)
from bot.handoff.smtp import SendError, SmtpConfig, SmtpConfigError, SmtpSender

__all__ = [
    "Backoff", "Delivery", "Handoff", "HandoffError", "HandoffService", "Outbox", "OutboxEntry", "OutboxWorker",
    "OUTCOME_IN_PROGRESS", "OUTCOME_NO_SERVER", "OUTCOME_QUEUED", "OUTCOME_REFUSED", "OUTCOME_SENT",
    "SendError", "SmtpConfig", "SmtpConfigError", "SmtpSender", "handoff_from_answer", "mailto_for", "valid_email",
]
