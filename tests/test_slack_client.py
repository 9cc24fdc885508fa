"""bot.slack_client: the retry waits follow Settings.slack_retry_base, and the default is the
backoff slack_sdk uses on its own (0.5 s doubling, plus up to 1 s of jitter)."""
from __future__ import annotations

from pathlib import Path

import pytest
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from bot.settings import Settings
from bot.slack_client import SERVER_ERROR_RETRIES, ServerErrorRetry, make_client, retry_interval


def client_for(tmp_path: Path, **values):
    return make_client(Settings(policy_path=tmp_path / "policy.txt", index_dir=tmp_path, db_path=tmp_path / "db",
                                slack_bot_token="xoxb-test", **values))


def waits(calculator, attempt: int, samples: int = 200) -> list[float]:
    return [calculator.calculate_sleep_duration(attempt) for _ in range(samples)]


@pytest.mark.parametrize("attempt", [0, 1])
def test_the_default_waits_are_slack_sdks_own(tmp_path, attempt):
    client = client_for(tmp_path)
    [server_errors] = [h for h in client.retry_handlers if isinstance(h, ServerErrorRetry)]
    floor = 0.5 * 2 ** attempt
    seen = waits(server_errors.interval_calculator, attempt)
    assert all(floor <= wait <= floor + 1.0 for wait in seen)
    assert max(seen) - min(seen) > 0.5  # the jitter spreads them over (most of) its second


def test_a_smaller_base_scales_the_waits_and_their_jitter():
    seen = waits(retry_interval(0.01), 1)
    assert all(0.02 <= wait <= 0.04 for wait in seen)


def test_every_retry_handler_uses_the_configured_base(tmp_path):
    client = client_for(tmp_path, slack_retry_base=0.01)
    kinds = [type(h) for h in client.retry_handlers]
    assert kinds == [ConnectionErrorRetryHandler, RateLimitErrorRetryHandler, ServerErrorRetry]
    connection, _, server_errors = client.retry_handlers
    assert server_errors.max_retry_count == SERVER_ERROR_RETRIES and connection.max_retry_count == 1
    for handler in (connection, server_errors):
        assert all(0.01 <= wait <= 0.03 for wait in waits(handler.interval_calculator, 0))
