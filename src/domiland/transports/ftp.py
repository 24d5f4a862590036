"""FTP/FTPS transport of the hub: the Airflow FTP hook with its known defects fixed in one place.

Fixes over ``airflow.providers.ftp.hooks.ftp``: the port is passed to ``connect`` instead of being
set on ``ftplib.FTP_TLS`` process-wide; a timeout bounds connect and every socket operation;
certificates are always verified, optionally against an extra CA bundle; the FTPS data channel
reuses the control channel's TLS session (vsftpd ``require_ssl_reuse=YES``); downloads stream with
a size cap; closing tolerates a dead socket; and every failure is one of the exceptions below, with
a message that names the thing, the place and the next step, and never the password.

Exceptions (ftplib/socket/ssl errors are translated in :meth:`DomilandFTPHook._errors` only):

* ``FtpError`` -- base class; also temporary (4xx) and unexpected server answers.
* ``FtpConnectError`` -- DNS failure, connection refused, timeout or a dropped connection.
* ``FtpTlsError`` -- TLS handshake/certificate failure, or the server refusing our TLS data channel.
* ``FtpLoginError`` -- the server rejected the username/password.
* ``FtpPathError`` -- a missing file or directory, or permission refused; the message has the path.
* ``FtpFileTooLarge`` -- a download exceeded ``max_bytes``.
"""

from __future__ import annotations

import ftplib  # nosec: B402
import posixpath
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import BinaryIO

from airflow.providers.ftp.hooks.ftp import FTPHook

from domiland.transports.errors import TransportError

BLOCK_SIZE = 64 * 1024


class FtpError(TransportError):
    """Any FTP transport failure."""


class FtpConnectError(FtpError):
    """The server could not be reached: DNS failure, connection refused, timeout, dropped link."""


class FtpTlsError(FtpError):
    """TLS could not be established or was refused (certificate, hostname, session reuse)."""


class FtpLoginError(FtpError):
    """The server rejected the credentials."""


class FtpPathError(FtpError):
    """A remote file or directory is missing or not accessible."""


class FtpFileTooLarge(FtpError):
    """A remote file is larger than the caller allowed."""


@dataclass(frozen=True)
class FtpSettings:
    """Where and how to connect; ``timeout`` (seconds) bounds connect and every socket operation."""

    host: str
    port: int = 21
    use_tls: bool = False
    username: str = "anonymous"
    password: str = field(default="", repr=False)
    root_dir: str = "/"
    force_utf8: bool = True
    passive: bool = True
    timeout: float = 30.0
    ca_file: str | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


class ReusedSessionFTP_TLS(ftplib.FTP_TLS):
    """Explicit FTPS whose data connections resume the control connection's TLS session.

    vsftpd with ``require_ssl_reuse=YES`` (its default once FTPS is on) answers
    ``522 SSL connection failed: session reuse required`` to a data channel that negotiates a fresh
    TLS session, which is what plain ``ftplib.FTP_TLS`` and the provider's ``FTPSHook`` do. The
    check proves the data peer is the client that authenticated on the control channel.
    """

    def ntransfercmd(self, cmd: str, rest: int | str | None = None) -> tuple[socket.socket, int | None]:
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:  # type: ignore[attr-defined]
            try:
                conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
            except BaseException:
                conn.close()
                raise
        return conn, size


