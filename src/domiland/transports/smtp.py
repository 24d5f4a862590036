"""SMTP transport of the hub: one e-mail through the provider's ``SmtpHook`` and one hub-wide connection (MAIL-2).

The connection id is ``DOMILAND_SMTP_CONN_ID`` (default ``domiland_smtp``); define it like any
Airflow connection, e.g. ``AIRFLOW_CONN_DOMILAND_SMTP`` in JSON form::

    {"conn_type": "smtp", "host": "smtp.example.ru", "port": 587, "login": "hub", "password": "…",
     "extra": {"disable_ssl": true, "from_email": "Домиленд <noreply@example.ru>", "timeout": 10}}

Extras read (the provider's names): ``disable_ssl`` (the provider's default is implicit TLS,
``SMTP_SSL``, port 465), ``disable_tls`` (no STARTTLS), ``ssl_context`` (``default``/``none``),
``from_email``, ``timeout`` (seconds, may be fractional; default :data:`DEFAULT_TIMEOUT`, at most
:data:`MAX_TIMEOUT`) and ``retry_limit`` (at most :data:`RETRY_LIMIT`).

Fixes over ``airflow.providers.smtp.hooks.smtp.SmtpHook`` (provider 3.2.0), kept in
:class:`HubSmtpHook`: boolean extras given as strings (the URI form) are parsed, so
``disable_tls=false`` no longer *disables* STARTTLS; the timeout is bounded and may be fractional;
retries are capped at one (the provider's default is five, each up to the timeout). The hook
connects, secures and logs in; the message itself is our own ``multipart/alternative`` (plain text
and HTML; the hook's ``send_email_smtp`` can only send an HTML part), sent once on the hook's
client so that recipients the server refuses are reported instead of re-sent.

Every failure is a :class:`MailError` whose message names the server and the connection id and
never contains the SMTP password.
"""
from __future__ import annotations

import os
import smtplib
import socket
import ssl
from collections.abc import Sequence
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, make_msgid, parseaddr

from airflow.providers.smtp.hooks.smtp import SmtpHook

from domiland.transports.errors import TransportError

DEFAULT_CONN_ID = "domiland_smtp"
DEFAULT_FROM = "Domiland <noreply@domiland.local>"
DEFAULT_TIMEOUT = 10.0
"""Seconds for connecting and for each SMTP command when the connection has no ``timeout`` extra."""
MAX_TIMEOUT = 60.0
RETRY_LIMIT = 1
"""Reconnects after the server dropped the connection (the hook's retry loop); the message is sent once."""


_POLICY = SMTP_POLICY.clone(cte_type="7bit")
"""CRLF line ends, and Cyrillic bodies base64/quoted-printable encoded: not every server takes 8-bit data."""


class MailError(TransportError):
    """Nothing was sent: no connection defined, server unreachable or silent, login or every recipient refused."""


def smtp_conn_id() -> str:
    """The hub-wide Airflow connection id of the SMTP server."""
    return os.environ.get("DOMILAND_SMTP_CONN_ID") or DEFAULT_CONN_ID


def _flag(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


class HubSmtpHook(SmtpHook):
    """The provider's hook with the hub's bounds: timeout ≤ :data:`MAX_TIMEOUT`, at most :data:`RETRY_LIMIT` retry."""

    @property
    def timeout(self) -> float:  # type: ignore[override]  # the provider's int() refuses "2.5"
        raw = self.conn.extra_dejson.get("timeout")
        try:
            value = float(raw) if raw not in (None, "") else DEFAULT_TIMEOUT
        except (TypeError, ValueError):
            value = DEFAULT_TIMEOUT
        return min(value, MAX_TIMEOUT) if value > 0 else DEFAULT_TIMEOUT  # 0 would make the socket non-blocking

    @property
    def smtp_retry_limit(self) -> int:
        try:
            configured = int(self.conn.extra_dejson.get("retry_limit", RETRY_LIMIT))
        except (TypeError, ValueError):
            configured = RETRY_LIMIT
        return max(0, min(configured, RETRY_LIMIT))

    @property
    def smtp_starttls(self) -> bool:
        return not _flag(self.conn.extra_dejson.get("disable_tls", False))

    @property
    def use_ssl(self) -> bool:
        return not _flag(self.conn.extra_dejson.get("disable_ssl", False))

    @property
    def client(self) -> smtplib.SMTP:
        """The connected, logged-in client (after :meth:`get_conn`)."""
        if self._smtp_client is None:
            raise MailError("the SMTP client is not connected")
        return self._smtp_client  # type: ignore[return-value]

    def close(self) -> None:
        """Say QUIT if the line is still up, then drop the socket; never raises."""
        client, self._smtp_client = self._smtp_client, None
        if client is None:
            return
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            pass
        try:
            client.close()
        except OSError:
            pass


def build_message(to: Sequence[str], subject: str, text: str, html: str | None, sender: str) -> EmailMessage:
    """A ``text/plain`` message, ``multipart/alternative`` with an HTML part when ``html`` is given."""
    msg = EmailMessage(policy=_POLICY)
    msg["Subject"] = " ".join(subject.split())  # no CR/LF in a header
    name, addr = parseaddr(sender)
    msg["From"] = Address(display_name=name, addr_spec=addr) if name else addr
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=addr.rpartition("@")[2] or None)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: auto-responders must not answer
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg


