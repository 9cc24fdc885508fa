"""Test support for the hand-off: a real SMTP server (aiosmtpd) in the test process, and answers.

The server stands in for the company's mail server: it can be stopped and started again on
the same port (to test the outbox's retry), refuse recipients with a chosen code, and
require a login. Used by tests/test_handoff_*.py and tests/slack/test_forward.py.
"""
from __future__ import annotations

import email
import email.policy
import shutil
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from bot.answer import Answer, Citation, Contact
from bot.record import AnswerRecord

CONTACT = "info@sokonara.co.jp"
PERMALINK = "https://sokonara.slack.com/archives/C0123/p1732500000000100"
RIGHTS = Citation("8", "第8条（個人情報に関する利用者の開示・訂正等の権利）", 8, None, None,
                  "個人情報に関する利用者の開示・訂正等の権利",
                  "当社サービスにおける個人情報の開示・訂正・削除・利用停止又は第三者提供記録の開示等の措置については、"
                  "第10条に定めるお問い合わせ窓口までご連絡ください。…", 0.9)
WINDOW = Citation("10-2", "第10条（お問い合わせ）【お問合せ窓口】", 10, 2, None, "お問い合わせ",
                  "【お問合せ窓口】\nメールアドレス：info@sokonara.co.jp", 0.0)

def make_answer(question="自分の個人データの開示を請求したいです", *, lang="ja", status="answered",
                citations=(RIGHTS, WINDOW), email_=CONTACT, nearest=None) -> Answer:
    """`nearest`: the clause ids the answer's record names as looked at (None: no record)."""
    contact = Contact(email_, tuple(c.label for c in citations)) if email_ else None
    reason = None if status == "answered" else "not_covered"
    record = None if nearest is None else AnswerRecord(status, reason, lang, "2026-06-03", nearest=tuple(nearest))
    return Answer(question=question, status=status, lang=lang, citations=citations, contact=contact,
                  revision="2026-06-03", company="株式会社ソコナラ", reason=reason, record=record)


USER = "policybot"
PASSWORD = "s3cret-pa55"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed_cert(directory: Path) -> tuple[Path, Path] | None:
    """(cert, key) for 127.0.0.1 made with the openssl command, or None where it is missing."""
    if not shutil.which("openssl"):
        return None
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], check=True, capture_output=True)
    return cert, key


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)  # type: ignore[return-value]


class _Handler:
    def __init__(self, server: "SmtpServer"):
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        code = self.server.refuse.get(address.lower())
        if code:
            return f"{code} mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.server.lock:
            self.server.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content
                                                 or envelope.content))
        return "250 Message accepted for delivery"


class SmtpServer:
    """`with SmtpServer() as smtp:`; `smtp.env()` gives the SMTP_* variables pointing at it."""

    def __init__(self, port: int | None = None, require_auth: bool = False, tls: str | None = None,
                 cert: tuple[Path, Path] | None = None):
        self.port = port or free_port()
        self.require_auth = require_auth
        self.tls = tls  # None, "starttls" or "ssl" (needs `cert`)
        self.cert = cert
        self.received: list[Received] = []
        self.refuse: dict[str, int] = {}  # recipient → SMTP code to answer RCPT with
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
        return AuthResult(success=ok, handled=False)

    def start(self) -> "SmtpServer":
        kwargs: dict = {}
        if self.require_auth:
            # aiosmtpd only counts STARTTLS as TLS, not an implicit-TLS (ssl) connection
            kwargs = {"authenticator": self._authenticate, "auth_required": True,
                      "auth_require_tls": self.tls == "starttls"}
        if self.tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*map(str, self.cert))
            kwargs |= {"tls_context": context, "require_starttls": True} if self.tls == "starttls" else \
                {"ssl_context": context}
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port,
                                      decode_data=False, **kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> "SmtpServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def env(self, **overrides: str) -> dict[str, str]:
        env = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(self.port), "SMTP_SECURITY": self.tls or "none",
               "SMTP_FROM": "policybot@example.com"}
        if self.require_auth:
            env |= {"SMTP_USER": USER, "SMTP_PASSWORD": PASSWORD}
        return env | overrides

    def messages(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait until `count` messages arrived (a wait, not a timing assertion)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.messages()
            if len(got) >= count:
                return got
            time.sleep(0.02)
        return self.messages()
