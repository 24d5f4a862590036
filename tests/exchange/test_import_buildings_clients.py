"""Buildings and clients imported end to end from a real FTPS server through the generic import use case.

Counts, idempotent re-runs, the first error stopping the run with earlier records kept, warnings,
repeated keys and windows-1251 files (IMP-5..8, IMP-12).
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from domiland.db.engine import session_scope
from domiland.db.models import Account, Building, Client, ClientExternalId, DataType, Premise
from domiland.exchange.imports import import_block
from tests.exchange.test_import_ftp import put
from tests.loaders.test_buildings import building_xml, buildings_xml, premise_xml
from tests.loaders.test_clients_matching import client_xml, clients_xml


@pytest.fixture
def org(ftps_server, make_org, monkeypatch):
    monkeypatch.setenv("DOMILAND_FTP_CA_FILE", ftps_server.ca_file)
    monkeypatch.setenv("DOMILAND_FTP_TIMEOUT", "5")
    return make_org(ftp=ftps_server.settings())  # accounts 1001, 1002, 1003


def count(model) -> int:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(model))


# -- buildings ----------------------------------------------------------------------------------------------------

def two_buildings(encoding: str = "utf-8") -> bytes:
    return buildings_xml(
        building_xml("B-1", "г. Пермь, ул. Ленина, д. 5",
                     premise_xml("B-1/1", "1", accounts=("1001",), gis="ГИС-1001", Type="APARTMENT", Floor="1",
                                 Area="40.10"),
                     premise_xml("B-1/2", "2", accounts=("5001", "5002"), Type="APARTMENT", Floor="1", Area="61")),
        building_xml("B-2", "г. Пермь, ул. Мира, д. 1",
                     premise_xml("B-2/П1", "П1", accounts=("1002",), Type="PARKING")),
        encoding=encoding)


@pytest.mark.parametrize("encoding", ["utf-8", "windows-1251"])
def test_buildings_are_imported_and_a_rerun_changes_nothing(ftps_server, org, make_block, encoding):
    put(ftps_server, "objects/дома.xml", two_buildings(encoding))
    block = make_block(org, paths="objects/дома.xml", data_type=DataType.BUILDINGS)
    first = import_block(block)
    assert first.error is None and first.status.value == "Done", first.message()
    assert [(f.read, f.created, f.updated, f.unchanged) for f in first.files] == [(2, 2, 0, 0)]
    assert (count(Building), count(Premise), count(Account)) == (2, 3, 5)  # 5001, 5002 created
    with session_scope() as s:
        gis = dict(s.execute(select(Account.number, Account.gis_number)).all())
        assert gis["1001"] == "ГИС-1001"
        assert s.scalar(select(Premise.number).where(Premise.ext_id == "B-2/П1")) == "П1"
    second = import_block(block)
    assert [(f.read, f.created, f.updated, f.unchanged) for f in second.files] == [(2, 0, 0, 2)]
    assert second.status.value == "Done"


def test_buildings_invalid_record_mid_file_stops_with_its_line_and_earlier_records_stay(ftps_server, org, make_block):
    put(ftps_server, "b.xml", buildings_xml(
        building_xml("B-1"),
        building_xml("B-2", "x", premise_xml("B-2/1", Type="ATTIC")),
        building_xml("B-3")))
    report = import_block(make_block(org, paths="b.xml", data_type=DataType.BUILDINGS))
    assert report.status.value == "Error" and report.error_kind == "data"
    assert report.error.startswith("b.xml: строка 4, запись 2: не соответствует схеме buildings.xsd"), report.error
    assert "Type" in report.error
    with session_scope() as s:
        assert s.scalars(select(Building.ext_id)).all() == ["B-1"]


def test_buildings_repeated_keys_in_one_file_keep_the_last(ftps_server, org, make_block):
    put(ftps_server, "b.xml", buildings_xml(
        building_xml("B-1", "старый адрес", premise_xml("P-1", "1", accounts=("1001",))),
        building_xml("B-2", "b", premise_xml("P-2", "2", accounts=("1001",))),  # account 1001 moves to P-2
        building_xml("B-1", "новый адрес", premise_xml("P-1", "1а", accounts=("1002",)))))
    report = import_block(make_block(org, paths="b.xml", data_type=DataType.BUILDINGS))
    assert report.status.value == "Done"
    assert [(f.read, f.created) for f in report.files] == [(3, 2)]
    with session_scope() as s:
        assert dict(s.execute(select(Building.ext_id, Building.address)).all()) == {"B-1": "новый адрес", "B-2": "b"}
        assert s.scalar(select(Premise.number).where(Premise.ext_id == "P-1")) == "1а"
        premise_of = dict(s.execute(select(Account.number, Premise.ext_id)
                                    .join(Premise, Account.premise_id == Premise.id)).all())
        assert premise_of == {"1001": "P-2", "1002": "P-1"}


# -- clients ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "windows-1251"])
def test_clients_are_imported_matched_and_a_rerun_changes_nothing(ftps_server, org, make_block, encoding):
    put(ftps_server, "clients.xml", clients_xml(
        client_xml("C-1", "Иванова", "+7 (912) 345-67-89", middle="Петровна", email="anna@example.ru",
                   accounts=("1001", "1002")),
        client_xml("C-2", "Смирнов", "8 912 000 00 02", first="Олег"),
        client_xml("CRM-9", "Иванова", "89123456789", accounts=("1003",)),  # Anna again, by phone
        encoding=encoding))
    block = make_block(org, paths="clients.xml", data_type=DataType.CLIENTS)
    first = import_block(block)
    assert first.status.value == "Done", first.message()
    assert [(f.read, f.created, f.skipped) for f in first.files] == [(3, 2, 0)]
    with session_scope() as s:
        anna = s.scalar(select(Client).where(Client.phone == "+79123456789"))
        assert (anna.last_name, anna.first_name, anna.middle_name, anna.email) == (
            "Иванова", "Анна", "Петровна", "anna@example.ru")
        assert sorted(s.scalars(select(ClientExternalId.ext_id).where(ClientExternalId.client_id == anna.id))) == [
            "C-1", "CRM-9"]
    second = import_block(block)
    assert [(f.read, f.created, f.updated, f.unchanged) for f in second.files] == [(3, 0, 0, 3)]
    assert second.status.value == "Done"


def test_clients_warnings_unknown_account_bad_phone_and_conflicting_phone(ftps_server, org, make_block):
    put(ftps_server, "c.xml", clients_xml(
        client_xml("C-1", "Иванова", "+79123456789"),
        client_xml("C-2", "Петров", "+79120000002", accounts=("1001", "7777")),  # unknown account: imported
        client_xml("C-3", "Сидоров", "+375 29 123-45-67"),                        # not a Russian number: skipped
        client_xml("C-2", "Петров", "+79123456789"),                              # Anna's phone: skipped
    ))
    report = import_block(make_block(org, paths="c.xml", data_type=DataType.CLIENTS))
    assert report.status.value == "Warning", report.message()
    assert [(f.read, f.created, f.skipped) for f in report.files] == [(4, 2, 2)]
    assert [w.split(": ", 2)[1] for w in report.warnings] == ["строка 4, запись 2", "строка 5, запись 3",
                                                            "строка 6, запись 4"]
    assert "лицевой счёт 7777 не найден" in report.warnings[0]
    assert "+375 29 123-45-67" in report.warnings[1]
    assert "C-2 пропущен" in report.warnings[2] and "внешние id: C-1" in report.warnings[2]
    assert count(Client) == 2


def test_clients_invalid_record_mid_file_stops_with_its_line_and_earlier_records_stay(ftps_server, org, make_block):
    put(ftps_server, "c.xml", clients_xml(client_xml("C-1"), client_xml("C-2", phone="8 912 000-00-02", email="нет"),
                                          client_xml("C-3", phone="89120000003")))
    report = import_block(make_block(org, paths="c.xml", data_type=DataType.CLIENTS))
    assert report.status.value == "Error" and report.error_kind == "data"
    assert report.error.startswith("c.xml: строка 4, запись 2: не соответствует схеме clients.xsd"), report.error
    assert "Email" in report.error
    with session_scope() as s:
        assert s.scalars(select(ClientExternalId.ext_id)).all() == ["C-1"]


def test_clients_repeated_ext_id_in_one_file_keeps_the_last(ftps_server, org, make_block):
    put(ftps_server, "c.xml", clients_xml(client_xml("C-1", "Иванова", "+79120000001"),
                                          client_xml("C-1", "Петрова", "+79120000009", first="Мария")))
    report = import_block(make_block(org, paths="c.xml", data_type=DataType.CLIENTS))
    assert report.status.value == "Done"
    with session_scope() as s:
        assert s.execute(select(Client.last_name, Client.first_name, Client.phone)).all() == [
            ("Петрова", "Мария", "+79120000009")]
