"""SMTP sending against a real local server (aiosmtpd), and the classification of failures."""
from __future__ import annotations

import smtplib
import socket

import pytest

from bot.handoff.compose import build_message, handoff_from_answer
from bot.handoff.smtp import SendError, SmtpConfig, SmtpConfigError, SmtpSender, classify
from tests.handoff_support import CONTACT, PASSWORD, PERMALINK, USER, SmtpServer, free_port, make_answer, self_signed_cert

# The local test server takes a login without TLS; real deployments use starttls/ssl.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


# --- configuration ---------------------------------------------------------------------------

def test_no_host_means_no_mail_server():
    assert SmtpConfig.from_env({}) is None
    assert SmtpConfig.from_env({"SMTP_HOST": "  ", "SMTP_PORT": "25"}) is None


@pytest.mark.parametrize("security, port", [("none", 25), ("starttls", 587), ("ssl", 465), ("SSL", 465)])
def test_default_port_follows_security(security, port):
    cfg = SmtpConfig.from_env({"SMTP_HOST": "mail.example.com", "SMTP_SECURITY": security,
                               "SMTP_FROM": "bot@example.com"})
    assert cfg.port == port and cfg.security == security.lower()


def test_sender_defaults_to_a_login_that_is_an_address():
    cfg = SmtpConfig.from_env({"SMTP_HOST": "h", "SMTP_USER": "bot@example.com", "SMTP_PASSWORD": "pw"})
    assert cfg.sender == "bot@example.com" and cfg.security == "starttls"


@pytest.mark.parametrize("env, message", [
    ({"SMTP_SECURITY": "tls"}, "SMTP_SECURITY must be one of none, starttls, ssl"),
    ({"SMTP_PORT": "smtp"}, "SMTP_PORT must be a number"),
    ({"SMTP_PORT": "70000"}, "SMTP_PORT must be between"),
    ({"SMTP_USER": "bot"}, "Set both SMTP_USER and SMTP_PASSWORD"),
    ({"SMTP_FROM": ""}, "Set SMTP_FROM"),
    ({"SMTP_FROM": "Bot <bot@example.com>"}, "SMTP_FROM must be a plain e-mail address"),
])
def test_bad_settings_name_the_variable_to_fix(env, message):
    base = {"SMTP_HOST": "mail.example.com", "SMTP_FROM": "bot@example.com"}
    with pytest.raises(SmtpConfigError, match=message):
        SmtpConfig.from_env(base | env)


def test_password_never_shows():
    cfg = SmtpConfig.from_env({"SMTP_HOST": "h", "SMTP_USER": "u@example.com", "SMTP_PASSWORD": "hunter2"})
    assert "hunter2" not in repr(cfg) and "hunter2" not in cfg.describe()
    assert "u@example.com" not in cfg.describe()


# --- sending to a real server ------------------------------------------------------------------

def _message(question="自分の個人データの開示を請求したいです"):
    h = handoff_from_answer(make_answer(question), "U0ASKER", PERMALINK, reply_to="taro@example.com")
    return h, build_message(h, "policybot@example.com")


def test_mail_arrives_with_recipient_subject_body_and_utf8():
    h, msg = _message()
    with SmtpServer() as smtp:
        SmtpSender(SmtpConfig.from_env(smtp.env())).send(msg)
        [got] = smtp.wait_for(1)
    assert got.rcpt_tos == [CONTACT]
    assert got.mail_from == "policybot@example.com"
    received = got.message
    assert received["Subject"] == h.subject
    assert received["To"] == CONTACT
    assert received.get_content_charset() == "utf-8"
    body = received.get_content()
    for expected in ("自分の個人データの開示を請求したいです", "第8条（個人情報に関する利用者の開示・訂正等の権利）", PERMALINK, h.ref):
        assert expected in body


def test_header_injection_through_the_question_reaches_no_one():
    h, msg = _message("削除してください\r\nBcc: x@y.example.com")
    with SmtpServer() as smtp:
        SmtpSender(SmtpConfig.from_env(smtp.env())).send(msg)
        [got] = smtp.wait_for(1)
    assert got.rcpt_tos == [CONTACT]
    assert got.message["Bcc"] is None
    assert b"\r\nBcc:" not in got.raw.split(b"\r\n\r\n", 1)[0]


def test_login_works():
    _, msg = _message()
    with SmtpServer(require_auth=True) as smtp:
        SmtpSender(SmtpConfig.from_env(smtp.env())).send(msg)
        assert len(smtp.wait_for(1)) == 1


@pytest.fixture()
def cert(tmp_path):
    made = self_signed_cert(tmp_path)
    if made is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    return made


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_with_login_to_a_trusted_server(cert, security, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))  # trust the test certificate (OpenSSL's own variable)
    _, msg = _message()
    with SmtpServer(require_auth=True, tls=security, cert=cert) as smtp:
        sender = SmtpSender(SmtpConfig.from_env(smtp.env()))
        sender.send(msg)
        sender.send(msg)  # a second connection with the TLS context made for the first
        got = smtp.wait_for(2)
    assert [m.rcpt_tos for m in got] == [[CONTACT], [CONTACT]]


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_untrusted_certificate_is_permanent(cert, security, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with SmtpServer(tls=security, cert=cert) as smtp:
        error = _send_error(smtp)
    assert error.permanent and "certificate could not be verified" in error.reason
    assert smtp.messages() == []


# --- failures: permanent (operator must act) or transient (retry) ------------------------------

def _send_error(server: SmtpServer, **env) -> SendError:
    _, msg = _message()
    with pytest.raises(SendError) as info:
        SmtpSender(SmtpConfig.from_env(server.env(**env))).send(msg)
    return info.value


def test_wrong_password_is_permanent_and_does_not_leak_it():
    with SmtpServer(require_auth=True) as smtp:
        error = _send_error(smtp, SMTP_PASSWORD="wrong-password-123")
    assert error.permanent
    assert "authentication failed" in error.reason
    assert "wrong-password-123" not in error.reason and PASSWORD not in error.reason and USER not in error.reason


@pytest.mark.parametrize("code, permanent", [(550, True), (450, False)])
def test_refused_recipient_is_classified_by_its_code(code, permanent):
    with SmtpServer() as smtp:
        smtp.refuse[CONTACT] = code
        error = _send_error(smtp)
    assert error.permanent is permanent
    assert str(code) in error.reason and CONTACT not in error.reason


def test_starttls_against_a_plain_server_is_permanent():
    with SmtpServer() as smtp:
        error = _send_error(smtp, SMTP_SECURITY="starttls")
    assert error.permanent and "STARTTLS" in error.reason


def test_server_down_is_transient():
    port = free_port()
    _, msg = _message()
    cfg = SmtpConfig.from_env({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_SECURITY": "none",
                               "SMTP_FROM": "bot@example.com"})
    with pytest.raises(SendError) as info:
        SmtpSender(cfg).send(msg)
    assert not info.value.permanent and "connection refused" in info.value.reason


@pytest.mark.parametrize("exc, permanent", [
    (smtplib.SMTPDataError(554, b"rejected"), True),
    (smtplib.SMTPDataError(451, b"try later"), False),
    (smtplib.SMTPSenderRefused(553, b"no", "bot@example.com"), True),
    (smtplib.SMTPServerDisconnected("gone"), False),
    (socket.timeout("timed out"), False),
    (socket.gaierror(-2, "Name or service not known"), False),
    (smtplib.SMTPNotSupportedError("AUTH not supported"), True),
])
def test_classification(exc, permanent):
    assert classify(exc).permanent is permanent