class DomilandFTPHook(FTPHook):
    """FTP/FTPS hook configured from :class:`FtpSettings` instead of an Airflow connection id.

    Subclasses ``FTPHook`` rather than ``FTPSHook``: one class serves both protocols and
    ``FTPSHook`` only adds the ``get_conn`` replaced here. Remote paths are relative to
    ``root_dir`` unless absolute. The methods below raise :class:`FtpError` subclasses only;
    inherited provider methods not overridden here raise raw ``ftplib`` errors.
    """

    def __init__(self, settings: FtpSettings) -> None:
        super().__init__(ftp_conn_id=f"domiland-ftp://{settings.address}")
        self.settings = settings

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.settings!r})"

    def get_conn(self) -> ftplib.FTP:
        """Return the open session, connecting, securing, logging in and entering ``root_dir`` once."""
        if self.conn is None:
            self.conn = self._connect()
        return self.conn

    def close_conn(self) -> None:
        """Say QUIT politely, but close the socket even when the link is already dead."""
        conn, self.conn = self.conn, None
        if conn is not None:
            _hang_up(conn)

    def test_connection(self) -> tuple[bool, str]:
        """Connect, secure, log in and enter ``root_dir`` on a fresh session; never raises."""
        try:
            _hang_up(self._connect())
        except FtpError as exc:
            return False, str(exc)
        except Exception as exc:  # noqa: BLE001 - the contract is to report, never raise
            return False, self._scrub(f"Unexpected error testing FTP server {self.settings.address}: {exc!r}")
        return True, "OK"

    def retrieve_to(self, path: str, fileobj: BinaryIO, max_bytes: int | None = None) -> int:
        """Stream ``path`` into ``fileobj`` block by block; return the byte count.

        Raises :class:`FtpFileTooLarge` as soon as more than ``max_bytes`` arrived; the transfer is
        aborted and ``fileobj`` holds a partial copy the caller must discard.
        """
        received = 0

        def write(block: bytes) -> None:
            nonlocal received
            received += len(block)
            if max_bytes is not None and received > max_bytes:
                raise FtpFileTooLarge(
                    f"FTP file {self._where(path)} is larger than the limit of {max_bytes} bytes; "
                    "raise max_bytes or ask the sender to split the file."
                )
            fileobj.write(block)

        with self._session("download", path) as conn:
            try:
                conn.retrbinary(f"RETR {path}", write, BLOCK_SIZE)
            except FtpFileTooLarge:
                try:
                    conn.voidresp()  # the server's 426 (or 226) for the data channel we hung up
                except ftplib.Error:
                    pass
                except (OSError, EOFError):
                    self.conn = None  # no answer: drop the session, the next call reconnects
                    conn.close()
                raise
        return received

    def store_from(self, fileobj: BinaryIO, path: str) -> None:
        """Upload ``fileobj`` (read in blocks from its current position) to ``path``."""
        with self._session("upload", path) as conn:
            conn.storbinary(f"STOR {path}", fileobj, BLOCK_SIZE)

    def delete_file(self, path: str) -> None:
        """Delete the remote file ``path``."""
        with self._session("delete", path) as conn:
            conn.delete(path)

    def rename(self, from_name: str, to_name: str) -> str:
        """Rename ``from_name`` to ``to_name``; most servers replace an existing target."""
        with self._session("rename", from_name) as conn:
            return conn.rename(from_name, to_name)

    def make_dirs(self, path: str) -> None:
        """Create ``path`` and its missing parents, like ``mkdir -p`` (an export directory, EXP-2)."""
        with self._session("create directory", path) as conn:
            here = conn.pwd()
            try:
                if path.startswith("/"):
                    conn.cwd("/")
                for part in [p for p in path.split("/") if p]:
                    try:
                        conn.cwd(part)
                    except ftplib.error_perm:
                        conn.mkd(part)
                        conn.cwd(part)
            finally:
                conn.cwd(here)

    def exists(self, path: str) -> bool:
        """Tell whether ``path`` is an existing file or directory (False also when not accessible)."""
        with self._session("check", path) as conn:
            try:
                conn.size(path)
                return True
            except ftplib.error_perm:
                pass  # a directory, or missing
            here = conn.pwd()
            try:
                conn.cwd(path)
            except ftplib.error_perm:
                return False
            conn.cwd(here)
            return True

    def list_directory(self, path: str = ".") -> list[str]:
        """Return the entry names (not paths) in directory ``path``."""
        with self._session("list", path) as conn:
            return [posixpath.basename(name.rstrip("/")) for name in conn.nlst(path)]

    def _connect(self) -> ftplib.FTP:
        s = self.settings
        conn: ftplib.FTP | None = None
        try:
            if s.use_tls:
                with self._errors("load the CA bundle"):
                    context = ssl.create_default_context()
                    if s.ca_file:
                        context.load_verify_locations(cafile=s.ca_file)
                conn = ReusedSessionFTP_TLS(context=context, timeout=s.timeout, encoding="utf-8")
            else:
                conn = ftplib.FTP(timeout=s.timeout, encoding="utf-8")  # nosec: B321
            with self._errors("connect"):
                self.log.info("Connecting to FTP%s server %s", "S" if s.use_tls else "", s.address)
                conn.connect(s.host, s.port, timeout=s.timeout)
            if isinstance(conn, ftplib.FTP_TLS):
                with self._errors("negotiate TLS"):
                    conn.auth()
            with self._errors("login"):
                conn.login(s.username, s.password)
            with self._errors("set up the session"):
                if isinstance(conn, ftplib.FTP_TLS):
                    conn.prot_p()
                if s.force_utf8:
                    try:
                        conn.sendcmd("OPTS UTF8 ON")
                    except ftplib.error_perm:
                        pass  # server lacks the command; ftplib speaks utf-8 anyway
                conn.set_pasv(s.passive)
                conn.voidcmd("TYPE I")
            with self._errors("enter", s.root_dir):
                conn.cwd(s.root_dir)
        except BaseException:
            if conn is not None:
                conn.close()
            raise
        return conn

    @contextmanager
    def _session(self, action: str, path: str) -> Iterator[ftplib.FTP]:
        """Yield the open session for ``action``; drop it when the link failed so the next call reconnects."""
        conn = self.get_conn()
        try:
            with self._errors(action, path):
                yield conn
        except FtpConnectError:
            self.conn = None
            conn.close()
            raise

    def _where(self, path: str) -> str:
        return f"'{posixpath.join(self.settings.root_dir, path)}' on {self.settings.address}"

    def _scrub(self, text: str) -> str:
        password = self.settings.password
        return text.replace(password, "***") if password else text

    @contextmanager
    def _errors(self, action: str, path: str | None = None) -> Iterator[None]:
        """Translate ftplib/socket/ssl exceptions raised while doing ``action`` into :class:`FtpError`."""
        try:
            yield
        except FtpError:
            raise
        except Exception as exc:
            raise self._translate(exc, action, path) from None

    def _translate(self, exc: Exception, action: str, path: str | None) -> FtpError:
        s, address = self.settings, self.settings.address
        detail = self._scrub(str(exc).strip() or type(exc).__name__)
        if isinstance(exc, socket.gaierror):
            return FtpConnectError(f"Cannot resolve FTP host {s.host!r} (DNS lookup failed: {detail}); check the host name.")
        if isinstance(exc, ConnectionRefusedError):
            return FtpConnectError(
                f"FTP server {address} refused the connection; check that the server runs and the port is right."
            )
        if isinstance(exc, TimeoutError):
            return FtpConnectError(
                f"FTP server {address} did not answer within {s.timeout:g} s (timeout during {action}); "
                "check host, port and firewall, or raise the timeout."
            )
        if isinstance(exc, ssl.SSLCertVerificationError):
            return FtpTlsError(
                f"TLS certificate of FTP server {address} is not trusted ({exc.verify_message}); "
                "set ca_file to the CA bundle that issued it, or fix the server certificate."
            )
        if action == "load the CA bundle":
            return FtpTlsError(f"Cannot load ca_file {s.ca_file!r} ({detail}); point ca_file at a readable PEM bundle.")
        if isinstance(exc, ssl.SSLError) or action == "negotiate TLS" or detail[:3] in ("522", "534"):
            return FtpTlsError(
                f"TLS with FTP server {address} failed ({action}: {detail}); "
                "check that the server speaks explicit FTPS (AUTH TLS) and review its TLS settings."
            )
        if isinstance(exc, ftplib.error_perm) and action == "login":
            hint = "" if s.use_tls else ", and whether the server requires use_tls"
            return FtpLoginError(
                f"FTP server {address} rejected login of user {s.username!r} ({detail}); "
                f"check username and password{hint}."
            )
        if isinstance(exc, ftplib.error_perm) and path is not None:
            kind = "directory" if action == "enter" else "path"
            return FtpPathError(
                f"Cannot {action} FTP {kind} {self._where(path)} ({detail}); "
                f"check that it exists and that user {s.username!r} may access it."
            )
        if isinstance(exc, (OSError, EOFError)):
            return FtpConnectError(
                f"Connection to FTP server {address} was lost during {action} ({detail}); check the network and retry."
            )
        where = "" if path is None else f" of {self._where(path)}"
        return FtpError(
            f"FTP server {address} answered unexpectedly during {action}{where} ({detail}); retry later or ask its operator."
        )


def _hang_up(conn: ftplib.FTP) -> None:
    try:
        conn.quit()
    except (OSError, EOFError, ftplib.Error):
        pass  # a dead link cannot say goodbye
    finally:
        conn.close()
