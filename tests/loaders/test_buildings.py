"""Buildings with premises and accounts: the nested reader, and the three-level bulk upsert on SQLite and PostgreSQL.

Idempotent (IMP-8), last record wins, accounts linked and moved, premises never deleted.
"""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from domiland.db.engine import get_engine, session_scope
from domiland.db.migrate import upgrade
from domiland.db.models import Account, Building, Premise
from domiland.formats.buildings import BUILDINGS, extract_building
from domiland.formats.xml_stream import iter_records
from domiland.formats.xml_stream import XmlFormatError
from domiland.loaders.buildings import BuildingsLoader
from domiland.loaders.bulk import BulkConnection


# -- builders of files and records (written as partners write them) ---------------------------------------------

def account_xml(number: str = "1001", gis: str | None = None) -> str:
    return f"<Account><Number>{number}</Number>" + (f"<GisNumber>{gis}</GisNumber>" if gis else "") + "</Account>"


def premise_xml(ext: str = "P-1", number: str = "1", *, accounts: tuple[str, ...] = ("1001",), gis: str | None = None,
                **extra: str) -> str:
    fields = "".join(f"<{k}>{v}</{k}>" for k, v in extra.items())  # Type, Floor, Area in this order
    return (f"<Premise><ExtId>{ext}</ExtId><Number>{number}</Number>{fields}"
            + "".join(account_xml(a, gis) for a in accounts) + "</Premise>")


def building_xml(ext: str = "B-1", address: str = "г. Пермь, ул. Ленина, д. 5", *premises: str) -> str:
    """One record on one line."""
    return (f"<Building><ExtId>{ext}</ExtId><Address>{address}</Address>"
            + "".join(premises or (premise_xml(),)) + "</Building>")


def buildings_xml(*records: str, encoding: str = "utf-8") -> bytes:
    """A whole file, one record per line (record N is on line N + 2)."""
    body = (f'<?xml version="1.0" encoding="{encoding}"?>\n<Buildings version="1">\n' + "\n".join(records)
            + "\n</Buildings>\n")
    return body.encode(encoding)


def read(data: bytes) -> list:
    return list(iter_records(io.BytesIO(data), BUILDINGS, extract_building))


# -- the reader -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "windows-1251"])
def test_reads_the_tree_of_each_building_with_its_line(encoding):
    data = buildings_xml(
        building_xml("B-1", " ул. Ленина, 5 ",
                     premise_xml("P-1", "1", accounts=("1001", "1002"), gis="ГИС-1", Type="APARTMENT", Floor="3",
                                 Area="54.30"),
                     premise_xml("P-2", "м/м 7", Type="PARKING")),
        building_xml("B-2", "ул. Мира, 1", premise_xml("P-3", "2", accounts=("1003",))),
        encoding=encoding)
    assert read(data) == [
        (3, {"ExtId": "B-1", "Address": "ул. Ленина, 5", "Premises": (
            {"ExtId": "P-1", "Number": "1", "Type": "APARTMENT", "Floor": "3", "Area": "54.30",
             "Accounts": ({"Number": "1001", "GisNumber": "ГИС-1"}, {"Number": "1002", "GisNumber": "ГИС-1"})},
            {"ExtId": "P-2", "Number": "м/м 7", "Type": "PARKING", "Accounts": ({"Number": "1001"},)})}),
        (4, {"ExtId": "B-2", "Address": "ул. Мира, 1", "Premises": (
            {"ExtId": "P-3", "Number": "2", "Accounts": ({"Number": "1003"},)},)}),
    ]


def test_invalid_premise_mid_file_stops_there_with_the_line_after_yielding_earlier_buildings():
    data = buildings_xml(building_xml("B-1"), building_xml("B-2"),
                         "<Building><ExtId>B-3</ExtId><Address>x</Address>\n"
                         + premise_xml("P-9", Area="-1") + "\n</Building>",
                         building_xml("B-4"))
    seen = []
    with pytest.raises(XmlFormatError) as err:
        for _line, fields in iter_records(io.BytesIO(data), BUILDINGS, extract_building):
            seen.append(fields["ExtId"])
    assert seen == ["B-1", "B-2"]
    assert (err.value.line, err.value.record_no) == (6, 3)  # the line of the bad <Area>, not of <Building>
    assert "Area" in str(err.value)


