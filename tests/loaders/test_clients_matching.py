"""Clients: phone normalisation, the IMP-12 matching rule as a table, and the batched loader on SQLite and PostgreSQL.

The loader must give the same result as importing the records one at a time,
also when records of one batch reach the same client or a client created
earlier in the batch.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from domiland.db.engine import get_engine, session_scope
from domiland.db.migrate import upgrade
from domiland.db.models import Account, Client, ClientAccount, ClientExternalId
from domiland.formats.xml_stream import iter_records
from domiland.formats.clients import CLIENTS, extract_client
from domiland.formats.xml_stream import XmlFormatError
from domiland.loaders.bulk import BulkConnection
from domiland.loaders.clients import CREATE, SKIP, UPDATE, ClientsLoader, Match, match_client
from domiland.loaders.phones import normalize_phone

# -- phones -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("+7 (912) 345-67-89", "+79123456789"),
    ("+7(912)345-67-89", "+79123456789"),
    ("8 912 345 67 89", "+79123456789"),
    ("8 (912) 345-67-89", "+79123456789"),
    ("89123456789", "+79123456789"),
    ("79123456789", "+79123456789"),
    ("9123456789", "+79123456789"),
    ("912.345.67.89", "+79123456789"),
    (" +7 912 345 6789 ", "+79123456789"),
    ("8 (343) 123-45-67", "+73431234567"),  # landline, Yekaterinburg
    ("+7 495 123-45-67", "+74951234567"),   # landline, Moscow
    ("8 800 555-35-35", "+78005553535"),    # toll-free
    ("+7 727 123 45 67", None),             # +7 7XX is Kazakhstan
    ("+375 29 123-45-67", None),            # another country
    ("+8 912 345 67 89", None),             # "+" must be followed by 7
    ("8 912 345 67 8", None),               # one digit short: "891…" is no Russian code
    ("8 (861) 234-56-78", "+78612345678"),  # landline, Krasnodar
    ("8 912 345 67 899", None),             # twelve
    ("912345678", None),
    ("1234567890", None),                   # no Russian code starts with 1
    ("+7 912 345-67-89 доб. 12", None),     # an extension is not a phone
    ("8-912-ABC-67-89", None),
    ("", None),
    (None, None),
])
def test_phone_normalisation(text, expected):
    assert normalize_phone(text) == expected


# -- the rule -----------------------------------------------------------------------------------------------------

@dataclass
class Known:
    id: int
    phone: str
    ext_ids: list[str] = field(default_factory=list)


P_ANNA, P_BORIS, P_SHARED, P_FREE = "+79120000001", "+79120000002", "+79120000003", "+79120000009"
ANNA = Known(1, P_ANNA, ["A-1"])
BORIS = Known(2, P_BORIS, ["1C-77", "B-1"])
VERA = Known(3, P_SHARED, ["V-1"])
GALINA = Known(4, P_SHARED, [])
ANNA_TWIN = Known(5, P_ANNA, ["T-1"])  # another client already holding Anna's phone

RULE_TABLE = [
    # (case, ext id, phone, found by ext id, found by phone, expected match, words of the warning)
    ("ext id and phone find one client", "A-1", P_ANNA, ANNA, [ANNA],
     Match("same_client", UPDATE, 1), ()),
    ("ext id and phone find the client, another one shares the phone", "A-1", P_ANNA, ANNA, [ANNA, ANNA_TWIN],
     Match("same_client", UPDATE, 1), ()),
    ("ext id finds A, the new phone is free", "A-1", P_FREE, ANNA, [],
     Match("ext_id_new_phone", UPDATE, 1, set_phone=True), ()),
    ("ext id finds A, the phone is B's", "A-1", P_BORIS, ANNA, [BORIS],
     SKIP, ("A-1", "id 1 (внешние id: A-1)", P_ANNA, P_BORIS, "id 2 (внешние id: 1C-77, B-1)")),
    ("ext id finds A, the phone is held by several others", "A-1", P_SHARED, ANNA, [VERA, GALINA],
     SKIP, ("id 1 (внешние id: A-1)", "id 3 (внешние id: V-1)", "id 4 (внешние id: —)")),
    ("ext id unknown, the phone finds B", "NEW-1", P_BORIS, None, [BORIS],
     Match("phone_only", UPDATE, 2, add_ext_id=True), ()),
    ("ext id unknown, several clients have the phone", "NEW-1", P_SHARED, None, [VERA, GALINA],
     SKIP, ("NEW-1", P_SHARED, "нескольких", "id 3 (внешние id: V-1)", "id 4 (внешние id: —)")),
    ("neither finds anybody", "NEW-1", P_FREE, None, [],
     Match("new", CREATE), ()),
]


@pytest.mark.parametrize("case, ext_id, phone, by_ext, by_phone, expected, words", RULE_TABLE,
                         ids=[row[0] for row in RULE_TABLE])
def test_matching_rule(case, ext_id, phone, by_ext, by_phone, expected, words):
    match = match_client(ext_id, phone, by_ext, by_phone)
    if expected == SKIP:
        assert (match.action, match.client_id) == (SKIP, None)
        assert match.warning and all(word in match.warning for word in words), match.warning
    else:
        assert match == expected


def test_the_table_covers_every_rule():
    rules = {match_client(*row[1:5]).rule for row in RULE_TABLE}
    assert rules == {"same_client", "ext_id_new_phone", "phone_taken", "phone_only", "phone_ambiguous", "new"}


# -- the reader ---------------------------------------------------------------------------------------------------

def client_xml(ext: str = "C-1", last: str = "Иванова", phone: str = "+7 (912) 345-67-89", *,
               first: str | None = "Анна", middle: str | None = None, email: str | None = None,
               accounts: tuple[str, ...] = ()) -> str:
    """One record on one line, elements in the schema's order."""
    parts = [f"<ExtId>{ext}</ExtId>", f"<LastName>{last}</LastName>"]
    if first is not None:
        parts.append(f"<FirstName>{first}</FirstName>")
    if middle is not None:
        parts.append(f"<MiddleName>{middle}</MiddleName>")
    parts.append(f"<Phone>{phone}</Phone>")
    if email is not None:
        parts.append(f"<Email>{email}</Email>")
    parts += [f"<AccountNumber>{a}</AccountNumber>" for a in accounts]
    return "<Client>" + "".join(parts) + "</Client>"


