"""Runtime settings, read once from the environment (see README "Configuration")."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from index.embed import DEFAULT_MODEL


RETENTION_ENV = "POLICYBOT_RETENTION_DAYS"
DEFAULT_RETENTION_DAYS = 90.0


class SettingsError(ValueError):
    """An environment variable has a value the bot cannot use; the message names it."""


def _env_path(name: str, default: str) -> Path:
    return Path(os.environ.get(name) or default)


def _retention_days() -> float:
    """Days the database keeps answers, votes and sent hand-offs ($POLICYBOT_RETENTION_DAYS)."""
    raw = (os.environ.get(RETENTION_ENV) or "").strip()
    if not raw:
        return DEFAULT_RETENTION_DAYS
    try:
        days = float(raw)
    except ValueError:
        days = 0.0
    if not (math.isfinite(days) and days > 0):
        raise SettingsError(f"{RETENTION_ENV}={raw!r} is not a number of days greater than 0 "
                            f"(e.g. {DEFAULT_RETENTION_DAYS:g}, the default)")
    return days


def _port() -> int:
    """HTTP mode's port ($PORT): a non-numeric value is one clear line, not a traceback."""
    raw = (os.environ.get("PORT") or "").strip()
    if not raw:
        return 3000
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 65536:
        raise SettingsError(f"PORT={raw!r} is not a TCP port number (1-65535, default 3000)")
    return int(raw)


@dataclass(frozen=True)
class Settings:
    """Everything the bot reads from the environment, in one place so tests can build their own."""

    policy_path: Path = field(default_factory=lambda: _env_path("POLICYBOT_POLICY", "policy_text/privacy_policy.txt"))
    index_dir: Path = field(default_factory=lambda: _env_path("POLICYBOT_INDEX", "var/index"))
    db_path: Path = field(default_factory=lambda: _env_path("POLICYBOT_DB", "var/policybot.sqlite3"))
    model: str = field(default_factory=lambda: os.environ.get("POLICYBOT_MODEL") or DEFAULT_MODEL)
    contact_email_override: str | None = field(default_factory=lambda: os.environ.get("POLICYBOT_CONTACT_EMAIL") or None)
    slack_bot_token: str | None = field(default_factory=lambda: os.environ.get("SLACK_BOT_TOKEN") or None)
    slack_signing_secret: str | None = field(default_factory=lambda: os.environ.get("SLACK_SIGNING_SECRET") or None)
    slack_app_token: str | None = field(default_factory=lambda: os.environ.get("SLACK_APP_TOKEN") or None)
    slack_api_url: str | None = field(default_factory=lambda: os.environ.get("SLACK_API_URL") or None)
    # When set, payloads from another workspace / Enterprise Grid org or another app are acked and ignored.
    slack_team_id: str | None = field(default_factory=lambda: (os.environ.get("SLACK_TEAM_ID") or "").strip() or None)
    slack_app_id: str | None = field(default_factory=lambda: (os.environ.get("SLACK_APP_ID") or "").strip() or None)
    port: int = field(default_factory=_port)
    retention_days: float = field(default_factory=_retention_days)
    # Any SQLAlchemy URL (postgresql://…); when unset, the SQLite file db_path.
    database_url: str | None = field(default_factory=lambda: os.environ.get("POLICYBOT_DATABASE_URL") or None)

    @property
    def database(self) -> str:
        """The database the stores open: POLICYBOT_DATABASE_URL, else POLICYBOT_DB as sqlite:///path."""
        return self.database_url or f"sqlite:///{self.db_path}"

    @classmethod
    def from_env(cls) -> "Settings":
        return cls()
