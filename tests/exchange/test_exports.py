"""Export use case against a real FTPS server: XSD-valid streamed files, atomic upload, never overwrite."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from lxml import etree

from domiland.db.engine import session_scope
from domiland.db.models import Account, DataType, ExportBlock, Meter, MeterReading, Payment
from domiland.exchange.exports import export_block, validate_filename_template
from domiland.formats.xml_stream import load_schema

T0 = datetime(2026, 11, 2, 0, 0, tzinfo=timezone.utc)


@pytest.fixture
def org(ftps_server, make_org, monkeypatch):
    monkeypatch.setenv("DOMILAND_FTP_CA_FILE", ftps_server.ca_file)
    monkeypatch.setenv("DOMILAND_FTP_TIMEOUT", "5")
    return make_org("uk-exp", ftp=ftps_server.settings())


def make_export(org_id, data_type=DataType.PAYMENTS, directory="", template="payments_%Y%m%d_%H%M%S.xml",
                skip_empty=False) -> int:
    with session_scope() as s:
        block = ExportBlock(organization_id=org_id, data_type=data_type, directory=directory,
                            filename_template=template, skip_empty=skip_empty)
        s.add(block)
        s.flush()
        return block.id


def add_payments(org_id, n, *, created, prefix="P", purpose="Оплата за ЖКУ"):
    with session_scope() as s:
        account = s.query(Account).filter_by(organization_id=org_id, number="1001").one()
        for i in range(n):
            s.add(Payment(organization_id=org_id, payment_id=f"{prefix}{i}", account_id=account.id,
                          paid_at=T0 + timedelta(minutes=i), amount=Decimal("100.50") + i, period="2026-10",
                          source="bank", purpose=purpose, created_at=created + timedelta(seconds=i)))


def files(root, pattern="**/*.xml"):
    return sorted(p for p in root.glob(pattern) if p.is_file())


def valid(path, xsd):
    doc = etree.parse(str(path))
    schema = load_schema(xsd)
    assert schema.validate(doc), schema.error_log
    return doc


def test_window_export_is_xsd_valid_escaped_and_in_the_org_zone(ftps_server, org):
    add_payments(org, 3, created=T0, purpose='Tom & Jerry <b>"кв. 5"</b>\x01')
    add_payments(org, 2, created=T0 + timedelta(days=1), prefix="LATER")  # outside the window
    report = export_block(make_export(org, directory="/выгрузка/платежи"), kind="scheduled",
                          interval=(T0, T0 + timedelta(days=1)), dag_id="d", run_id="r1")
    assert report.error is None and report.rows == 3
    assert report.file_name == "/выгрузка/платежи/payments_20261103_030000.xml"  # window end, Moscow time
    (path,) = files(ftps_server.root)
    doc = valid(path, "payments.xsd")
    first = doc.getroot()[0]
    assert first.findtext("Purpose") == 'Tom & Jerry <b>"кв. 5"</b>'
    assert first.findtext("Date") == "2026-11-02T03:00:00+03:00"
    assert [p.findtext("PaymentId") for p in doc.getroot()] == ["P0", "P1", "P2"]
    assert [p.findtext("Amount") for p in doc.getroot()] == ["100.5", "101.5", "102.5"]
    assert not list(ftps_server.root.rglob(".*.part"))


def test_meter_readings_export(ftps_server, org):
    with session_scope() as s:
        account = s.query(Account).filter_by(organization_id=org, number="1002").one()
        meter = Meter(organization_id=org, number="M-1", account_id=account.id, resource="ELECTRICITY")
        s.add(meter)
        s.flush()
        s.add(MeterReading(organization_id=org, meter_id=meter.id, account_id=account.id,
                           reading_date=datetime(2026, 11, 1).date(), value1=Decimal("123.4"),
                           value2=Decimal("56"), source="app", created_at=T0))
    report = export_block(make_export(org, DataType.METER_READINGS, template="ipu_%Y%m%d.xml"), kind="manual",
                          now=T0 + timedelta(hours=1))
    assert report.rows == 1
    (path,) = files(ftps_server.root)
    reading = valid(path, "meter_readings.xsd").getroot()[0]
    assert [reading.findtext(f) for f in ("AccountNumber", "MeterNumber", "Resource", "Date", "Value1", "Value2")] == [
        "1002", "M-1", "ELECTRICITY", "2026-11-01", "123.4", "56"]
    assert reading.find("Value3") is None


def test_empty_window_gives_an_empty_valid_file_unless_the_block_skips_it(ftps_server, org):
    report = export_block(make_export(org), kind="manual", now=T0)
    assert report.rows == 0 and report.file_name
    assert len(valid(files(ftps_server.root)[0], "payments.xsd").getroot()) == 0
    other = make_export(org, DataType.METER_READINGS, template="m_%Y%m%d.xml", skip_empty=True)
    report = export_block(other, kind="manual", now=T0)
    assert report.file_name is None and "не выгружать пустые" in report.skipped
    assert len(files(ftps_server.root)) == 1


def test_existing_file_is_never_overwritten(ftps_server, org):
    (ftps_server.root / "daily_20261102.xml").write_text("partner's file")
    block = make_export(org, template="daily_%Y%m%d.xml")
    add_payments(org, 1, created=T0 - timedelta(hours=5))
    report = export_block(block, kind="manual", now=T0 - timedelta(hours=1))
    assert report.file_name == "daily_20261102_1.xml"
    assert report.status.value == "Warning" and "уже есть на сервере" in report.message()
    assert (ftps_server.root / "daily_20261102.xml").read_text() == "partner's file"


def test_refused_upload_is_an_error_and_leaves_no_file(request, ftps_server, org):
    (ftps_server.root / "out").mkdir()
    request.getfixturevalue("_tls_ftpd").authorizer.override_perm(ftps_server.user, str(ftps_server.root / "out"),
                                                                  "elr", recursive=True)
    add_payments(org, 2, created=T0)
    report = export_block(make_export(org, directory="out"), kind="manual", now=T0 + timedelta(hours=1))
    assert report.status.value == "Error" and report.error_kind == "transport"
    assert "permission" in report.error.lower() or "refused" in report.error.lower() or "550" in report.error
    assert files(ftps_server.root, "**/*") == []


@pytest.mark.parametrize("template, message", [
    ("", "empty"), ("../x_%Y.xml", "no directories"), ("p_%Q.xml", "%Q"), ("payments.xml", "add the date"),
])
def test_bad_file_name_templates_are_refused(template, message):
    with pytest.raises(ValueError, match=message):
        validate_filename_template(template)


def test_good_template_passes():
    validate_filename_template("payments_%Y%m%d_%H%M%S.xml")


@pytest.fixture
def dropping_ftps(ftp_tls_files, tmp_path):
    """An FTPS server that drops the whole connection after receiving 64 KiB of an upload."""
    from pyftpdlib.handlers import TLS_DTPHandler, TLS_FTPHandler

    from tests.fixtures.ftp import _ThreadedFtpd

    class DroppingDTP(TLS_DTPHandler):
        def handle_read(self):
            super().handle_read()
            if self.tot_bytes_received > 64 * 1024:
                self.cmd_channel.close()
                self.close()

        handle_read_event = handle_read

    _, cert_file, key_file = ftp_tls_files
    server = _ThreadedFtpd(TLS_FTPHandler, certfile=cert_file, keyfile=key_file, tls_control_required=True,
                           tls_data_required=True, dtp_handler=DroppingDTP)
    root = tmp_path / "dropping-root"
    root.mkdir()
    try:
        yield from server.account(root, use_tls=True, ca_file=ftp_tls_files[0])
    finally:
        server.stop()


def test_connection_dropped_mid_upload_leaves_no_file_under_the_final_name(dropping_ftps, make_org, monkeypatch):
    monkeypatch.setenv("DOMILAND_FTP_CA_FILE", dropping_ftps.ca_file)
    org_id = make_org("uk-drop", ftp=dropping_ftps.settings())
    add_payments(org_id, 3000, created=T0)  # ~700 KB of XML
    report = export_block(make_export(org_id), kind="manual", now=T0 + timedelta(days=1))
    assert report.status.value == "Error" and report.error_kind == "transport"
    assert report.file_name is None
    assert [p.name for p in dropping_ftps.root.iterdir() if not p.name.endswith(".part")] == []


@pytest.mark.parametrize("data_type", [DataType.PAYMENTS, DataType.METER_READINGS])
def test_exported_file_reimports_identically_into_another_organization(ftps_server, org, make_org, make_block,
                                                                       data_type):
    """EXP-1 round trip: org A's export, read by org B's import block, gives B the same records."""
    from domiland.exchange.imports import import_block

    with session_scope() as s:
        account = s.query(Account).filter_by(organization_id=org, number="1003").one()
        for i in range(3):
            s.add(Payment(organization_id=org, payment_id=f"RT{i}", account_id=account.id,
                          paid_at=datetime(2026, 11, 1, 9, i, 7, tzinfo=timezone.utc), amount=Decimal("0.01") * (i + 1),
                          period="2026-10", service_code="CW", source=["bank", "online", "cash"][i],
                          purpose=f"назначение <{i}> & co", created_at=T0))
        meter = Meter(organization_id=org, number="RT-M", account_id=account.id, resource="HOT_WATER")
        s.add(meter)
        s.flush()
        for i in range(3):
            s.add(MeterReading(organization_id=org, meter_id=meter.id, account_id=account.id,
                               reading_date=datetime(2026, 10, 20 + i).date(), value1=Decimal("10.125") + i,
                               value3=Decimal("0") if i else None, source="operator", created_at=T0))
    template = "rt_%Y%m%d.xml"
    report = export_block(make_export(org, data_type, directory="rt", template=template), kind="manual",
                          now=T0 + timedelta(hours=1))
    assert report.rows == 3
    other = make_org("uk-b", accounts=("1003",), ftp=ftps_server.settings())
    imported = import_block(make_block(other, paths=report.file_name, data_type=data_type))
    assert imported.status.value == "Done", imported.message()
    assert imported.total("created") == 3

    def snapshot(org_id):
        with session_scope() as s:
            if data_type == DataType.PAYMENTS:
                return sorted((p.payment_id, p.paid_at.replace(tzinfo=None), p.amount, p.period, p.service_code,
                               p.source, p.purpose) for p in s.query(Payment).filter_by(organization_id=org_id))
            return sorted((r.reading_date, r.value1, r.value2, r.value3, r.source)
                          for r in s.query(MeterReading).filter_by(organization_id=org_id))

    assert snapshot(other) == snapshot(org)