def clients_xml(*records: str, encoding: str = "utf-8") -> bytes:
    """A whole file, one record per line (record N is on line N + 2)."""
    body = (f'<?xml version="1.0" encoding="{encoding}"?>\n<Clients version="1">\n' + "\n".join(records)
            + "\n</Clients>\n")
    return body.encode(encoding)


def read(data: bytes) -> list:
    return list(iter_records(io.BytesIO(data), CLIENTS, extract_client))


@pytest.mark.parametrize("encoding", ["utf-8", "windows-1251"])
def test_reader_lists_account_numbers_and_drops_empty_optional_elements(encoding):
    data = clients_xml(client_xml("C-1", accounts=("1001", "1002"), middle="", email="a@example.ru"),
                       client_xml("C-2", "Петров", "89120000002", first=""), encoding=encoding)
    assert read(data) == [
        (3, {"ExtId": "C-1", "LastName": "Иванова", "FirstName": "Анна", "Phone": "+7 (912) 345-67-89",
             "Email": "a@example.ru", "AccountNumber": ("1001", "1002")}),
        (4, {"ExtId": "C-2", "LastName": "Петров", "Phone": "89120000002", "AccountNumber": ()}),
    ]


@pytest.mark.parametrize("record, needle", [
    (client_xml(phone="звоните"), "Phone"),
    (client_xml(phone=""), "Phone"),
    (client_xml(last=" "), "LastName"),
    (client_xml(email="not-an-email"), "Email"),
    ("<Client><ExtId>C-2</ExtId><Phone>89120000002</Phone><LastName>Х</LastName></Client>", "Phone"),  # order
    ("<Client><ExtId>C-2</ExtId><LastName>Х</LastName></Client>", "Phone"),
    (client_xml().replace("</Client>", "<Passport>1</Passport></Client>"), "Passport"),
])
def test_schema_violations_name_the_element(record, needle):
    with pytest.raises(XmlFormatError, match=needle) as err:
        read(clients_xml(client_xml(), record))
    assert err.value.record_no == 2


