"""Every setting of the bot in one typed object, read from the environment once (README "Configuration").

The composition roots (`policybot` commands, `create_app`) build one `Settings` and hand it,
or the values taken from it, to the services they build; nothing below them reads the
environment. Tests build `Settings(policy_path=…, …)` with explicit values, and derive
variants with `settings.model_copy(update={…})`.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.embed import DEFAULT_MODEL

RETENTION_ENV = "POLICYBOT_RETENTION_DAYS"
RELOAD_ENV = "POLICYBOT_RELOAD_SECONDS"
ANNOUNCE_ENV = "POLICYBOT_ANNOUNCE_CHANNEL"
DEFAULT_RETENTION_DAYS = 90.0
DEFAULT_RELOAD_SECONDS = 30.0
DEFAULT_PORT = 3000
SMTP_VARIABLES = ("SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_PASSWORD", "SMTP_FROM", "SMTP_SECURITY")


class SettingsError(ValueError):
    """An environment variable has a value the bot cannot use; the message names it."""


def _env(name: str):
    """A field read from the variable `name` (exactly as spelled), or set by its field name in code."""
    return {"validation_alias": AliasChoices(name)}


# Number settings: field → (variable, what it must be, whether 0 is allowed).
_NUMBERS = {
    "retention_days": (RETENTION_ENV, f"a number of days greater than 0 (e.g. {DEFAULT_RETENTION_DAYS:g}, "
                                      "the default)", False),
    "reload_seconds": (RELOAD_ENV, "a number of seconds, 0 or more (e.g. 30; 0: reload only on SIGHUP)", True),
    "handoff_retry_base": ("POLICYBOT_HANDOFF_RETRY_BASE", "a number of seconds, 0 or more (default 30)", True),
    "handoff_retry_cap": ("POLICYBOT_HANDOFF_RETRY_CAP", "a number of seconds, 0 or more (default 3600)", True),
    "slack_retry_base": ("POLICYBOT_SLACK_RETRY_BASE", "a number of seconds, 0 or more (default 0.5)", True),
    "http_read_timeout": ("POLICYBOT_HTTP_READ_TIMEOUT", "a number of seconds greater than 0 (default 10)", False),
}


class Settings(BaseSettings):
    """What the bot reads from the environment; frozen, so one object can be shared by every service."""

    model_config = SettingsConfigDict(frozen=True, case_sensitive=True, env_ignore_empty=True, extra="ignore",
                                      populate_by_name=True)

    # the policy, the index, the model
    policy_path: Path = Field(Path("policy_text/privacy_policy.txt"), **_env("POLICYBOT_POLICY"))
    index_dir: Path = Field(Path("var/index"), **_env("POLICYBOT_INDEX"))
    model: str = Field(DEFAULT_MODEL, **_env("POLICYBOT_MODEL"))
    cache_root: Path | None = Field(None, **_env("POLICYBOT_CACHE_DIR"))
    xdg_cache_home: Path | None = Field(None, **_env("XDG_CACHE_HOME"))
    contact_email_override: str | None = Field(None, **_env("POLICYBOT_CONTACT_EMAIL"))

    # what the bot stores
    db_path: Path = Field(Path("var/policybot.sqlite3"), **_env("POLICYBOT_DB"))
    database_url_override: str | None = Field(None, **_env("POLICYBOT_DATABASE_URL"))
    retention_days: float = Field(DEFAULT_RETENTION_DAYS, **_env(RETENTION_ENV))

    # Slack
    slack_bot_token: str | None = Field(None, repr=False, **_env("SLACK_BOT_TOKEN"))
    slack_signing_secret: str | None = Field(None, repr=False, **_env("SLACK_SIGNING_SECRET"))
    slack_app_token: str | None = Field(None, repr=False, **_env("SLACK_APP_TOKEN"))
    slack_api_url: str | None = Field(None, **_env("SLACK_API_URL"))
    # When set, payloads from another workspace / Enterprise Grid org or another app are acked and ignored.
    slack_team_id: str | None = Field(None, **_env("SLACK_TEAM_ID"))
    slack_app_id: str | None = Field(None, **_env("SLACK_APP_ID"))
    port: int = Field(DEFAULT_PORT, **_env("PORT"))
    # how long a client may take to send one whole request before HTTP mode closes the connection
    http_read_timeout: float = Field(10.0, **_env("POLICYBOT_HTTP_READ_TIMEOUT"))
    # first wait before a failed Web API call is tried again (bot.slack_client); doubles each retry
    slack_retry_base: float = Field(0.5, **_env("POLICYBOT_SLACK_RETRY_BASE"))
    reload_seconds: float = Field(DEFAULT_RELOAD_SECONDS, **_env(RELOAD_ENV))
    announce_channel: str | None = Field(None, **_env(ANNOUNCE_ENV))

    # hand-off e-mail: kept as given; bot.handoff.smtp.SmtpConfig checks them where mail is sent
    smtp_host: str | None = Field(None, **_env("SMTP_HOST"))
    smtp_port: str | None = Field(None, **_env("SMTP_PORT"))
    smtp_user: str | None = Field(None, **_env("SMTP_USER"))
    smtp_password: str | None = Field(None, repr=False, **_env("SMTP_PASSWORD"))
    smtp_from: str | None = Field(None, **_env("SMTP_FROM"))
    smtp_security: str | None = Field(None, **_env("SMTP_SECURITY"))
    handoff_retry_base: float = Field(30.0, **_env("POLICYBOT_HANDOFF_RETRY_BASE"))
    handoff_retry_cap: float = Field(3600.0, **_env("POLICYBOT_HANDOFF_RETRY_CAP"))

    # terminal output
    no_color: bool = Field(False, **_env("NO_COLOR"))

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        """The settings of this process; SettingsError (one line naming the variable) for a bad value.

        `overrides` (field names) win over the environment: command-line options such as --index.
        """
        try:
            return cls(**{k: v for k, v in overrides.items() if v is not None})
        except ValidationError as exc:
            raise SettingsError(_one_line(exc)) from None

    # --- checks, each naming its variable ---------------------------------------------------
    @field_validator("slack_team_id", "slack_app_id", "announce_channel", mode="before")
    @classmethod
    def _strip(cls, value):
        return (value.strip() or None) if isinstance(value, str) else value

    @field_validator("port", mode="before")
    @classmethod
    def _port(cls, value):
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if not text.isdigit() or not 0 <= int(text) < 65536:
            raise ValueError(f"PORT={value!r} is not a port number (0–65535; default {DEFAULT_PORT})")
        return int(text)

    @field_validator(*_NUMBERS, mode="before")
    @classmethod
    def _number(cls, value, info):
        name, what, allows_zero = _NUMBERS[info.field_name]
        raw = str(value).strip()
        try:
            number = float(raw)
        except ValueError:
            number = math.nan
        if not math.isfinite(number) or number < 0 or (number == 0 and not allows_zero):
            raise ValueError(f"{name}={raw!r} is not {what}")
        return number

    @field_validator("no_color", mode="before")
    @classmethod
    def _no_color(cls, value):
        """NO_COLOR (no-color.org): any non-empty value turns colours off."""
        return bool(value.strip()) if isinstance(value, str) else bool(value)

    # --- values derived from the settings -----------------------------------------------------
    @property
    def database_url(self) -> str:
        """POLICYBOT_DATABASE_URL, else the SQLite file at POLICYBOT_DB."""
        return self.database_url_override or f"sqlite:///{self.db_path}"

    @property
    def model_cache_dir(self) -> Path:
        """Where the default model and the USE tokenizer are materialized: POLICYBOT_CACHE_DIR, else
        $XDG_CACHE_HOME/policybot, else ~/.cache/policybot; plus models/. The rule is the model
        layer's own (index/models/cache.py), applied to these settings."""
        from index.models.cache import cache_dir_from_env, models_dir

        given = {"POLICYBOT_CACHE_DIR": self.cache_root, "XDG_CACHE_HOME": self.xdg_cache_home}
        return models_dir(cache_dir_from_env({name: str(value) for name, value in given.items() if value}))

    def smtp_variables(self) -> Mapping[str, str]:
        """SMTP_* as set, for bot.handoff.smtp.SmtpConfig (which says what is wrong with them)."""
        values = (self.smtp_host, self.smtp_port, self.smtp_user, self.smtp_password, self.smtp_from,
                  self.smtp_security)
        return {name: value for name, value in zip(SMTP_VARIABLES, values) if value is not None}


def _one_line(error: ValidationError) -> str:
    """The first problem, naming its variable: our checks already do; pydantic's own say which."""
    problem = error.errors(include_url=False)[0]
    cause = (problem.get("ctx") or {}).get("error")
    if isinstance(cause, ValueError):
        return str(cause)
    field = str(problem["loc"][0]) if problem.get("loc") else ""
    info = Settings.model_fields.get(field)
    alias = info.validation_alias.choices[0] if info is not None and isinstance(info.validation_alias,
                                                                                 AliasChoices) else field
    return f"{alias}={problem.get('input')!r}: {problem['msg']}"
