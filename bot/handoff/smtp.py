"""Send one e-mail over SMTP with the standard library, and sort failures into "retry" or "operator must act".

Configured from the SMTP_* variables (SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASSWORD, SMTP_FROM,
SMTP_SECURITY) as bot.settings read them; no SMTP_HOST means "no mail server": callers fall back
to mailto: links.
"""
from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Mapping

from bot.handoff.compose import valid_email

SECURITY_MODES = ("none", "starttls", "ssl")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
DEFAULT_TIMEOUT = 20.0


class SmtpConfigError(ValueError):
    """The SMTP_* settings are inconsistent; the message names the variable to fix."""


class SendError(Exception):
    """Sending failed. `permanent` means retrying will not help until an operator acts.

    `reason` is a short, secret-free description safe to store and show to operators
    (never to Slack users: they get a fixed sentence).
    """

    def __init__(self, reason: str, permanent: bool):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    security: str = "starttls"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "SmtpConfig | None":
        """From the SMTP_* variables in `env` (`Settings.smtp_variables()`, or a test's dict).

        None when SMTP_HOST is unset (no mail server); SmtpConfigError when the rest is wrong.
        """
        host = (env.get("SMTP_HOST") or "").strip()
        if not host:
            return None
        security = (env.get("SMTP_SECURITY") or "starttls").strip().lower()
        if security not in SECURITY_MODES:
            raise SmtpConfigError(f"SMTP_SECURITY must be one of {', '.join(SECURITY_MODES)} (got {security!r}).")
        port_text = (env.get("SMTP_PORT") or "").strip()
        try:
            port = int(port_text) if port_text else DEFAULT_PORTS[security]
        except ValueError:
            raise SmtpConfigError(f"SMTP_PORT must be a number (got {port_text!r}).") from None
        if not 0 < port < 65536:
            raise SmtpConfigError(f"SMTP_PORT must be between 1 and 65535 (got {port}).")
        user = (env.get("SMTP_USER") or "").strip() or None
        password = env.get("SMTP_PASSWORD") or None
        if bool(user) != bool(password):
            raise SmtpConfigError("Set both SMTP_USER and SMTP_PASSWORD (for a server with login), or neither.")
        sender = (env.get("SMTP_FROM") or "").strip() or (user if user and valid_email(user) else "")
        if not sender:
            raise SmtpConfigError("Set SMTP_FROM to the address the hand-off e-mails are sent from.")
        if not valid_email(sender):
            raise SmtpConfigError("SMTP_FROM must be a plain e-mail address like bot@example.com.")
        return cls(host=host, port=port, sender=sender, security=security, user=user, password=password)

    def describe(self) -> str:
        """For logs and `policybot handoff`: never the password, never the user name."""
        login = "with login" if self.user else "without login"
        return f"{self.host}:{self.port} ({self.security}, {login})"


class SmtpSender:
    """Opens one connection per e-mail: hand-offs are rare, and a fresh connection never goes stale."""

    def __init__(self, config: SmtpConfig):
        self.config = config
        self._tls: ssl.SSLContext | None = None  # made on the first TLS send: loading the CA store costs ~40 ms

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls

    @property
    def sender_address(self) -> str:
        return self.config.sender

    def send(self, msg: EmailMessage) -> None:
        """Deliver `msg` to the server or raise SendError (classified)."""
        cfg = self.config
        try:
            if cfg.security == "ssl":
                client = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=self._tls_context())
            else:
                client = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
            with client:
                if cfg.security == "starttls":
                    client.starttls(context=self._tls_context())
                if cfg.user:
                    client.login(cfg.user, cfg.password or "")
                client.send_message(msg)
        except Exception as exc:  # noqa: BLE001 - every failure is classified, none is swallowed
            raise classify(exc, cfg) from exc


def classify(exc: BaseException, cfg: SmtpConfig | None = None) -> SendError:
    """Permanent: the server said no (5xx, auth, refused recipient, TLS not offered, bad certificate).
    Transient: the server is away or busy (connection refused, timeout, disconnect, 4xx)."""
    where = f" ({cfg.host}:{cfg.port})" if cfg else ""
    if isinstance(exc, SendError):
        return exc
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        transient = bool(codes) and all(400 <= code < 500 for code in codes)
        return SendError(f"recipient refused by the mail server (codes {sorted(set(codes))})", not transient)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return SendError(f"authentication failed ({exc.smtp_code}): check SMTP_USER / SMTP_PASSWORD", True)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return SendError("the mail server does not support what SMTP_SECURITY / SMTP_USER ask for "
                         "(STARTTLS or AUTH)", True)
    if isinstance(exc, smtplib.SMTPResponseException):
        permanent = exc.smtp_code >= 500
        kind = type(exc).__name__.removeprefix("SMTP")
        return SendError(f"mail server answered {exc.smtp_code} ({kind})", permanent)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return SendError(f"the mail server's TLS certificate could not be verified{where}", True)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return SendError(f"the mail server closed the connection{where}", False)
    if isinstance(exc, smtplib.SMTPException) and "STARTTLS" in str(exc):
        return SendError("the mail server does not offer STARTTLS: check SMTP_SECURITY", True)
    if isinstance(exc, ConnectionRefusedError):
        return SendError(f"connection refused{where}", False)
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return SendError(f"timed out talking to the mail server{where}", False)
    if isinstance(exc, socket.gaierror):
        return SendError(f"mail server host name not found{where}", False)
    if isinstance(exc, (OSError, smtplib.SMTPException)):
        return SendError(f"{type(exc).__name__}{where}", False)
    return SendError(f"could not build or send the e-mail ({type(exc).__name__})", True)