# -- the loader ---------------------------------------------------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, hub_db, monkeypatch):
    url = hub_db if request.param == "sqlite" else request.getfixturevalue("pg_url")
    upgrade(url)
    monkeypatch.setenv("DOMILAND_DB_URL", url)
    return url


def rec(no: int, ext: str, phone: str, last: str = "Иванова", *, accounts: tuple[str, ...] = (), **extra: str):
    return (no, no + 2, {"ExtId": ext, "LastName": last, "Phone": phone, **extra, "AccountNumber": list(accounts)})


def load(org_id: int, batch: list, *, batch_size: int | None = None):
    """Load ``batch`` as one batch, or cut into batches of ``batch_size``; the results summed."""
    bulk = BulkConnection.open(get_engine())
    try:
        loader = ClientsLoader(bulk, org_id)
        written = skipped = 0
        warnings = []
        size = batch_size or max(len(batch), 1)
        for start in range(0, len(batch), size):
            result = loader.load(batch[start:start + size])
            bulk.commit()
            written, skipped = written + result.written, skipped + result.skipped
            warnings += [str(w) for w in result.warnings]
        return written, skipped, warnings
    finally:
        bulk.close()


def seed(org_id: int, *clients: tuple) -> dict[str, int]:
    """Clients as (last name, phone, ext ids...); returns last name → id."""
    ids = {}
    with session_scope() as s:
        for last, phone, *ext_ids in clients:
            client = Client(organization_id=org_id, last_name=last, phone=phone)
            s.add(client)
            s.flush()
            ids[last] = client.id
            s.add_all(ClientExternalId(organization_id=org_id, client_id=client.id, ext_id=e) for e in ext_ids)
    return ids


def clients(org_id: int) -> dict[tuple[str, ...], tuple]:
    """sorted ext ids → (last name, first name, middle name, phone, email, sorted account numbers)."""
    with session_scope() as s:
        out = {}
        for c in s.scalars(select(Client).where(Client.organization_id == org_id)):
            ext = tuple(sorted(s.scalars(select(ClientExternalId.ext_id).where(ClientExternalId.client_id == c.id))))
            accs = tuple(sorted(s.scalars(select(Account.number)
                                          .join(ClientAccount, ClientAccount.account_id == Account.id)
                                          .where(ClientAccount.client_id == c.id))))
            out[ext] = (c.last_name, c.first_name, c.middle_name, c.phone, c.email, accs)
        return out


def people(org_id: int) -> dict[tuple[str, ...], tuple[str, str]]:
    return {ext: (v[0], v[3]) for ext, v in clients(org_id).items()}


SEEDED = {("A-1",): ("Анна", P_ANNA), ("1C-77", "B-1"): ("Борис", P_BORIS), ("V-1",): ("Вера", P_SHARED),
          (): ("Галина", P_SHARED)}

LOADER_TABLE = [
    # (case, record, written, skipped, words of the warning, what changes in SEEDED)
    ("same_client", rec(1, "A-1", "8 912 000-00-01", "Анна Н."), 1, 0, None,
     {("A-1",): ("Анна Н.", P_ANNA)}),
    ("same_client, nothing new", rec(1, "A-1", P_ANNA, "Анна"), 0, 0, None, {}),
    ("ext_id_new_phone", rec(1, "A-1", "+7 912 000-00-09", "Анна"), 1, 0, None,
     {("A-1",): ("Анна", P_FREE)}),
    ("phone_taken", rec(1, "A-1", P_BORIS, "Анна"), 0, 1, ["запись 1: клиент A-1 пропущен", "id {Анна}", "id {Борис}",
                                                          "1C-77, B-1"], {}),
    ("phone_only", rec(1, "NEW-1", "89120000002", "Борис Б."), 1, 0, None,
     {("1C-77", "B-1"): None, ("1C-77", "B-1", "NEW-1"): ("Борис Б.", P_BORIS)}),
    ("phone_ambiguous", rec(1, "NEW-1", P_SHARED, "Вера"), 0, 1, ["NEW-1", "id {Вера}", "id {Галина}"], {}),
    ("new", rec(1, "NEW-1", P_FREE, "Дмитрий"), 1, 0, None, {("NEW-1",): ("Дмитрий", P_FREE)}),
    ("phone not Russian", rec(1, "NEW-1", "+375 29 123-45-67", "Янка"), 0, 1, ["+375 29 123-45-67", "не распознан"],
     {}),
]