@pytest.mark.parametrize("record, needle", [
    (building_xml("B-2", "x", premise_xml(Type="GARAGE")), "Type"),
    (building_xml("B-2", "x", premise_xml(Floor="2.5")), "Floor"),
    (building_xml("B-2", "x", premise_xml(Area="12,5")), "Area"),
    (building_xml("B-2", "x", premise_xml(accounts=())), "Account"),  # a premise needs an account
    ("<Building><ExtId>B-2</ExtId><Address>x</Address></Building>", "Premise"),  # a building needs a premise
    (building_xml("B-2", "  "), "Address"),
    (building_xml("B-2", "x", premise_xml(Unknown="1")), "Unknown"),
    (building_xml("B-2", "x", premise_xml(Area="1", Type="APARTMENT")), "Type"),  # order is fixed
    (building_xml("B-2", "x", premise_xml(number="1" * 33)), "Number"),
])
def test_schema_violations_name_the_element(record, needle):
    with pytest.raises(XmlFormatError, match=needle) as err:
        read(buildings_xml(building_xml("B-1"), record))
    assert err.value.record_no == 2


def test_wrong_root_is_an_error():
    with pytest.raises(XmlFormatError, match="ожидался <Buildings>"):
        read(b'<Clients version="1"></Clients>')


# -- the loader -------------------------------------------------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, hub_db, monkeypatch):
    url = hub_db if request.param == "sqlite" else request.getfixturevalue("pg_url")
    upgrade(url)
    monkeypatch.setenv("DOMILAND_DB_URL", url)
    return url


def prem(ext: str, number: str = "1", accounts=("1001",), **extra) -> dict:
    """A premise as the reader yields it; ``accounts`` are numbers or (number, gis) pairs."""
    accs = [{"Number": a} if isinstance(a, str) else {"Number": a[0], "GisNumber": a[1]} for a in accounts]
    return {"ExtId": ext, "Number": number, **extra, "Accounts": accs}


def rec(no: int, ext: str = "B-1", address: str = "ул. Ленина, 5", *premises: dict) -> tuple:
    return (no, no + 2, {"ExtId": ext, "Address": address, "Premises": list(premises or (prem("P-1"),))})


def load(org_id: int, batch: list):
    bulk = BulkConnection.open(get_engine())
    try:
        result = BuildingsLoader(bulk, org_id).load(batch)
        bulk.commit()
        return result
    finally:
        bulk.close()


def snapshot(org_id: int) -> dict:
    """Everything the loader owns, by natural keys."""
    with session_scope() as s:
        buildings = {b.id: b for b in s.scalars(select(Building).where(Building.organization_id == org_id))}
        premises = {p.id: p for p in s.scalars(select(Premise).where(Premise.organization_id == org_id))}
        accounts = s.scalars(select(Account).where(Account.organization_id == org_id)).all()
        return {
            "buildings": {b.ext_id: b.address for b in buildings.values()},
            "premises": {p.ext_id: (buildings[p.building_id].ext_id, p.number, p.type, p.floor, p.area)
                         for p in premises.values()},
            "accounts": {a.number: (premises[a.premise_id].ext_id if a.premise_id else None, a.gis_number)
                         for a in accounts},
        }


def stamps() -> list:
    with session_scope() as s:
        return sorted(map(str, s.scalars(select(Building.updated_at)).all())) + sorted(
            map(str, s.scalars(select(Premise.updated_at)).all()))


def test_three_levels_are_created_existing_accounts_linked_then_reimport_writes_nothing(db, make_org):
    org = make_org()  # accounts 1001, 1002, 1003 exist, linked to nothing
    batch = [
        rec(1, "B-1", "ул. Ленина, 5",
            prem("P-1", "1", [("1001", "ГИС-1"), "4001"], Type="APARTMENT", Floor="3", Area="54.30"),
            prem("P-2", "м/м 7", ["4002"], Type="PARKING", Floor="-1")),
        rec(2, "B-2", "ул. Мира, 1", prem("P-3", "2", ["1002"])),
    ]
    assert load(org, batch).written == 2
    assert snapshot(org) == {
        "buildings": {"B-1": "ул. Ленина, 5", "B-2": "ул. Мира, 1"},
        "premises": {"P-1": ("B-1", "1", "APARTMENT", 3, Decimal("54.3")),
                     "P-2": ("B-1", "м/м 7", "PARKING", -1, None),
                     "P-3": ("B-2", "2", None, None, None)},
        "accounts": {"1001": ("P-1", "ГИС-1"), "1002": ("P-3", None), "1003": (None, None),
                     "4001": ("P-1", None), "4002": ("P-2", None)},
    }
    before = stamps()
    again = load(org, batch)
    assert (again.written, again.skipped, again.warnings) == (0, 0, [])
    assert stamps() == before  # nothing rewritten, not even updated_at
    # The same area written differently ("54.3") and an omitted GisNumber change nothing either.
    batch[0][2]["Premises"][0] = prem("P-1", "1", ["1001", "4001"], Type="APARTMENT", Floor="3", Area="54.3")
    assert load(org, batch).written == 0
    assert snapshot(org)["accounts"]["1001"] == ("P-1", "ГИС-1")