def send_mail(to: Sequence[str], subject: str, text: str, html: str | None = None, *,
              conn_id: str | None = None) -> list[str]:
    """Send one e-mail to ``to`` (already validated addresses) through the hub's SMTP connection.

    Returns the recipients the server refused while accepting the others (usually empty);
    raises :class:`MailError` when nothing was sent.
    """
    if not to:
        raise MailError("no recipients")
    conn_id = conn_id or smtp_conn_id()
    hook = HubSmtpHook(smtp_conn_id=conn_id)
    try:
        try:
            hook.get_conn()  # looks up the connection, connects (timeout, retry), STARTTLS, login
            sender = hook.from_email or os.environ.get("DOMILAND_MAIL_FROM") or DEFAULT_FROM
            msg = build_message(to, subject, text, html, sender)
            refused = hook.client.send_message(msg, from_addr=parseaddr(sender)[1], to_addrs=list(to))
        finally:
            hook.close()
    except MailError:
        raise
    except Exception as exc:  # smtplib, socket, ssl and the hook's AirflowException alike
        raise MailError(_describe(exc, hook, conn_id)) from exc
    return sorted(refused)


def _describe(exc: Exception, hook: HubSmtpHook, conn_id: str) -> str:
    """One line for people: what failed, where, and what to check; the password is never included."""
    conn = hook.smtp_connection
    if conn is None:
        text = str(exc)
        if "not found" in text.lower():
            return (f"the SMTP connection '{conn_id}' is not defined: set AIRFLOW_CONN_{conn_id.upper()} "
                    "(or add it in Airflow → Admin → Connections)")
        return f"cannot read the SMTP connection '{conn_id}': {exc.__class__.__name__}: {text}"
    password = conn.password or ""
    if not conn.host:
        return f"the SMTP connection '{conn_id}' has no host"
    where = f"SMTP server {conn.host}:{conn.port or ('465' if hook.use_ssl else '25')} (connection '{conn_id}')"
    attempts = ""
    if "Unable to connect" in str(exc) and isinstance(exc.__context__, Exception):  # the hook's retries ran out
        exc, attempts = exc.__context__, f" ({hook.smtp_retry_limit + 1} attempts)"
    if isinstance(exc, smtplib.SMTPServerDisconnected) and "timed out" in str(exc):  # smtplib's wording of a timeout
        exc = TimeoutError(str(exc))
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = "; ".join(f"{addr}: {_reply(code, resp)}" for addr, (code, resp) in sorted(exc.recipients.items()))
        reason = f"refused every recipient ({refused})"
    elif isinstance(exc, smtplib.SMTPSenderRefused):
        reason = f"refused the sender {exc.sender}: {_reply(exc.smtp_code, exc.smtp_error)}"
    elif isinstance(exc, smtplib.SMTPAuthenticationError):
        reason = (f"rejected the login of user '{conn.login}': {_reply(exc.smtp_code, exc.smtp_error)}; "
                  "check the login and password of the connection")
    elif isinstance(exc, smtplib.SMTPNotSupportedError):
        reason = (f"does not support a required extension ({exc}); check the extras disable_tls / disable_ssl "
                  "(STARTTLS is on by default)")
    elif isinstance(exc, smtplib.SMTPResponseException):
        reason = f"answered {_reply(exc.smtp_code, exc.smtp_error)}"
    elif isinstance(exc, smtplib.SMTPServerDisconnected):
        reason = (f"closed the connection{attempts} ({exc}); "
                  "is it an SMTP server, with the right TLS mode (disable_ssl)?")
    elif isinstance(exc, (TimeoutError, socket.timeout)):
        reason = f"did not answer within {hook.timeout:g} s{attempts}"
    elif isinstance(exc, ConnectionRefusedError):
        reason = "refused the connection (is the server running and the port right?)"
    elif isinstance(exc, socket.gaierror):
        reason = f"cannot be resolved ({exc.strerror or exc})"
    elif isinstance(exc, ssl.SSLError):
        reason = f"TLS failed ({exc.reason or exc}); check the extras disable_ssl / disable_tls / ssl_context"
    else:
        reason = f"failed: {exc.__class__.__name__}: {exc}"
    return _redact(f"{where} {reason}", password)


def _reply(code: int, resp: bytes | str) -> str:
    text = resp.decode("utf-8", "replace") if isinstance(resp, bytes) else str(resp)
    return f"{code} {' '.join(text.split())}"


def _redact(text: str, password: str) -> str:
    return text.replace(password, "***") if len(password) >= 3 else text
