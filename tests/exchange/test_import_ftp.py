"""The import use case against real FTP/FTPS servers: paths, encodings, stop at first error, delete-after-read."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from domiland.db.engine import session_scope
from domiland.db.models import Accrual
from domiland.exchange.imports import import_block
from tests.samples import accrual, accruals_xml


def put(server, path: str, data: bytes) -> None:
    target = server.root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def accrual_count() -> int:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(Accrual))


@pytest.fixture
def block(ftps_server, make_org, make_block, monkeypatch):
    """An accruals block of an organization whose FTPS server is the fixture's; returns a factory."""
    monkeypatch.setenv("DOMILAND_FTP_CA_FILE", ftps_server.ca_file)
    monkeypatch.setenv("DOMILAND_FTP_TIMEOUT", "5")
    org = make_org(ftp=ftps_server.settings())

    def make(paths: str, **kwargs) -> int:
        return make_block(org, paths=paths, **kwargs)

    return make


def test_several_paths_cyrillic_names_and_both_encodings(ftps_server, block):
    put(ftps_server, "/объекты/z84/начисления.xml", accruals_xml(accrual("1001"), accrual("1002")))
    put(ftps_server, "p32/invoices.xml", accruals_xml(accrual("1003", name="Электроэнергия"), encoding="windows-1251"))
    report = import_block(block("/объекты/z84/начисления.xml, p32/invoices.xml"))
    assert report.error is None, report.error
    assert [(f.path, f.read, f.created) for f in report.files] == [
        ("/объекты/z84/начисления.xml", 2, 2), ("p32/invoices.xml", 1, 1)]
    assert report.status.value == "Done"
    assert accrual_count() == 3


def test_reimporting_the_same_file_changes_nothing(ftps_server, block):
    put(ftps_server, "a.xml", accruals_xml(accrual("1001"), accrual("1002", amount="5")))
    block_id = block("a.xml")
    first = import_block(block_id)
    second = import_block(block_id)
    assert (first.total("created"), first.total("unchanged")) == (2, 0)
    assert (second.total("created"), second.total("updated"), second.total("unchanged")) == (0, 0, 2)
    assert accrual_count() == 2


def test_first_error_stops_the_run_keeps_earlier_data_and_says_where(ftps_server, block):
    put(ftps_server, "a.xml", accruals_xml(accrual("1001"), accrual("1002", amount="oops"), accrual("1003")))
    put(ftps_server, "b.xml", accruals_xml(accrual("1003")))
    report = import_block(block("a.xml, b.xml", delete_after_read=True))
    assert report.status.value == "Error" and report.error_kind == "data"
    assert report.error.startswith("a.xml: строка 4, запись 2: не соответствует схеме")
    assert [f.path for f in report.files] == ["a.xml"]  # b.xml was never started
    assert accrual_count() == 1  # record 1 stays
    assert (ftps_server.root / "a.xml").exists() and (ftps_server.root / "b.xml").exists()
    assert "Ошибка: a.xml: строка 4, запись 2" in report.message()


def test_unknown_account_is_a_warning_and_the_file_is_deleted_after_a_clean_read(ftps_server, block):
    put(ftps_server, "in/a.xml", accruals_xml(accrual("1001"), accrual("7777")))
    report = import_block(block("in/a.xml", delete_after_read=True))
    assert report.status.value == "Warning"
    assert report.warnings == ["in/a.xml: строка 4, запись 2: лицевой счёт 7777 не найден"]
    assert report.files[0].deleted and not (ftps_server.root / "in/a.xml").exists()
    assert "Удалены с сервера после чтения: in/a.xml" in report.message()


def test_plain_ftp_works_too(ftp_server, make_org, make_block):
    put(ftp_server, "a.xml", accruals_xml(accrual("1001", amount="12.34")))
    org = make_org(ftp=ftp_server.settings())
    report = import_block(make_block(org, paths="a.xml"))
    assert report.status.value == "Done"
    with session_scope() as s:
        assert s.scalar(select(Accrual.amount)) == Decimal("12.34")


def test_missing_file_is_a_transport_error_naming_the_path(ftps_server, block):
    report = import_block(block("nowhere/missing.xml"))
    assert report.status.value == "Error" and report.error_kind == "transport"
    assert "nowhere/missing.xml" in report.error


def test_wrong_password_is_a_clear_error_without_the_password(ftps_server, make_org, make_block, monkeypatch):
    monkeypatch.setenv("DOMILAND_FTP_CA_FILE", ftps_server.ca_file)
    org = make_org(ftp=ftps_server.settings(password="Wrong-Secret-42"))
    report = import_block(make_block(org, paths="a.xml"))
    assert report.status.value == "Error"
    assert "Wrong-Secret-42" not in report.message()
    assert "login" in report.error.lower() or "password" in report.error.lower()


def test_server_down_is_a_quick_clear_error(ftps_server, make_org, make_block, monkeypatch):
    import socket
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    monkeypatch.setenv("DOMILAND_FTP_TIMEOUT", "3")
    org = make_org(ftp=ftps_server.settings(port=closed_port))
    started = time.monotonic()
    report = import_block(make_block(org, paths="a.xml"))
    assert time.monotonic() - started < 3
    assert report.error_kind == "transport" and f"127.0.0.1:{closed_port}" in report.error


def test_missing_ftp_settings_is_a_settings_error(make_org, make_block):
    report = import_block(make_block(make_org(), paths="a.xml"))
    assert report.error_kind == "settings" and "FTP settings" in report.error
