"""The demo organization and its local FTPS server, so that a fresh checkout runs green out of the box."""
from __future__ import annotations

import logging
import random
import secrets as pysecrets
from pathlib import Path

from sqlalchemy import select

from domiland import secrets
from domiland.config import get_config
from domiland.db.engine import session_scope
from domiland.db.models import (
    Account, DataType, FtpConnection, ImportBlock, Method, Organization, OrganizationKind,
)

log = logging.getLogger(__name__)

DEMO_CODE = "demo-uk"
DEMO_USER = "demo"
DEMO_FTP_PORT = 2121
DEMO_ACCOUNTS = 300
DEMO_FILES = ("accruals/начисления_2026-05.xml", "accruals/accruals_2026-06.xml")


def demo_dir() -> Path:
    return get_config().state_dir / "demo"


def ftp_password() -> str:
    """A random password made once per state directory (never a well-known one)."""
    path = demo_dir() / "ftp-password"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(pysecrets.token_urlsafe(16))
        path.chmod(0o600)
    return path.read_text().strip()


def seed(port: int = DEMO_FTP_PORT) -> int:
    """Create (or refresh) the demo management company, its FTP settings, accounts and accruals block."""
    write_sample_files(demo_dir() / "ftp")
    ensure_tls()
    with session_scope() as session:
        org = session.scalar(select(Organization).where(Organization.code == DEMO_CODE))
        if org is None:
            org = Organization(code=DEMO_CODE, name="УК «Демо»", kind=OrganizationKind.MANAGEMENT,
                               timezone="Europe/Moscow")
            session.add(org)
            session.flush()
        ftp = org.ftp or FtpConnection(organization_id=org.id)
        ftp.host, ftp.port, ftp.use_tls, ftp.username = "127.0.0.1", port, True, DEMO_USER
        ftp.password_encrypted = secrets.encrypt(ftp_password())
        ftp.root_dir, ftp.force_utf8, ftp.passive = "/", True, True
        session.add(ftp)
        known = set(session.scalars(select(Account.number).where(Account.organization_id == org.id)))
        session.add_all(Account(organization_id=org.id, number=n) for n in _account_numbers() if n not in known)
        block = session.scalar(select(ImportBlock).where(ImportBlock.organization_id == org.id,
                                                         ImportBlock.data_type == DataType.ACCRUALS))
        if block is None:
            session.add(ImportBlock(
                organization_id=org.id, data_type=DataType.ACCRUALS, method=Method.XML,
                paths=", ".join("/" + f for f in DEMO_FILES), delete_after_read=False,
                schedule_minute="0", schedule_hour="2", enabled=True))
        return org.id


def _account_numbers() -> list[str]:
    return [f"10{n:05d}" for n in range(1, DEMO_ACCOUNTS + 1)]


def write_sample_files(root: Path) -> None:
    """Sample accruals: one UTF-8 and one windows-1251 file with Cyrillic names, as partners send them."""
    rng = random.Random(42)
    services = [("CW", "Холодное водоснабжение", "куб.м", "48.33"), ("HW", "Горячее водоснабжение", "куб.м", "241.69"),
                ("EL", "Электроэнергия", "кВт.ч", "6.43"), ("MAINT", "Содержание жилья", "кв.м", "32.10")]
    for name, period, encoding in ((DEMO_FILES[0], "2026-05", "utf-8"), (DEMO_FILES[1], "2026-06", "windows-1251")):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = []
        for number in _account_numbers():
            for code, title, unit, tariff in services:
                volume = round(rng.uniform(1, 60), 3)
                amount = round(volume * float(tariff), 2)
                rows.append(
                    f"  <Accrual><AccountNumber>{number}</AccountNumber><Period>{period}</Period>"
                    f"<ServiceCode>{code}</ServiceCode><ServiceName>{title}</ServiceName><Tariff>{tariff}</Tariff>"
                    f"<Volume>{volume}</Volume><Unit>{unit}</Unit>"
                    f"<Amount>{amount:.2f}</Amount><TotalPayable>{amount:.2f}</TotalPayable></Accrual>")
        body = f'<?xml version="1.0" encoding="{encoding}"?>\n<Accruals version="1">\n' + "\n".join(rows) + "\n</Accruals>\n"
        path.write_bytes(body.encode(encoding))


def ensure_tls() -> tuple[Path, Path]:
    """(CA bundle, server key+certificate) of the demo server, from a local CA made once.

    Hub processes trust the CA through ``DOMILAND_FTP_CA_FILE``; certificate
    checks stay on, as they would for a real partner's server.
    """
    import trustme

    tls_dir = demo_dir() / "tls"
    ca_file, cert_file = tls_dir / "ca.pem", tls_dir / "server.pem"
    if not cert_file.exists():
        tls_dir.mkdir(parents=True, exist_ok=True)
        ca = trustme.CA()
        ca.cert_pem.write_to_path(str(ca_file))
        ca.issue_cert("127.0.0.1", "localhost").private_key_and_cert_chain_pem.write_to_path(str(cert_file))
        cert_file.chmod(0o600)
    return ca_file, cert_file


def serve_ftp(port: int = DEMO_FTP_PORT) -> None:
    """Run the demo FTPS server in the foreground (explicit TLS, certificate from a local test CA)."""
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import TLS_FTPHandler
    from pyftpdlib.servers import FTPServer

    ca_file, cert_file = ensure_tls()
    root = demo_dir() / "ftp"
    write_sample_files(root)
    authorizer = DummyAuthorizer()
    authorizer.add_user(DEMO_USER, ftp_password(), str(root), perm="elradfmwMT")
    handler = type("DemoHandler", (TLS_FTPHandler,), {})
    handler.authorizer = authorizer
    handler.certfile = str(cert_file)
    handler.tls_control_required = handler.tls_data_required = True
    handler.passive_ports = range(30000, 30100)
    handler.encoding = "utf-8"
    server = FTPServer(("127.0.0.1", port), handler)
    log.info("demo FTPS server on 127.0.0.1:%s, root %s, CA %s", port, root, ca_file)
    server.serve_forever()
