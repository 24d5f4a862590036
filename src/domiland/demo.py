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
    Account, DataType, ExportBlock, FtpConnection, ImportBlock, Method, Organization, OrganizationKind,
)

log = logging.getLogger(__name__)

DEMO_CODE = "demo-uk"
DEMO_USER = "demo"
DEMO_FTP_PORT = 2121
DEMO_FEED_PORT = 8443
DEMO_ACCOUNTS = 300
DEMO_FILES = ("accruals/начисления_2026-05.xml", "accruals/accruals_2026-06.xml")
EVERY_10_MIN = ("0,10,20,30,40,50", "*", "*", "*", "*")
DAILY_2AM = ("0", "2", "*", "*", "*")
IMPORTS = (  # data type, method, paths (FTP or feed URL), schedule
    (DataType.ACCRUALS, Method.XML, ", ".join("/" + f for f in DEMO_FILES), DAILY_2AM),
    (DataType.PAYMENTS, Method.XML, "/payments/payments.xml", DAILY_2AM),
    (DataType.METER_READINGS, Method.XML, "/meters/показания.xml", DAILY_2AM),
    (DataType.BUILDINGS, Method.XML, "/objects/buildings.xml", DAILY_2AM),
    (DataType.CLIENTS, Method.XML, "/clients/clients.xml", DAILY_2AM),
    (DataType.NEWS, Method.URL, "https://127.0.0.1:{feed_port}/news.rss", EVERY_10_MIN),
    (DataType.OFFERS, Method.URL, "https://127.0.0.1:{feed_port}/realty-feed.xml", EVERY_10_MIN),
)
EXPORTS = (  # data type, directory, file name template
    (DataType.PAYMENTS, "/export/платежи", "payments_%Y%m%d_%H%M%S.xml"),
    (DataType.METER_READINGS, "/export/ipu", "ipu_%Y%m%d_%H%M%S.xml"),
)


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


def seed(port: int = DEMO_FTP_PORT, feed_port: int = DEMO_FEED_PORT) -> int:
    """Create (or refresh) the demo management company: FTP settings, accounts, a block of every kind."""
    write_sample_files(demo_dir() / "ftp")
    write_sample_feeds(demo_dir() / "feeds")
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
        have = set(session.scalars(select(ImportBlock.data_type).where(ImportBlock.organization_id == org.id)))
        for data_type, method, paths, schedule in IMPORTS:
            if data_type not in have:
                session.add(ImportBlock(organization_id=org.id, data_type=data_type, method=method,
                                        paths=paths.format(feed_port=feed_port), enabled=True,
                                        **_schedule(schedule)))
        have = set(session.scalars(select(ExportBlock.data_type).where(ExportBlock.organization_id == org.id)))
        for data_type, directory, template in EXPORTS:
            if data_type not in have:
                session.add(ExportBlock(organization_id=org.id, data_type=data_type, directory=directory,
                                        filename_template=template, enabled=True, **_schedule(EVERY_10_MIN)))
        return org.id


def _schedule(fields: tuple[str, ...]) -> dict[str, str]:
    return dict(zip(("schedule_minute", "schedule_hour", "schedule_day", "schedule_month", "schedule_weekday"),
                    fields))


def _account_numbers() -> list[str]:
    return [f"10{n:05d}" for n in range(1, DEMO_ACCOUNTS + 1)]


