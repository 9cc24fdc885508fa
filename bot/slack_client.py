"""The bot's one Slack Web API client factory: base URL from the settings, retries on 429 and 5xx.

Used by the Slack app (`create_app`) and by `policybot build`'s change announcement, so both
talk to the same API (SLACK_API_URL) with the same retry rules.
"""
from __future__ import annotations

import random

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (ConnectionErrorRetryHandler, RateLimitErrorRetryHandler,
                                                   ServerErrorRetryHandler)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.jitter import Jitter

from bot.settings import Settings

SERVER_ERROR_RETRIES = 2  # a 5xx from the Web API is tried again twice, a connection error once …
JITTER_PER_BASE = 2.0  # … after base·2^n s plus up to 2·base s of jitter (base 0.5 s: slack_sdk's own default)
TIMEOUT_S = 10


class ServerErrorRetry(ServerErrorRetryHandler):
    """Retries every 5xx (slack_sdk's own handler only 500 and 503): a 502 or 504 from a gateway
    in front of Slack is as passing, and the answer it would lose took the user's question."""

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        return response is not None and 500 <= response.status_code <= 599


class ScaledJitter(Jitter):
    """Up to `spread` seconds added at random. slack_sdk's RandomJitter always adds up to 1 s,
    which would swamp a smaller base (POLICYBOT_SLACK_RETRY_BASE); spread = 2·base keeps its 1 s at 0.5 s."""

    def __init__(self, spread: float):
        self.spread = spread

    def recalculate(self, duration: float) -> float:
        return duration + random.random() * self.spread


def retry_interval(base: float) -> BackoffRetryIntervalCalculator:
    """base·2^attempt seconds plus jitter: slack_sdk's default calculator when base is 0.5."""
    return BackoffRetryIntervalCalculator(backoff_factor=base, jitter=ScaledJitter(JITTER_PER_BASE * base))


def make_client(settings: Settings) -> WebClient:
    """The bot's Web API client; SLACK_API_URL points it elsewhere (tests, proxies).

    Connection errors (once) and server errors (5xx, twice) are retried with exponential backoff
    from POLICYBOT_SLACK_RETRY_BASE, rate limits (429) after Retry-After; what still fails
    reaches the caller, which tells the user.
    """
    kwargs = {}
    if settings.slack_api_url:
        kwargs["base_url"] = settings.slack_api_url.rstrip("/") + "/"
    interval = retry_interval(settings.slack_retry_base)
    return WebClient(token=settings.slack_bot_token, timeout=TIMEOUT_S, retry_handlers=[
        ConnectionErrorRetryHandler(max_retry_count=1, interval_calculator=interval),  # slack_sdk's default one
        RateLimitErrorRetryHandler(max_retry_count=2),
        ServerErrorRetry(max_retry_count=SERVER_ERROR_RETRIES, interval_calculator=interval),
    ], **kwargs)