@pytest.mark.parametrize("case, record, written, skipped, words, changes", LOADER_TABLE,
                         ids=[row[0] for row in LOADER_TABLE])
def test_each_rule_through_the_loader(db, make_org, case, record, written, skipped, words, changes):
    org = make_org()
    ids = seed(org, ("Анна", P_ANNA, "A-1"), ("Борис", P_BORIS, "B-1", "1C-77"), ("Вера", P_SHARED, "V-1"),
               ("Галина", P_SHARED))
    result = load(org, [record])
    assert result[:2] == (written, skipped)
    if words is None:
        assert result[2] == []
    else:
        [warning] = result[2]
        for word in words:
            assert word.format(**ids) in warning, warning
    expected = {**SEEDED, **changes}
    assert people(org) == {k: v for k, v in expected.items() if v is not None}


def test_two_records_of_one_batch_reach_the_same_client(db, make_org):
    org = make_org()
    seed(org, ("Анна", P_ANNA, "A-1"))
    result = load(org, [rec(1, "A-1", P_ANNA, "Анна Иванова"),
                        rec(2, "CRM-5", P_ANNA, "Анна Петрова")])  # unknown id, same phone → the same client
    assert result == (1, 0, [])  # one client written
    assert people(org) == {("A-1", "CRM-5"): ("Анна Петрова", P_ANNA)}


def test_a_client_created_in_a_batch_is_found_by_phone_later_in_that_batch(db, make_org):
    org = make_org()
    result = load(org, [rec(1, "N-1", P_FREE, "Дмитрий"), rec(2, "N-2", "8 912 000 00 09", "Дмитрий Д.")])
    assert result == (1, 0, [])
    assert people(org) == {("N-1", "N-2"): ("Дмитрий Д.", P_FREE)}


def test_a_client_created_in_a_batch_holds_its_phone_against_later_records(db, make_org):
    org = make_org()
    ids = seed(org, ("Анна", P_ANNA, "A-1"))
    written, skipped, warnings = load(org, [rec(1, "N-1", P_FREE, "Дмитрий"), rec(2, "A-1", P_FREE, "Анна")])
    assert (written, skipped) == (1, 1)
    with session_scope() as s:
        new_id = s.scalar(select(ClientExternalId.client_id).where(ClientExternalId.ext_id == "N-1"))
    [warning] = warnings
    assert f"id {ids['Анна']} (внешние id: A-1)" in warning and f"id {new_id} (внешние id: N-1)" in warning


def test_a_phone_freed_earlier_in_the_batch_no_longer_matches(db, make_org):
    org = make_org()
    seed(org, ("Анна", P_ANNA, "A-1"))
    result = load(org, [rec(1, "A-1", P_FREE, "Анна"),    # Anna changes her phone ...
                        rec(2, "Z-1", P_ANNA, "Зоя")])     # ... so her old one finds nobody: a new client
    assert result == (2, 0, [])
    assert people(org) == {("A-1",): ("Анна", P_FREE), ("Z-1",): ("Зоя", P_ANNA)}


def test_the_same_ext_id_twice_keeps_the_last(db, make_org):
    org = make_org()
    result = load(org, [rec(1, "N-1", P_FREE, "Дмитрий"), rec(2, "N-1", P_BORIS, "Дмитрий", FirstName="Д.")])
    assert result == (1, 0, [])
    assert clients(org) == {("N-1",): ("Дмитрий", "Д.", None, P_BORIS, None, ())}


SCENARIO = [
    rec(1, "A-1", P_ANNA, "Анна"),
    rec(2, "B-1", P_BORIS, "Борис", accounts=("1001",)),
    rec(3, "A-2", P_ANNA, "Анна", FirstName="А.", accounts=("1002",)),  # Anna by phone: second ext id
    rec(4, "B-1", P_FREE, "Борис"),                                     # Boris changes his phone
    rec(5, "C-1", P_BORIS, "Сергей"),                                   # Boris's old phone: a new client
    rec(6, "C-1", P_ANNA, "Сергей"),                                    # taken by Anna: warning
    rec(7, "D-1", P_FREE, "Дина", accounts=("1001", "9999")),           # Boris by phone; unknown account
    rec(8, "A-1", P_ANNA, "Анна", Email="anna@example.ru"),
]


