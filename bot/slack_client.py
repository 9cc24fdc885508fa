"""The bot's one Slack Web API client factory: base URL from the settings, retries on 429 and 5xx.

Used by the Slack app (`create_app`) and by `policybot build`'s change announcement, so both
talk to the same API (SLACK_API_URL) with the same retry rules.
"""
from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator

from bot.settings import Settings

SERVER_ERROR_RETRIES = 2  # a 5xx from the Web API is tried again twice …
SERVER_ERROR_BACKOFF_S = 0.5  # … after 0.5 s and 1 s (each plus up to 1 s of jitter)
TIMEOUT_S = 10


class ServerErrorRetry(ServerErrorRetryHandler):
    """Retries every 5xx (slack_sdk's own handler only 500 and 503): a 502 or 504 from a gateway
    in front of Slack is as passing, and the answer it would lose took the user's question."""

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        return response is not None and 500 <= response.status_code <= 599


def make_client(settings: Settings) -> WebClient:
    """The bot's Web API client; SLACK_API_URL points it elsewhere (tests, proxies).

    Rate limits (429, after Retry-After) and server errors (5xx, with exponential backoff and
    jitter) are retried; what still fails reaches the caller, which tells the user.
    """
    kwargs = {}
    if settings.slack_api_url:
        kwargs["base_url"] = settings.slack_api_url.rstrip("/") + "/"
    client = WebClient(token=settings.slack_bot_token, timeout=TIMEOUT_S, **kwargs)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    client.retry_handlers.append(ServerErrorRetry(
        max_retry_count=SERVER_ERROR_RETRIES,
        interval_calculator=BackoffRetryIntervalCalculator(backoff_factor=SERVER_ERROR_BACKOFF_S)))
    return client