def write_sample_files(root: Path) -> None:
    """Sample accruals: one UTF-8 and one windows-1251 file with Cyrillic names, as partners send them."""
    rng = random.Random(42)
    services = [("CW", "Холодное водоснабжение", "куб.м", "48.33"), ("HW", "Горячее водоснабжение", "куб.м", "241.69"),
                ("EL", "Электроэнергия", "кВт.ч", "6.43"), ("MAINT", "Содержание жилья", "кв.м", "32.10")]
    for name, period, encoding in ((DEMO_FILES[0], "2026-05", "utf-8"), (DEMO_FILES[1], "2026-06", "windows-1251")):
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
        _write(root / name, "Accruals", rows, encoding)
    numbers = _account_numbers()
    _write(root / "payments/payments.xml", "Payments", [
        f"  <Payment><PaymentId>PAY-{i:05d}</PaymentId><AccountNumber>{numbers[i % len(numbers)]}</AccountNumber>"
        f"<Date>2026-06-{1 + i % 28:02d}T{9 + i % 9:02d}:15:00+03:00</Date><Amount>{rng.randint(500, 9000)}.{i % 100:02d}</Amount>"
        f"<Period>2026-05</Period><Source>{('bank', 'online', 'cash')[i % 3]}</Source>"
        f"<Purpose>Оплата ЖКУ за май, ЛС {numbers[i % len(numbers)]}</Purpose></Payment>" for i in range(600)])
    resources = ("COLD_WATER", "HOT_WATER", "ELECTRICITY")
    _write(root / "meters/показания.xml", "MeterReadings", [
        f"  <Reading><AccountNumber>{n}</AccountNumber><MeterNumber>{r[0]}-{n}</MeterNumber><Resource>{r}</Resource>"
        f"<Date>2026-06-20</Date><Value1>{rng.randint(10, 900)}.{rng.randint(0, 999):03d}</Value1>"
        + (f"<Value2>{rng.randint(10, 400)}.5</Value2>" if r == "ELECTRICITY" else "")
        + "<Source>app</Source></Reading>" for n in numbers for r in resources], "windows-1251")
    buildings = []
    for b in range(3):
        premises = "".join(
            f"<Premise><ExtId>P-{b}-{p}</ExtId><Number>{p + 1}</Number><Type>APARTMENT</Type>"
            f"<Floor>{1 + p // 4}</Floor><Area>{rng.randint(30, 95)}.{rng.randint(0, 9)}</Area>"
            f"<Account><Number>{numbers[b * 100 + p]}</Number></Account></Premise>" for p in range(100))
        buildings.append(f"  <Building><ExtId>B-{b}</ExtId><Address>г. Москва, ул. Демонстрационная, д. {b + 1}"
                         f"</Address>{premises}</Building>")
    _write(root / "objects/buildings.xml", "Buildings", buildings)
    last_names = ("Иванов", "Петрова", "Сидоров", "Кузнецова", "Смирнов")
    _write(root / "clients/clients.xml", "Clients", [
        f"  <Client><ExtId>1C-{i:04d}</ExtId><LastName>{last_names[i % 5]}</LastName><FirstName>Демо</FirstName>"
        f"<Phone>8 (9{i % 100:02d}) 555-{i // 100:02d}-{i % 100:02d}</Phone>"
        f"<AccountNumber>{numbers[i]}</AccountNumber></Client>" for i in range(len(numbers))])


def _write(path: Path, root: str, rows: list[str], encoding: str = "utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = f'<?xml version="1.0" encoding="{encoding}"?>\n<{root} version="1">\n' + "\n".join(rows) + f"\n</{root}>\n"
    path.write_bytes(body.encode(encoding))


def write_sample_feeds(root: Path) -> None:
    """A news feed (RSS 2.0) and a showcase feed (Yandex.Realty), as developers publish them."""
    root.mkdir(parents=True, exist_ok=True)
    items = "".join(
        f"<item><guid>demo-news-{i}</guid><title>Новость {i}: плановые работы в доме {i % 3 + 1}</title>"
        f"<link>https://demo.domiland.local/news/{i}</link><description>Уважаемые жители! Работы {i}.</description>"
        f"<pubDate>Mon, {i + 1:02d} Jun 2026 10:00:00 +0300</pubDate></item>" for i in range(10))
    (root / "news.rss").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>УК «Демо»</title>'
        f"<link>https://demo.domiland.local/</link><description>Новости</description>{items}</channel></rss>",
        encoding="utf-8")
    offers = "".join(
        f'<offer internal-id="DEMO-{i}"><type>продажа</type><property-type>жилая</property-type>'
        f"<category>квартира</category><location><country>Россия</country>"
        f"<address>ул. Демонстрационная, д. 1, кв. {i + 1}</address></location>"
        f"<price><value>{9_500_000 + i * 250_000}</value><currency>RUR</currency></price>"
        f"<area><value>{42 + i}.5</value><unit>кв. м</unit></area><rooms>{1 + i % 3}</rooms><floor>{2 + i}</floor>"
        f"<image>https://demo.domiland.local/img/{i}.jpg</image><deal-status>первичная продажа</deal-status>"
        f"<building-name>ЖК «Демо»</building-name></offer>" for i in range(12))
    (root / "realty-feed.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?><realty-feed xmlns="http://webmaster.yandex.ru/schemas/feed/realty/2010-06">'
        f"<generation-date>2026-06-01T10:00:00+03:00</generation-date>{offers}</realty-feed>", encoding="utf-8")


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


def serve(port: int = DEMO_FTP_PORT, feed_port: int = DEMO_FEED_PORT) -> None:
    """Run the demo HTTPS feed server in a thread and the FTPS server in the foreground."""
    import threading

    threading.Thread(target=serve_feeds, args=(feed_port,), daemon=True, name="demo-feeds").start()
    serve_ftp(port)


def serve_feeds(port: int = DEMO_FEED_PORT) -> None:
    """Serve ``demo/feeds`` over HTTPS with the demo CA's certificate (news and showcase feeds)."""
    import functools
    import ssl
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    _ca_file, cert_file = ensure_tls()
    root = demo_dir() / "feeds"
    write_sample_feeds(root)
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert_file))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    log.info("demo HTTPS feed server on 127.0.0.1:%s, root %s", port, root)
    server.serve_forever()


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