def test_one_batch_gives_what_one_record_at_a_time_gives(db, make_org):
    whole, single = make_org("uk-whole"), make_org("uk-single")
    result_whole = load(whole, SCENARIO)
    result_single = load(single, SCENARIO, batch_size=1)
    assert result_whole[1] == result_single[1]
    assert [re.sub(r"id \d+", "id ?", w) for w in result_whole[2]] == [  # the client ids differ between orgs
        re.sub(r"id \d+", "id ?", w) for w in result_single[2]]
    assert clients(whole) == clients(single) == {
        ("A-1", "A-2"): ("Анна", "А.", None, P_ANNA, "anna@example.ru", ("1002",)),
        ("B-1", "D-1"): ("Дина", None, None, P_FREE, None, ("1001",)),
        ("C-1",): ("Сергей", None, None, P_BORIS, None, ()),
    }
    assert (result_whole[0], result_single[0]) == (3, 7)  # clients written per batch: 3 created / 7 batches writing
    assert result_whole[1] == 1
    assert [w.split(": ", 1)[0] for w in result_whole[2]] == ["строка 8, запись 6", "строка 9, запись 7"]


def test_reimport_writes_nothing_and_keeps_updated_at(db, make_org):
    org = make_org()
    batch = [rec(1, "A-1", P_ANNA, "Анна", Email="a@example.ru", accounts=("1001",)),
             rec(2, "B-1", P_BORIS, "Борис", accounts=("1002", "7777")),
             rec(3, "A-2", "8 (912) 000-00-01", "Анна", accounts=("1003",))]
    assert load(org, batch)[:2] == (2, 0)
    with session_scope() as s:
        before = sorted(map(str, s.scalars(select(Client.updated_at))))
    written, skipped, warnings = load(org, batch)
    assert (written, skipped, len(warnings)) == (0, 0, 1)  # the unknown account is still reported
    with session_scope() as s:
        assert sorted(map(str, s.scalars(select(Client.updated_at)))) == before
        assert len(s.scalars(select(ClientAccount.id)).all()) == 3  # no duplicate links
        assert len(s.scalars(select(ClientExternalId.id)).all()) == 3


def test_omitted_optional_fields_keep_the_stored_values_and_links_are_only_added(db, make_org):
    org = make_org()
    load(org, [rec(1, "A-1", P_ANNA, "Анна", FirstName="Анна", MiddleName="Петровна", Email="a@example.ru",
                   accounts=("1001",))])
    assert load(org, [rec(1, "A-1", P_ANNA, "Иванова", accounts=("1002",))])[:2] == (1, 0)
    assert clients(org) == {("A-1",): ("Иванова", "Анна", "Петровна", P_ANNA, "a@example.ru", ("1001", "1002"))}


def test_unknown_account_is_a_warning_and_the_client_is_still_imported(db, make_org):
    org = make_org()
    written, skipped, warnings = load(org, [rec(1, "A-1", P_ANNA, "Анна", accounts=("1001", "7777"))])
    assert (written, skipped) == (1, 0)
    assert warnings == [
        "строка 3, запись 1: клиент A-1: лицевой счёт 7777 не найден, клиент загружен без привязки к нему"]
    assert clients(org)[("A-1",)][5] == ("1001",)


def test_organizations_do_not_see_each_others_clients_or_accounts(db, make_org):
    a = make_org("uk-a", accounts=("1001",))
    b = make_org("uk-b", accounts=("2001",))
    seed(a, ("Анна", P_ANNA, "A-1"))
    written, skipped, warnings = load(b, [rec(1, "X-1", P_ANNA, "Анна", accounts=("1001",))])
    assert (written, skipped) == (1, 0) and "1001 не найден" in warnings[0]
    assert people(a) == {("A-1",): ("Анна", P_ANNA)} and people(b) == {("X-1",): ("Анна", P_ANNA)}
