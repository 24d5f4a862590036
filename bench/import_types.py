#!/usr/bin/env python
"""Benchmark of the XML import of every data type (a measurement, not a test).

    .venv/bin/python bench/import_types.py                       # 1M records per type into SQLite (~5 min)
    .venv/bin/python bench/import_types.py --types payments,clients --records 200000
    .venv/bin/python bench/import_types.py --types accruals,payments \\
        --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_types --pg-drop
    .venv/bin/python bench/import_types.py --records 5000         # smoke run, seconds

For each type — accruals, payments, meter_readings, buildings, clients — writes a
realistic file of the type's XSD (``include/xml_schemas/``) streamed to disk, sets
up a hub database (migrations, one management organization and, except for
buildings, whose file creates them, its accounts) and measures, each in a fresh
subprocess so that the peak RSS is per measurement:

1. the type's parse-only ceiling: ``lxml.etree.iterparse`` + ``clear()``, one dict
   per record (for buildings and clients the nested dict the reader hands over);
2. the real import path, ``domiland.exchange.imports.load_file`` with
   ``IMPORT_TYPES[DataType.X]``, into SQLite (a fresh file per type);
3. the same into PostgreSQL with ``--pg-url`` (its tables are dropped and
   re-created before each type).

``--records N`` is the records per type (buildings: N/10 buildings of 10 premises with
one account each). Exit code 0 whatever the numbers; 1 if an import failed (an error
in its report, a wrong record or row count) or a measurement crashed.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import re
import resource
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from _common import (  # noqa: E402
    Child, ChildFailed, ChildrenPeakRss, MachineWatch, run_script, current_rss_mb, drop_postgres_database,
    format_table, fresh_sqlite_url, load_line, peak_rss_mb, pg_backend_pid, prepare_postgres, proc_cpu_seconds,
)
from import_accruals import (  # noqa: E402  (the accruals benchmark's data and set-up, reused as they are)
    ORG_CODE, ORG_NAME, PARALLEL_ENV, SERVICES, TARGET_CEILING_RATIO, TARGET_RSS_MB, _money, _periods,
    account_number, generate_accruals_xml, setup_hub_database,
)

SCRIPT = Path(__file__).resolve()
TYPES = ("accruals", "payments", "meter_readings", "buildings", "clients")
PREMISES_PER_BUILDING = 10
TYPE_ENV = "DOMILAND_BENCH_DATA_TYPE"  # tells an import child which loader to import before it says ready


# =========================================================================== data files

def _write_xml(path: Path, root: str, records: Iterator[str], meta: dict) -> float:
    """Stream ``<root version="1">`` + records to ``path`` (via ``.part``) and its ``.meta.json``; return seconds.

    An existing complete file (its meta written after it) is reused: the name carries every parameter.
    """
    meta_path = path.with_name(path.name + ".meta.json")
    if path.exists() and meta_path.exists():
        return 0.0
    started = time.perf_counter()
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "w", encoding="utf-8", newline="\n") as out:
        out.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} version="1">\n')
        for chunk in _batched(records):
            out.write("".join(chunk))
        out.write(f"</{root}>\n")
    tmp.rename(path)
    meta_path.write_text(json.dumps(meta))
    if meta.get("records", 0) >= 100_000 and hasattr(os, "sync"):
        os.sync()  # no write-back of a big fresh file competing with the measurements
    return time.perf_counter() - started


def _batched(items: Iterator[str], n: int = 10_000) -> Iterator[list[str]]:
    it = iter(items)
    while chunk := list(itertools.islice(it, n)):
        yield chunk


def read_meta(path: Path) -> dict:
    return json.loads(path.with_name(path.name + ".meta.json").read_text())


def gen_accruals(path: Path, records: int, accounts: int) -> float:
    meta_path = path.with_name(path.name + ".meta.json")
    seconds = generate_accruals_xml(path, records, accounts)  # import_accruals' generator, as it is
    meta_path.write_text(json.dumps({"records": records, "rows": {"accruals": records}}))
    return seconds


_MONTHS_RU = ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь",
              "ноябрь", "декабрь")

PAYMENT = (
    "  <Payment>\n"
    "    <PaymentId>%s</PaymentId>\n"
    "    <AccountNumber>%s</AccountNumber>\n"
    "    <Date>%s</Date>\n"
    "    <Amount>%s</Amount>\n"
    "    <Period>%s</Period>\n"
    "%s"
    "    <Source>%s</Source>\n"
    "%s"
    "  </Payment>\n"
)


def gen_payments(path: Path, records: int, accounts: int, seed: int = 20260514) -> float:
    """Monthly payments of every account, oldest month first: bank, online, cash; Cyrillic purposes."""
    rng = random.Random(seed)
    numbers = [account_number(i) for i in range(accounts)]
    periods = _periods(-(-records // accounts))
    codes = [s[0] for s in SERVICES]

    def records_() -> Iterator[str]:
        randint, random_ = rng.randint, rng.random
        for i in range(records):
            month, acc = divmod(i, accounts)
            period = periods[month]
            y, m = int(period[:4]), int(period[5:])
            y, m = (y, m + 1) if m < 12 else (y + 1, 1)  # paid the month after
            r = random_()
            if r < 0.5:
                source, zone, frac = "bank", "Z", ""  # bank registers: UTC, whole seconds
            elif r < 0.85:
                source, zone, frac = "online", "+03:00", f".{randint(0, 999):03d}"
            elif r < 0.95:
                source, zone, frac = "cash", "+05:00", ""
            else:
                source, zone, frac = "other", "+03:00", ""
            date = f"{y}-{m:02d}-{randint(1, 28):02d}T{randint(0, 23):02d}:{randint(0, 59):02d}:" \
                   f"{randint(0, 59):02d}{frac}{zone}"
            number = numbers[acc]
            service = f"    <ServiceCode>{codes[i % len(codes)]}</ServiceCode>\n" if r > 0.97 else ""
            p = random_()
            if p < 0.85:
                purpose = (f"    <Purpose>Оплата ЖКУ за {_MONTHS_RU[int(period[5:]) - 1]} {period[:4]} г., "
                           f"л/с {number}</Purpose>\n")
            elif p < 0.9:
                purpose = f"    <Purpose>Оплата по квитанции № {i + 1} &amp; пени (ООО «УК Бенчмарк»)</Purpose>\n"
            else:
                purpose = ""
            yield PAYMENT % (f"PAY-{period[:4]}-{i + 1:09d}", number, date, _money(randint(30_000, 1_500_000)),
                             period, service, source, purpose)

    return _write_xml(path, "Payments", records_(), {"records": records, "rows": {"payments": records}})


# resource, element prefix of the meter number, decimals, (start range, monthly use range), has a night value
METERS = (("COLD_WATER", "ХВ", 3, (0, 400_000), (2_000, 9_000), False),
          ("HOT_WATER", "ГВ", 3, (0, 250_000), (1_000, 6_000), False),
          ("ELECTRICITY", "ЭЛ", 1, (0, 300_000), (800, 3_500), True))

READING = (
    "  <Reading>\n"
    "    <AccountNumber>%s</AccountNumber>\n"
    "    <MeterNumber>%s</MeterNumber>\n"
    "    <Resource>%s</Resource>\n"
    "    <Date>%s</Date>\n"
    "    <Value1>%s</Value1>\n"
    "%s"
    "    <Source>%s</Source>\n"
    "  </Reading>\n"
)


def gen_meter_readings(path: Path, records: int, accounts: int, seed: int = 20260620) -> float:
    """Monthly readings of 3 meters per account (cold and hot water, two-rate electricity), oldest month first.

    Every reading names its ``Resource``, as partners' systems do, so each meter is created by its first
    reading (the first month) and checked against it afterwards.
    """
    rng = random.Random(seed)
    per_month = accounts * len(METERS)
    periods = _periods(-(-records // per_month))
    numbers = [account_number(i) for i in range(accounts)]
    start = [[rng.randint(*m[3]) for m in METERS] for _ in range(accounts)]
    night = [rng.randint(0, 150_000) for _ in range(accounts)]

    def value(units: int, decimals: int) -> str:
        scale = 10 ** decimals
        return f"{units // scale}.{units % scale:0{decimals}d}"

    def records_() -> Iterator[str]:
        randint, random_ = rng.randint, rng.random
        level = [row[:] for row in start]
        for i in range(records):
            month, rest = divmod(i, per_month)
            acc, k = divmod(rest, len(METERS))
            resource_, prefix, decimals, _, (lo, hi), two_rate = METERS[k]
            level[acc][k] += randint(lo, hi)
            night_value = ""
            if two_rate:
                night[acc] += randint(lo // 3, hi // 3)
                night_value = f"    <Value2>{value(night[acc], decimals)}</Value2>\n"
            r = random_()
            source = "app" if r < 0.6 else "operator" if r < 0.85 else "auto"
            yield READING % (numbers[acc], f"{prefix}-{acc * len(METERS) + k + 1:08d}", resource_,
                             f"{periods[month]}-{randint(20, 25):02d}", value(level[acc][k], decimals),
                             night_value, source)

    meters = min(records, per_month)
    return _write_xml(path, "MeterReadings", records_(),
                      {"records": records, "rows": {"meter_readings": records, "meters": meters}})


_CITIES = ("г. Пермь", "г. Екатеринбург", "г. Казань", "г. Самара", "г. Уфа", "г. Челябинск", "г. Тюмень")
_STREETS = ("ул. Ленина", "ул. Пушкина", "Комсомольский пр-т", "ул. Сибирская", "ул. Куйбышева", "ш. Космонавтов",
            "ул. Революции", "б-р Гагарина", "ул. Мира", "ул. Советская", "ул. Героев Хасана", "ул. Луначарского",
            "ул. 25 Октября", "ул. Екатерининская", "ул. Малышева", "ул. Щорса")


def gen_buildings(path: Path, records: int, accounts: int, seed: int = 20260301) -> float:
    """``records / 10`` buildings of 10 premises (8 flats, a parking place, a storage room or shop), 1 account each.

    All keys are new: the file creates buildings, premises and accounts (an organization's first structure file).
    """
    del accounts  # the file brings its own accounts
    rng = random.Random(seed)
    buildings = max(1, records // PREMISES_PER_BUILDING)

    def records_() -> Iterator[str]:
        randint, choice, random_ = rng.randint, rng.choice, rng.random
        for b in range(buildings):
            ext = f"B-{b + 1:07d}"
            address = f"{choice(_CITIES)}, {choice(_STREETS)}, д. {randint(1, 250)}"
            if random_() < 0.3:
                address += f", корп. {randint(1, 5)}"
            parts = [f"  <Building>\n    <ExtId>{ext}</ExtId>\n    <Address>{address}</Address>\n"]
            floors = randint(3, 25)
            for p in range(PREMISES_PER_BUILDING):
                if p < 8:
                    number, kind, floor, area = str(randint(1, 4) + 4 * p), "APARTMENT", 1 + p * floors // 8, \
                        randint(2_800, 12_000)
                elif p == 8:
                    number, kind, floor, area = f"П-{randint(1, 120)}", "PARKING", -1, randint(1_300, 1_800)
                elif random_() < 0.5:
                    number, kind, floor, area = f"К-{randint(1, 80)}", "STORAGE", -1, randint(300, 900)
                else:
                    number, kind, floor, area = f"Н-{randint(1, 6)}", "COMMERCIAL", 1, randint(5_000, 25_000)
                idx = b * PREMISES_PER_BUILDING + p
                gis = f"<GisNumber>{77 + idx % 15}АБ{idx:07d}-01</GisNumber>" if random_() < 0.9 else ""
                parts.append(
                    f"    <Premise>\n      <ExtId>{ext}/{p + 1}</ExtId>\n      <Number>{number}</Number>\n"
                    f"      <Type>{kind}</Type>\n      <Floor>{floor}</Floor>\n"
                    f"      <Area>{area // 100}.{area % 100:02d}</Area>\n"
                    f"      <Account><Number>{5_000_000_000 + idx * 3:010d}</Number>{gis}</Account>\n"
                    "    </Premise>\n")
            parts.append("  </Building>\n")
            yield "".join(parts)

    premises = buildings * PREMISES_PER_BUILDING
    return _write_xml(path, "Buildings", records_(), {
        "records": buildings, "rows": {"buildings": buildings, "premises": premises, "accounts": premises}})


_LAST = (("Иванов", "ivanov"), ("Смирнов", "smirnov"), ("Кузнецов", "kuznetsov"), ("Попов", "popov"),
         ("Васильев", "vasilev"), ("Петров", "petrov"), ("Соколов", "sokolov"), ("Михайлов", "mikhailov"),
         ("Новиков", "novikov"), ("Фёдоров", "fedorov"), ("Морозов", "morozov"), ("Волков", "volkov"),
         ("Алексеев", "alekseev"), ("Лебедев", "lebedev"), ("Семёнов", "semenov"), ("Егоров", "egorov"))
_FIRST = (("Александр", "Сергей", "Дмитрий", "Андрей", "Алексей", "Максим", "Иван", "Михаил", "Артём"),
          ("Анна", "Елена", "Ольга", "Наталья", "Екатерина", "Мария", "Татьяна", "Ирина", "Юлия"))
_MIDDLE = (("Александрович", "Сергеевич", "Дмитриевич", "Андреевич", "Иванович", "Михайлович", "Петрович"),
           ("Александровна", "Сергеевна", "Дмитриевна", "Андреевна", "Ивановна", "Михайловна", "Петровна"))


def _phone(i: int, style: int) -> str:
    """A unique Russian mobile number for ``i`` (< 10⁹), written the way people write them."""
    n = f"9{(i * 7919 + 12345) % 10**9:09d}"  # i ↦ n is a bijection: 7919 is prime to 10⁹
    return (f"+7 ({n[:3]}) {n[3:6]}-{n[6:8]}-{n[8:]}", f"8 {n[:3]} {n[3:6]} {n[6:8]} {n[8:]}", f"8{n}", f"+7{n}",
            n, f"8({n[:3]}){n[3:6]}-{n[6:8]}-{n[8:]}")[style]


def gen_clients(path: Path, records: int, accounts: int, seed: int = 20260412) -> float:
    """Clients with unique phones in mixed notations, linked to 1 (80 %), 2 (15 %) or no (5 %) existing accounts."""
    rng = random.Random(seed)
    numbers = [account_number(i) for i in range(accounts)]
    links = 0

    def records_() -> Iterator[str]:
        nonlocal links
        randint, choice, random_ = rng.randint, rng.choice, rng.random
        for i in range(records):
            female = random_() < 0.5
            last, latin = choice(_LAST)
            parts = [f"  <Client>\n    <ExtId>C-{i + 1:08d}</ExtId>\n    <LastName>{last}{'а' if female else ''}"
                     f"</LastName>\n    <FirstName>{choice(_FIRST[female])}</FirstName>\n"]
            if random_() < 0.9:
                parts.append(f"    <MiddleName>{choice(_MIDDLE[female])}</MiddleName>\n")
            parts.append(f"    <Phone>{_phone(i, randint(0, 5))}</Phone>\n")
            if random_() < 0.5:
                parts.append(f"    <Email>{latin}{'a' if female else ''}.{i + 1}@example.ru</Email>\n")
            r = random_()
            first = randint(0, accounts - 1)
            own = [] if r < 0.05 else [first] if r < 0.85 or accounts < 2 else [first, (first + accounts // 2) % accounts]
            links += len(own)
            parts.extend(f"    <AccountNumber>{numbers[a]}</AccountNumber>\n" for a in own)
            parts.append("  </Client>\n")
            yield "".join(parts)
        meta["rows"]["client_accounts"] = links  # before _write_xml writes the meta

    meta = {"records": records, "rows": {"clients": records, "client_external_ids": records}}
    return _write_xml(path, "Clients", records_(), meta)


# =========================================================================== the types

@dataclass(frozen=True)
class TypeSpec:
    name: str
    record: str
    """Record element (the ceiling's iterparse tag)."""
    shape: str
    """How the ceiling builds a record's dict: ``flat``, ``clients`` (repeated AccountNumber), ``buildings`` (tree)."""
    generate: Callable[[Path, int, int], float]
    needs_accounts: bool
    counts: dict[str, str]
    """Table → SQL counting the organization's rows (``{org}``): checked against the file's meta after an import."""


def _org_count(table: str) -> str:
    return f"SELECT count(*) FROM {table} WHERE organization_id = {{org}}"


SPECS: dict[str, TypeSpec] = {s.name: s for s in (
    TypeSpec("accruals", "Accrual", "flat", gen_accruals, True, {"accruals": _org_count("accruals")}),
    TypeSpec("payments", "Payment", "flat", gen_payments, True, {"payments": _org_count("payments")}),
    TypeSpec("meter_readings", "Reading", "flat", gen_meter_readings, True,
             {"meter_readings": _org_count("meter_readings"), "meters": _org_count("meters")}),
    TypeSpec("buildings", "Building", "buildings", gen_buildings, False,
             {"buildings": _org_count("buildings"), "premises": _org_count("premises"),
              "accounts": _org_count("accounts")}),
    TypeSpec("clients", "Client", "clients", gen_clients, True,
             {"clients": _org_count("clients"), "client_external_ids": _org_count("client_external_ids"),
              "client_accounts": "SELECT count(*) FROM client_accounts ca JOIN clients c ON c.id = ca.client_id "
                                 "WHERE c.organization_id = {org}"}),
)}


def setup_database(url: str, accounts: int, *, analyze: bool = True) -> int:
    """Migrations, one management organization and ``accounts`` accounts (see import_accruals); its id."""
    if accounts:
        return setup_hub_database(url, accounts, analyze=analyze)
    from domiland.db.engine import get_engine, session_scope
    from domiland.db.migrate import upgrade
    from domiland.db.models import Organization, OrganizationKind

    upgrade(url)
    with session_scope(url) as session:
        org = Organization(code=ORG_CODE, name=ORG_NAME, kind=OrganizationKind.MANAGEMENT)
        session.add(org)
        session.flush()
        org_id = org.id
    get_engine(url).dispose()
    return org_id


# =========================================================================== children (one measurement each)

def import_type_for(name: str):
    """``IMPORT_TYPES[DataType(name)]`` with its loader and reader modules imported (outside any timing)."""
    from importlib import import_module

    from domiland.db.models import DataType
    from domiland.exchange.registry import IMPORT_TYPES

    import_type = IMPORT_TYPES[DataType(name)]
    import_type.loader  # noqa: B018  (cached_property: imports the loader)
    import_module(import_type.reader_path.partition(":")[0])
    return import_type


def _ceiling_loop(path: str, tag: str, shape: str) -> int:
    from lxml import etree

    n = 0
    for _event, elem in etree.iterparse(path, events=("end",), tag=tag):
        if shape == "flat":
            fields = {c.tag: c.text for c in elem}
        elif shape == "clients":
            fields, accounts = {}, []
            for c in elem:
                if c.tag == "AccountNumber":
                    accounts.append(c.text)
                else:
                    fields[c.tag] = c.text
            fields["AccountNumber"] = accounts
        else:  # buildings: Building → Premise → Account
            fields, premises = {}, []
            for c in elem:
                if c.tag == "Premise":
                    premise, accounts = {}, []
                    for item in c:
                        if item.tag == "Account":
                            accounts.append({a.tag: a.text for a in item})
                        else:
                            premise[item.tag] = item.text
                    premise["Accounts"] = accounts
                    premises.append(premise)
                else:
                    fields[c.tag] = c.text
            fields["Premises"] = premises
        del fields  # what a reader has to hand over
        n += 1
        elem.clear()
        while elem.getprevious() is not None:
            del elem.getparent()[0]
    return n


def _child_parse(p: dict) -> dict:
    rss_before = current_rss_mb()
    watch = MachineWatch()
    cpu = time.process_time()
    started = time.perf_counter()
    n = _ceiling_loop(p["path"], p["tag"], p["shape"])
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    watch.stop()
    return {"records": n, "seconds": seconds, "cpu_s": cpu, "rss_before_mb": rss_before,
            "others_cpu_s": watch.others_cpu_s(cpu), "load1": watch.load1}


def _count_rows(counts: dict[str, str], organization_id: int) -> dict[str, int]:
    from domiland.db.engine import get_engine

    raw = get_engine().raw_connection()
    try:
        cur = raw.cursor()
        out = {}
        for table, sql in counts.items():
            cur.execute(sql.format(org=int(organization_id)))
            out[table] = int(cur.fetchone()[0])
        cur.close()
        return out
    finally:
        raw.close()


def _child_import(p: dict) -> dict:
    # DOMILAND_DB_URL is set by the parent before this interpreter started: get_engine() caches it.
    from domiland.db.engine import get_engine
    from domiland.exchange.imports import load_file
    from domiland.exchange.report import FileReport, ImportReport

    import_type = import_type_for(p["type"])
    backend = pg_backend_pid(get_engine())  # the PostgreSQL server process that will do the import's SQL
    rss_before = current_rss_mb()
    report = ImportReport()
    file_report = FileReport(path=p["path"])
    report.files.append(file_report)
    helpers = resource.getrusage(resource.RUSAGE_CHILDREN)
    watch = MachineWatch()
    db_cpu = proc_cpu_seconds(backend)
    with ChildrenPeakRss() as watcher:  # the reader parses in a helper process for files ≥ 4 MB (formats.parallel)
        cpu = time.process_time()
        started = time.perf_counter()
        load_file(Path(p["path"]), import_type, p["organization_id"], file_report, report)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
    peak = peak_rss_mb()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # CPU of the helper, once waited for
    db_after = proc_cpu_seconds(backend)
    db_cpu = db_after - db_cpu if db_after is not None and db_cpu is not None else None
    watch.stop()
    helper_cpu = (after.ru_utime - helpers.ru_utime) + (after.ru_stime - helpers.ru_stime)
    if backend and pg_backend_pid(get_engine()) != backend:
        db_cpu = None  # the import did not use that backend after all: unknown
    return {"records": file_report.read, "seconds": seconds, "cpu_s": cpu + helper_cpu, "peak_rss_mb": peak,
            "db_cpu_s": db_cpu, "others_cpu_s": watch.others_cpu_s(cpu + helper_cpu + (db_cpu or 0.0)),
            "load1": watch.load1,
            "rss_before_mb": rss_before, "own_cpu_s": cpu, "helper_cpu_s": helper_cpu,
            "helper_peak_rss_mb": watcher.peak_mb, "rows": _count_rows(p["counts"], p["organization_id"]),
            "error": report.error, "warning_count": report.warning_count, "warnings": report.warnings[:3],
            "file_report": {k: getattr(file_report, k) for k in ("read", "created", "updated", "unchanged", "skipped")}}


def _child_stages(p: dict) -> dict:
    """CPU time per layer, everything in this process: bare parse, reader without XSD, reader, load_file."""
    from domiland.formats import buildings as tree_reader
    from domiland.formats import xml_stream

    os.environ[PARALLEL_ENV] = "-1"  # the reader in this process, so that CPU times add up
    import_type = import_type_for(p["type"])

    class _NoSchema:
        error_log = None

        @staticmethod
        def validate(_elem) -> bool:
            return True

    def reader(validate: bool) -> float:
        real = xml_stream.load_schema
        if not validate:  # formats.buildings (and clients through it) imported load_schema by name
            xml_stream.load_schema = tree_reader.load_schema = lambda _xsd: _NoSchema()
        try:
            started = time.process_time()
            for _ in import_type.read(Path(p["path"])):
                pass
            return time.process_time() - started
        finally:
            xml_stream.load_schema = tree_reader.load_schema = real

    repeat = p.get("repeat", 2)
    out = {"records": p["records"]}
    out["parse_s"] = min(_child_parse(p)["cpu_s"] for _ in range(repeat))
    out["reader_novalidate_s"] = min(reader(False) for _ in range(repeat))
    out["reader_s"] = min(reader(True) for _ in range(repeat))
    imp = _child_import(p)  # in-process reader: its CPU time is all of load_file's
    out["load_file_s"] = imp["cpu_s"]
    out["seconds"] = imp["seconds"]
    out["error"] = imp["error"]
    return out


def _child_setup(p: dict) -> dict:
    """Create the hub database of one type (PostgreSQL: emptied first); here, so that the parent stays small."""
    started = time.perf_counter()
    prepared = prepare_postgres(p["url"]) if p.get("prepare_pg") else None
    org_id = setup_database(p["url"], p["accounts"], analyze=p["analyze"])
    from domiland.db.engine import get_engine

    get_engine(p["url"]).dispose()
    return {"organization_id": org_id, "prepared": prepared, "seconds": time.perf_counter() - started}


def _child_generate(p: dict) -> dict:
    """Write (or reuse) the type's data file; here, so that the parent stays small."""
    path = Path(p["path"])
    seconds = SPECS[p["type"]].generate(path, p["records"], p["accounts"])
    return {"seconds": seconds, "meta": read_meta(path), "bytes": path.stat().st_size}


def _preload_nothing() -> None:
    pass


def _preload_lxml() -> None:
    from lxml import etree  # noqa: F401


def _preload_import() -> None:
    import domiland.exchange.imports  # noqa: F401  (pulls in the FTP transport, i.e. Airflow)

    import_type_for(os.environ[TYPE_ENV])


CHILDREN = {"parse": _child_parse, "import": _child_import, "stages": _child_stages, "setup": _child_setup,
            "generate": _child_generate}
PRELOAD = {"parse": _preload_lxml, "import": _preload_import, "stages": _preload_import, "setup": _preload_nothing,
           "generate": _preload_nothing}


# =========================================================================== parent

def _safe_url(url: str) -> str:
    """The URL without its password (``_common.safe_url`` would import SQLAlchemy into the parent)."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)


def _rate(records: int, seconds: float) -> float:
    return records / seconds if seconds > 0 else float("inf")


def _fmt_rate(r: float) -> str:
    return f"{r:,.0f}"


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.rows: list[dict] = []
        self.stages: dict[str, dict] = {}
        self.failures: list[str] = []
        self.notes: list[str] = []
        self.children: list[Child] = []
        self.load_start = load_line("load average at start:")

    def log(self, text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)

    def env_for(self, type_name: str, url: str | None = None) -> dict[str, str]:
        env = {"DOMILAND_STATE_DIR": str(self.workdir / "state"), TYPE_ENV: type_name}
        if url:
            env["DOMILAND_DB_URL"] = url  # before the child imports anything: get_engine() caches it
        if "AIRFLOW_HOME" not in os.environ:  # importing the FTP hook imports Airflow; keep ~/airflow clean
            env["AIRFLOW_HOME"] = str(self.workdir / "airflow")
        return env

    def spawn(self, type_name: str, name: str, kind: str, url: str | None = None) -> tuple[str, str, Child]:
        child = Child(SCRIPT, kind, env=self.env_for(type_name, url), log_dir=self.workdir)
        self.children.append(child)
        return type_name, name, child

    def measure(self, spawned: tuple[str, str, Child], payload: dict, *, record: bool = True) -> dict | None:
        type_name, name, child = spawned
        self.log(f"measuring: {type_name} {name} …")
        try:
            res = child.run(payload)
        except ChildFailed as exc:
            self.failures.append(f"{type_name} {name}: {exc}")
            self.log(f"  FAILED: {exc}")
            return None
        res.update(type=type_name, name=name)
        if record:
            self.rows.append(res)
            self.log(f"  {res['records']:,} records in {res['seconds']:.2f} s = "
                     f"{_fmt_rate(_rate(res['records'], res['seconds']))} rec/s, peak RSS {res['peak_rss_mb']:.0f} MB")
        return res

    def check_import(self, type_name: str, name: str, res: dict | None, meta: dict, expect: str) -> None:
        if res is None:
            return
        label = f"{type_name} {name}"
        n = meta["records"]
        fr = res["file_report"]
        if res["error"]:
            self.failures.append(f"{label}: report error: {res['error']}")
        if fr["read"] != n:
            self.failures.append(f"{label}: read {fr['read']:,} records, expected {n:,}")
        for table, expected in meta["rows"].items():
            if res["rows"].get(table) != expected:
                self.failures.append(f"{label}: {res['rows'].get(table)} rows in {table}, expected {expected:,}")
        if res["warning_count"]:
            self.notes.append(f"{label}: {res['warning_count']} warnings, e.g. {res['warnings'][:1]}")
        if expect == "created" and fr["created"] != n:
            self.notes.append(f"{label}: created {fr['created']:,}, expected {n:,} ({fr})")
        if expect == "unchanged" and fr["unchanged"] != n:
            self.notes.append(f"{label}: re-import did not find every record unchanged ({fr}) — IMP-8?")

    def setup_db(self, label: str, spawned: tuple[str, str, Child], url: str, spec: TypeSpec) -> int | None:
        """Run a ``setup`` child (the parent itself never imports SQLAlchemy: see :meth:`run_type`)."""
        accounts = self.args.accounts if spec.needs_accounts else 0
        try:
            res = spawned[2].run({"url": url, "accounts": accounts, "analyze": not self.args.no_analyze,
                                  "prepare_pg": not url.startswith("sqlite")})
        except ChildFailed as exc:
            self.failures.append(f"{spec.name}: set-up of {label}: {exc}")
            self.log(f"  FAILED: {exc}")
            return None
        self.log(f"{label} hub database {_safe_url(url)}"
                 + (f" ({res['prepared']})" if res["prepared"] else "")
                 + f": migrated, organization {res['organization_id']}"
                 + (f" + {accounts:,} accounts" if accounts else " (no accounts: the file creates them)")
                 + f" in {res['seconds']:.2f} s")
        return res["organization_id"]

    def run(self) -> int:
        try:
            return self._run()
        finally:
            for child in self.children:
                child.kill()

    def _run(self) -> int:
        a = self.args
        self.log(f"workdir {self.workdir}; types {', '.join(a.types)}; {a.records:,} records per type")
        for type_name in a.types:
            try:
                self.run_type(SPECS[type_name])
            finally:
                for child in self.children:
                    child.kill()  # any left over (a failed step)
                self.children = []
        if a.pg_url and a.pg_drop:
            drop_postgres_database(a.pg_url)
            self.log("PostgreSQL database dropped")
        self.report()
        return 1 if self.failures else 0

    def run_type(self, spec: TypeSpec) -> None:
        """Spawn this type's interpreters, write its file, set up its databases, measure one at a time.

        The parent stays small — it neither imports SQLAlchemy or the hub nor builds the data (both
        run in children too): a child's ``ru_maxrss`` starts at the parent's RSS at the moment it was
        spawned (vfork + exec keep the high-water mark), so a big parent would put a floor under
        every later measurement's peak RSS.
        """
        a = self.args
        t = spec.name
        accounts = a.accounts if spec.needs_accounts else 0
        data = self.workdir / f"{t}_{a.records}x{accounts}.xml"
        sqlite_url = fresh_sqlite_url(self.workdir / f"{t}.db")

        # This type's interpreters first: their imports overlap the data generation and the set-up.
        generate = self.spawn(t, "data", "generate")
        parse = self.spawn(t, "parse-only ceiling (iterparse)", "parse")
        setup_sqlite = self.spawn(t, "set-up", "setup")
        imports = [(self.spawn(t, "import → SQLite", "import", sqlite_url), "created")]
        if a.reimport:
            imports.append((self.spawn(t, "re-import → SQLite (unchanged)", "import", sqlite_url), "unchanged"))
        pg_imports = []
        setup_pg = None
        if a.pg_url:
            setup_pg = self.spawn(t, "set-up", "setup")
            pg_imports.append((self.spawn(t, "import → PostgreSQL", "import", a.pg_url), "created"))
            if a.reimport:
                pg_imports.append((self.spawn(t, "re-import → PostgreSQL (unchanged)", "import", a.pg_url),
                                   "unchanged"))
        stages_url = fresh_sqlite_url(self.workdir / f"{t}_stages.db") if a.stages else None
        setup_stages = self.spawn(t, "set-up", "setup") if a.stages else None
        stages = self.spawn(t, "stages", "stages", stages_url) if a.stages else None

        try:
            gen = generate[2].run({"type": t, "path": str(data), "records": a.records, "accounts": accounts})
        except ChildFailed as exc:
            self.failures.append(f"{t}: generating the data: {exc}")
            return
        meta = gen["meta"]
        self.log(f"{t}: data file {data.name}: {meta['records']:,} records, {gen['bytes'] / 1024**2:,.1f} MB"
                 + (f", generated in {gen['seconds']:.1f} s" if gen["seconds"] else " (reused)")
                 + f"; rows expected: {', '.join(f'{k} {v:,}' for k, v in meta['rows'].items())}")
        org = self.setup_db("SQLite", setup_sqlite, sqlite_url, spec)
        stages_org = self.setup_db("SQLite (stages)", setup_stages, stages_url, spec) if stages else None
        for _, _, child in [parse, *(s for s, _ in imports + pg_imports), *([stages] if stages else [])]:
            child.wait_ready()  # nothing else runs while we measure
        if setup_pg:
            setup_pg[2].wait_ready()

        payload = {"path": str(data), "tag": spec.record, "shape": spec.shape, "type": t, "counts": spec.counts}
        self.measure(parse, payload)
        if org is not None:
            for spawned, expect in imports:
                res = self.measure(spawned, {**payload, "organization_id": org})
                self.check_import(t, spawned[1], res, meta, expect)
        if setup_pg:
            pg_org = self.setup_db("PostgreSQL", setup_pg, a.pg_url, spec)
            if pg_org is not None:
                for spawned, expect in pg_imports:
                    res = self.measure(spawned, {**payload, "organization_id": pg_org})
                    self.check_import(t, spawned[1], res, meta, expect)
        if stages and stages_org is not None:
            res = self.measure(stages, {**payload, "organization_id": stages_org, "records": meta["records"]},
                               record=False)
            if res is not None:
                self.stages[t] = res
        if not a.workdir:  # a temporary directory: free the disk as we go
            data.unlink(missing_ok=True)
            for db in (f"{t}.db", f"{t}_stages.db"):
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{self.workdir / db}{suffix}").unlink(missing_ok=True)

    # ------------------------------------------------------------------ output

    def report(self) -> None:
        ceilings = {r["type"]: _rate(r["records"], r["seconds"]) for r in self.rows if r["name"].startswith("parse-only")}
        table = []
        for r in self.rows:
            rate = _rate(r["records"], r["seconds"])
            ceiling = ceilings.get(r["type"])
            ratio = f"{rate / ceiling:.2f}×" if ceiling else "—"
            growth = f"{max(0.0, r['peak_rss_mb'] - r['rss_before_mb']):.0f}"
            helper = f"{r['helper_peak_rss_mb']:.0f}" if r.get("helper_peak_rss_mb") else "—"
            db_rows = f"{sum(r['rows'].values()):,}" if r.get("rows") else "—"
            others = f"{r['others_cpu_s']:.1f}" if r.get("others_cpu_s") is not None else "?"
            db_cpu = f"{r['db_cpu_s']:.2f}" if r.get("db_cpu_s") is not None else "—"
            load1 = f"{r['load1']:.2f}" if r.get("load1") is not None else "?"
            table.append((r["type"], r["name"], f"{r['records']:,}", db_rows, f"{r['seconds']:.2f}", _fmt_rate(rate),
                          f"{r['peak_rss_mb']:.0f}", ratio, growth, helper, f"{r['cpu_s']:.2f}", db_cpu, others, load1))
        print()
        print(format_table(("type", "measurement", "records", "DB rows", "seconds", "records/s", "peak RSS MB",
                            "ratio to ceiling", "RSS growth MB", "parser proc RSS MB", "CPU s", "PG server CPU s",
                            "others' CPU s", "load 1m"), table, left=2))
        print("(records = record elements read (buildings: Building elements, 10 premises + 10 accounts each); "
              "DB rows = rows of the type's tables after the import; peak RSS = ru_maxrss of the measurement's own "
              "process; RSS growth = that peak − its RSS once its modules were imported; parser proc = the helper "
              "process the import parses in, if any; CPU s = user+system time of the work, helper included; "
              "PG server CPU s = that of the PostgreSQL backend serving the import; others' CPU s = CPU time the "
              "rest of the machine used meanwhile (/proc/stat; PostgreSQL's WAL writer and checkpointer count "
              "there); load 1m = the higher 1-minute load average before/after)")
        print(self.load_start)
        print(load_line("load average at end:  "))
        print()
        print(f"targets: per type ≥{TARGET_CEILING_RATIO}× its parse-only ceiling, peak RSS ≤{TARGET_RSS_MB:.0f} MB")

        def verdict(ok: bool) -> str:
            return "PASS" if ok else "MISS"

        for t in self.args.types:
            runs = [r for r in self.rows if r["type"] == t and "import →" in r["name"]]
            if not runs:
                print(f"  {t}: not measured")
                continue
            ceiling = ceilings.get(t)
            parts = []
            if ceiling:
                ratios = [(_rate(r["records"], r["seconds"]) / ceiling, r) for r in runs]
                parts.append(f"≥{TARGET_CEILING_RATIO}× ceiling "
                             f"{verdict(all(x >= TARGET_CEILING_RATIO for x, _ in ratios))} ("
                             + ", ".join(f"{r['name'].replace('import → ', '')} {x:.2f}×" for x, r in ratios) + ")")
            rss = ", ".join(f"{r['name'].replace('import → ', '')} {r['peak_rss_mb']:.0f} MB"
                            + (f" + parser {r['helper_peak_rss_mb']:.0f}" if r.get("helper_peak_rss_mb") else "")
                            for r in runs)
            parts.append(f"peak RSS ≤{TARGET_RSS_MB:.0f} MB "
                         f"{verdict(all(r['peak_rss_mb'] <= TARGET_RSS_MB for r in runs))} ({rss})")
            print(f"  {t}: " + "; ".join(parts))
        if self.args.records < 200_000:
            print(f"  (only {self.args.records:,} records per type: fixed costs weigh heavily, the verdicts mean little)")
        if self.stages:
            self.report_stages()
        for note in self.notes:
            print(f"note: {note}")
        for failure in self.failures:
            print(f"FAILED: {failure}", file=sys.stderr)

    def report_stages(self) -> None:
        print()
        print("CPU time per stage, SQLite, everything in one process (each layer measured separately, "
              "no profiler; µs per record):")
        rows = []
        for t, s in self.stages.items():
            n, total = s["records"], s["load_file_s"]
            parts = (s["parse_s"], s["reader_novalidate_s"] - s["parse_s"], s["reader_s"] - s["reader_novalidate_s"],
                     total - s["reader_s"])
            rows.append((t, f"{n:,}", *(f"{x / n * 1e6:.1f} ({x / total:.0%})" for x in parts),
                         f"{total / n * 1e6:.1f}", f"{total:.2f}"))
        print(format_table(("type", "records", "parse (ceiling loop)", "reader checks/dicts", "XSD validate",
                            "DB side (loader)", "= load_file", "CPU s"), rows))
        print("(parse = iterparse + clear + dict; reader checks = iter_records/iter_tree_records without XSD − parse; "
              "XSD = with − without; DB side = load_file − reader: lookups, row building, upserts, commits)")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--records", type=int, default=1_000_000,
                   help="records per type (default 1,000,000; buildings: records/10 buildings of 10 premises)")
    p.add_argument("--types", default=",".join(TYPES),
                   help=f"comma-separated types to measure (default all: {','.join(TYPES)})")
    p.add_argument("--pg-url", help="also benchmark PostgreSQL at this SQLAlchemy URL, e.g. "
                   "postgresql+psycopg://postgres@127.0.0.1:5432/bench_types (database created if missing, "
                   "else ALL ITS TABLES ARE DROPPED, before each type)")
    p.add_argument("--pg-drop", action="store_true", help="drop the PostgreSQL database afterwards")
    p.add_argument("--no-analyze", action="store_true",
                   help="do not ANALYZE the PostgreSQL tables after creating the accounts (stale statistics)")
    p.add_argument("--accounts", type=int, default=10_000,
                   help="accounts of the organization for accruals, payments, readings, clients (default 10,000)")
    p.add_argument("--reimport", action="store_true", help="also re-import each file (every record unchanged)")
    p.add_argument("--stages", action="store_true",
                   help="also time each layer (parse, reader checks, XSD, DB side) of a third, single-process "
                        "SQLite import per type: where the time goes")
    p.add_argument("--workdir", type=Path, help="keep the data and databases here (default: a temp dir, removed); "
                   "data files of the same size are reused")
    args = p.parse_args(argv)
    args.types = [t.strip() for t in args.types.split(",") if t.strip()]
    unknown = [t for t in args.types if t not in SPECS]
    if unknown or not args.types:
        p.error(f"--types: unknown {', '.join(unknown) or '(none given)'}; choose from {', '.join(TYPES)}")
    if args.records < 1 or args.accounts < 1:
        p.error("--records and --accounts must be positive")
    return args


if __name__ == "__main__":
    run_script(parse_args, Bench, "bench-types-", PRELOAD, CHILDREN)