def test_changes_at_each_level_count_their_building_once(db, make_org):
    org = make_org()
    load(org, [rec(1, "B-1", "a", prem("P-1", accounts=["1001"])), rec(2, "B-2", "b", prem("P-2", accounts=["1002"])),
               rec(3, "B-3", "c", prem("P-3", accounts=["1003"]))])
    result = load(org, [
        rec(1, "B-1", "a (новый адрес)", prem("P-1", accounts=["1001"])),          # building row
        rec(2, "B-2", "b", prem("P-2", accounts=[("1002", "ГИС-2")], Area="10")),  # premise and account
        rec(3, "B-3", "c", prem("P-3", accounts=["1003"])),                        # nothing
    ])
    assert result.written == 2
    data = snapshot(org)
    assert data["buildings"]["B-1"] == "a (новый адрес)"
    assert data["premises"]["P-2"][4] == Decimal("10") and data["accounts"]["1002"] == ("P-2", "ГИС-2")


def test_accounts_and_premises_move_and_what_a_newer_file_omits_is_kept(db, make_org):
    org = make_org()
    load(org, [rec(1, "B-1", "a", prem("P-1", accounts=["1001"]), prem("P-2", accounts=["1002"])),
               rec(2, "B-2", "b", prem("P-3", accounts=["1003"]))])
    # Newer file: P-2 moved to B-2 carrying account 1001 (moved from P-1); P-1 and 1002 not listed at all.
    result = load(org, [rec(1, "B-2", "b", prem("P-2", accounts=["1001"]), prem("P-3", accounts=["1003"]))])
    assert result.written == 1
    data = snapshot(org)
    assert data["premises"]["P-2"][0] == "B-2"
    assert data["accounts"]["1001"] == ("P-2", None)
    assert data["premises"]["P-1"][0] == "B-1" and data["accounts"]["1002"] == ("P-2", None)  # kept, not deleted


def test_omitted_premise_fields_are_cleared_but_an_omitted_gis_number_is_kept(db, make_org):
    org = make_org()
    load(org, [rec(1, "B-1", "a", prem("P-1", accounts=[("1001", "ГИС-1")], Type="STORAGE", Floor="0", Area="3.5"))])
    assert load(org, [rec(1, "B-1", "a", prem("P-1", accounts=["1001"]))]).written == 1
    data = snapshot(org)
    assert data["premises"]["P-1"] == ("B-1", "1", None, None, None)
    assert data["accounts"]["1001"] == ("P-1", "ГИС-1")


def test_repeated_keys_in_one_batch_keep_the_last(db, make_org):
    org = make_org()
    result = load(org, [
        rec(1, "B-1", "first", prem("P-1", "1", ["1001"])),
        rec(2, "B-2", "b", prem("P-1", "1-bis", ["1002"]), prem("P-2", "2", ["1001"])),
        rec(3, "B-1", "last", prem("P-3", "3", ["1003"])),
    ])
    data = snapshot(org)
    assert data["buildings"] == {"B-1": "last", "B-2": "b"}
    assert data["premises"] == {"P-1": ("B-2", "1-bis", None, None, None), "P-2": ("B-2", "2", None, None, None),
                                "P-3": ("B-1", "3", None, None, None)}
    assert data["accounts"]["1001"] == ("P-2", None)
    assert result.written == 2  # record 1 was entirely overridden by records 2 and 3


def test_organizations_keep_their_own_keys(db, make_org):
    a = make_org("uk-a", accounts=("1001",))
    b = make_org("uk-b", accounts=("1001",))
    load(a, [rec(1, "B-1", "адрес А", prem("P-1", accounts=["1001"]))])
    assert load(b, [rec(1, "B-1", "адрес Б", prem("P-1", accounts=["1001"]))]).written == 1
    assert snapshot(a)["buildings"] == {"B-1": "адрес А"} and snapshot(b)["buildings"] == {"B-1": "адрес Б"}
    assert snapshot(a)["accounts"]["1001"] == ("P-1", None) and snapshot(b)["accounts"]["1001"] == ("P-1", None)


def test_a_batch_larger_than_sqlites_parameter_limit(db, make_org):
    org = make_org(accounts=())
    batch = [rec(i, f"B-{i}", f"адрес {i}", *(prem(f"P-{i}-{j}", str(j), [f"{i}-{j}"], Area="40.5") for j in range(11)))
             for i in range(1, 3001)]  # 33,000 premises and accounts: two chunks of SQLite's IN (...)
    assert load(org, batch).written == 3000
    assert load(org, batch).written == 0
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Premise)) == 33000
        assert s.scalar(select(func.count()).select_from(Account).where(Account.premise_id.is_not(None))) == 33000
