"""The FTP/FTPS transport against real servers (pyftpdlib, and Debian's vsftpd for TLS session reuse)."""

from __future__ import annotations

import ftplib
import io
import socket
import ssl
import time

import pytest

from domiland.transports.ftp import (
    DomilandFTPHook,
    FtpConnectError,
    FtpError,
    FtpFileTooLarge,
    FtpLoginError,
    FtpPathError,
    FtpSettings,
    FtpTlsError,
)
from tests.fixtures.ftp import FtpTestServer

SECRET = "Sup3r-secret-пароль"


@pytest.fixture(params=["ftp_server", "ftps_server"])
def server(request: pytest.FixtureRequest) -> FtpTestServer:
    return request.getfixturevalue(request.param)


def failure(settings: FtpSettings, expected: type[FtpError]) -> str:
    """Run a download that must fail with ``expected``; return its message after checking it hides the password."""
    with pytest.raises(expected) as caught, DomilandFTPHook(settings) as hook:
        hook.retrieve_to("any.xml", io.BytesIO())
    message = str(caught.value)
    assert settings.password not in message
    return message


def test_retrieve_streams_file(server: FtpTestServer) -> None:
    payload = bytes(range(256)) * 4096  # 1 MiB, many blocks
    (server.root / "in.xml").write_bytes(payload)
    buffer = io.BytesIO()
    with DomilandFTPHook(server.settings()) as hook:
        assert hook.retrieve_to("in.xml", buffer) == len(payload)
    assert buffer.getvalue() == payload
    assert ftplib.FTP_TLS.port == ftplib.FTP_PORT  # the provider's FTPSHook overwrites it process-wide


def test_cyrillic_directory_and_file(server: FtpTestServer) -> None:
    (server.root / "начисления").mkdir()
    (server.root / "начисления" / "май.xml").write_bytes("<ЛС>1</ЛС>".encode())
    buffer = io.BytesIO()
    with DomilandFTPHook(server.settings()) as hook:
        assert hook.list_directory("/начисления") == ["май.xml"]
        hook.retrieve_to("/начисления/май.xml", buffer)
    assert buffer.getvalue().decode() == "<ЛС>1</ЛС>"


def test_store_rename_exists_delete(server: FtpTestServer) -> None:
    (server.root / "out").mkdir()
    with DomilandFTPHook(server.settings(root_dir="/out")) as hook:
        hook.store_from(io.BytesIO(b"<export/>"), "выгрузка.xml.part")
        hook.rename("выгрузка.xml.part", "выгрузка.xml")
        assert hook.exists("выгрузка.xml") and hook.exists("/out")
        assert not hook.exists("выгрузка.xml.part")
        assert (server.root / "out" / "выгрузка.xml").read_bytes() == b"<export/>"
        hook.delete_file("выгрузка.xml")
        assert not hook.exists("выгрузка.xml")


def test_size_cap_aborts_and_session_stays_usable(server: FtpTestServer) -> None:
    (server.root / "huge.xml").write_bytes(b"x" * (8 * 1024 * 1024))
    (server.root / "small.xml").write_bytes(b"ok")
    buffer = io.BytesIO()
    with DomilandFTPHook(server.settings()) as hook:
        started = time.monotonic()
        with pytest.raises(FtpFileTooLarge, match=r"'/huge.xml' .* limit of 100000 bytes"):
            hook.retrieve_to("huge.xml", buffer, max_bytes=100_000)
        assert time.monotonic() - started < 2
        assert buffer.tell() <= 100_000
        assert hook.retrieve_to("small.xml", io.BytesIO(), max_bytes=100_000) == 2


def test_test_connection_ok(server: FtpTestServer) -> None:
    assert DomilandFTPHook(server.settings()).test_connection() == (True, "OK")


def test_wrong_password_is_login_error_without_password(ftps_server: FtpTestServer) -> None:
    settings = ftps_server.settings(password=SECRET)
    message = failure(settings, FtpLoginError)
    assert f"rejected login of user {ftps_server.user!r}" in message and "check username and password" in message
    hook = DomilandFTPHook(settings)
    assert SECRET not in repr(settings) and SECRET not in repr(hook)
    ok, reason = hook.test_connection()
    assert not ok and "rejected login" in reason and SECRET not in reason


def test_closed_port_fails_fast() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again on exit: nothing listens
    started = time.monotonic()
    message = failure(FtpSettings("127.0.0.1", port, password=SECRET, timeout=3), FtpConnectError)
    assert time.monotonic() - started < 1
    assert f"127.0.0.1:{port} refused the connection" in message


def test_unresolvable_host_says_dns() -> None:
    message = failure(FtpSettings("no-such-host.invalid", password=SECRET, timeout=3), FtpConnectError)
    assert "Cannot resolve FTP host 'no-such-host.invalid' (DNS lookup failed" in message


def test_missing_file_names_the_path(ftp_server: FtpTestServer) -> None:
    with pytest.raises(FtpPathError, match=r"Cannot download FTP path '/начисления/нет.xml' on 127\.0\.0\.1:\d+ \(550"):
        with DomilandFTPHook(ftp_server.settings()) as hook:
            hook.retrieve_to("/начисления/нет.xml", io.BytesIO())


def test_missing_root_dir_fails_test_connection(ftp_server: FtpTestServer) -> None:
    ok, reason = DomilandFTPHook(ftp_server.settings(root_dir="/нет")).test_connection()
    assert not ok
    assert "Cannot enter FTP directory '/нет'" in reason and "check that it exists" in reason


def test_untrusted_certificate_is_tls_error(ftps_server: FtpTestServer) -> None:
    message = failure(ftps_server.settings(ca_file=None, password=SECRET), FtpTlsError)
    assert "certificate" in message and "set ca_file" in message


def test_vsftpd_requires_tls_session_reuse(vsftpd_server: FtpTestServer) -> None:
    """Plain ftplib (what FTPSHook uses) is refused by require_ssl_reuse=YES; the hook is not."""
    (vsftpd_server.root / "начисления").mkdir()
    (vsftpd_server.root / "начисления" / "май.xml").write_bytes(b"<data/>" * 10_000)

    plain = ftplib.FTP_TLS(context=ssl.create_default_context(cafile=vsftpd_server.ca_file), timeout=5)
    try:
        plain.connect(vsftpd_server.host, vsftpd_server.port)
        plain.login(vsftpd_server.user, vsftpd_server.password)
        plain.prot_p()
        with pytest.raises(ftplib.error_perm, match="522 SSL connection failed: session reuse required"):
            plain.retrbinary("RETR /начисления/май.xml", io.BytesIO().write)
    finally:
        plain.close()

    buffer = io.BytesIO()
    with DomilandFTPHook(vsftpd_server.settings()) as hook:
        assert hook.test_connection() == (True, "OK")
        with pytest.raises(FtpFileTooLarge):
            hook.retrieve_to("/начисления/май.xml", io.BytesIO(), max_bytes=1000)
        assert hook.retrieve_to("/начисления/май.xml", buffer) == 70_000
        assert hook.list_directory("начисления") == ["май.xml"]
    assert buffer.getvalue() == b"<data/>" * 10_000
