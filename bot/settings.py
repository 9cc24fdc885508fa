"""Runtime settings, read once from the environment (see README "Configuration")."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from index.embed import DEFAULT_MODEL


def _env_path(name: str, default: str) -> Path:
    return Path(os.environ.get(name) or default)


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
    port: int = field(default_factory=lambda: int(os.environ.get("PORT") or 3000))

    @classmethod
    def from_env(cls) -> "Settings":
        return cls()
