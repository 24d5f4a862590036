#!/usr/bin/env python
"""Benchmark of the payments XML export (a measurement, not a test).

    .venv/bin/python bench/export.py                                  # 1M payments from SQLite (~2 min)
    .venv/bin/python bench/export.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_export --pg-drop
    .venv/bin/python bench/export.py --records 5000                   # smoke run, seconds

Seeds a hub database (migrations, one management organization with its FTP settings
and a payments export block, its accounts, ``--records`` payments created inside one
window) and measures, each in a fresh subprocess so that the peak RSS is per measurement:

1. the real streaming path, ``domiland.exchange.exports.write_window`` for
   ``EXPORT_TYPES[DataType.PAYMENTS]``, into a local file;
2. a naive baseline: the same query's rows fetched at once (``fetchall()``), the whole
   tree built with ``lxml.etree`` (a ``SubElement`` per field), then written;
3. the whole ``export_block`` run — window, query, file, upload under a temporary name
   to a plain pyftpdlib server (a thread of the same process), rename, ``export_runs``
   row — and checks the uploaded file is byte for byte the one of 1.;
4. the same against PostgreSQL with ``--pg-url``.

Each produced file is then validated (not timed) against ``include/xml_schemas/payments.xsd``
as a whole document, streamed (``iterparse(schema=…)``), and its records counted.
Exit code 0 whatever the numbers; 1 if an export failed, a file is invalid or a count is wrong.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import secrets
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from _common import (  # noqa: E402
    Child, ChildFailed, MachineWatch, run_script, current_rss_mb, drop_postgres_database, format_table,
    fresh_sqlite_url, load_line, peak_rss_mb, pg_backend_pid, prepare_postgres, proc_cpu_seconds,
)

SCRIPT = Path(__file__).resolve()

TARGET_ROWS_PER_S = 150_000
TARGET_RSS_MB = 100.0

ORG_CODE = "bench-uk"
ORG_NAME = "ООО «УК Бенчмарк»"
ZONE = "Europe/Moscow"
WINDOW_START = datetime(2026, 5, 1, tzinfo=timezone.utc)
WINDOW_END = datetime(2026, 5, 2, tzinfo=timezone.utc)
IMPORT_BATCH = 5000  # an import stamps a batch's rows with one created_at: so do we
FTP_USER = "bench"
EXPORT_DIR = "exports/payments"
FILENAME_TEMPLATE = "payments_%Y%m%d_%H%M%S.xml"


def account_number(i: int) -> str:
    return f"{4_100_000_000 + i * 37:010d}"  # as bench/import_accruals.py


# =========================================================================== children (one step each)

def _timestamp(dialect: str, value: datetime):
    """As ``BulkConnection.timestamp``: SQLite stores naive UTC text, PostgreSQL an aware datetime."""
    value = value.astimezone(timezone.utc)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds") if dialect == "sqlite" else value


def payment_rows(dialect: str, organization_id: int, account_ids: list[int], records: int, seed: int = 20260501):
    """``records`` payments (columns of the payments table) created in the window, one stamp per import batch."""
    import random

    rng = random.Random(seed)
    randint, random_ = rng.randint, rng.random
    codes = ("ХВС", "ГВС", "ВО", "ЭЛ", "ОТП", "СОД", "КР", "ТКО")
    step = (WINDOW_END - WINDOW_START - timedelta(hours=1)) / max(1, -(-records // IMPORT_BATCH))
    for i in range(records):
        batch = i // IMPORT_BATCH
        created = WINDOW_START + timedelta(minutes=30) + step * batch
        if i % IMPORT_BATCH == 0:
            created_value = _timestamp(dialect, created)
        paid = created - timedelta(seconds=randint(600, 3 * 86400), microseconds=randint(0, 999) * 1000
                                   if random_() < 0.3 else 0)
        acc = i % len(account_ids)
        r = random_()
        source = "bank" if r < 0.5 else "online" if r < 0.85 else "cash" if r < 0.95 else "other"
        p = random_()
        if p < 0.85:
            purpose = f"Оплата ЖКУ за апрель 2026 г., л/с {account_number(acc)}"
        elif p < 0.9:
            purpose = f"Оплата по квитанции № {i + 1} & пени <без НДС> (ООО «УК Бенчмарк»)"  # needs escaping
        else:
            purpose = None
        kopecks = randint(30_000, 1_500_000)
        yield (organization_id, f"PAY-2026-{i + 1:09d}", account_ids[acc], _timestamp(dialect, paid),
               f"{kopecks // 100}.{kopecks % 100:02d}", "2026-04", codes[i % len(codes)] if r > 0.97 else None,
               source, purpose, created_value, created_value)


PAYMENT_COLUMNS = ("organization_id", "payment_id", "account_id", "paid_at", "amount", "period", "service_code",
                   "source", "purpose", "created_at", "updated_at")


def _child_seed(p: dict) -> dict:
    """A hub database with one organization, its FTP settings, a payments export block, accounts and payments."""
    from domiland import secrets as hub_secrets
    from domiland.db.engine import get_engine, session_scope
    from domiland.db.migrate import upgrade
    from domiland.db.models import (
        DataType, ExportBlock, FtpConnection, Method, Organization, OrganizationKind, utcnow,
    )

    url = p["url"]
    started = time.perf_counter()
    prepared = None if url.startswith("sqlite") else prepare_postgres(url)
    upgrade(url)
    with session_scope(url) as session:
        org = Organization(code=ORG_CODE, name=ORG_NAME, kind=OrganizationKind.MANAGEMENT, timezone=ZONE)
        session.add(org)
        session.flush()
        session.add(FtpConnection(organization_id=org.id, host="127.0.0.1", port=21, use_tls=False,
                                  username=FTP_USER, password_encrypted=hub_secrets.encrypt(p["ftp_password"]),
                                  root_dir="/", force_utf8=True, passive=True))
        block = ExportBlock(organization_id=org.id, data_type=DataType.PAYMENTS, method=Method.XML,
                            directory=EXPORT_DIR, filename_template=FILENAME_TEMPLATE, skip_empty=False)
        session.add(block)
        session.flush()
        org_id, block_id = org.id, block.id
    engine = get_engine(url)
    dialect = engine.dialect.name
    mark = "?" if dialect == "sqlite" else "%s"
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if dialect == "sqlite":
            cur.execute("PRAGMA foreign_keys=OFF")  # as the loaders do
        now = _timestamp(dialect, utcnow())
        cur.executemany(f"INSERT INTO accounts (organization_id, number, created_at) VALUES ({mark}, {mark}, {mark})",
                        [(org_id, account_number(i), now) for i in range(p["accounts"])])
        cur.execute(f"SELECT id FROM accounts WHERE organization_id = {mark} ORDER BY id", (org_id,))
        account_ids = [row[0] for row in cur.fetchall()]
        rows = payment_rows(dialect, org_id, account_ids, p["records"])
        if dialect == "sqlite":
            cur.executemany(f"INSERT INTO payments ({', '.join(PAYMENT_COLUMNS)}) "
                            f"VALUES ({', '.join('?' * len(PAYMENT_COLUMNS))})", rows)
        else:
            with cur.copy(f"COPY payments ({', '.join(PAYMENT_COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        raw.commit()
        if dialect == "sqlite":
            cur.execute("PRAGMA foreign_keys=ON")
        cur.close()
    finally:
        raw.close()
    if dialect == "postgresql":  # what autovacuum does within a minute of a big load
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return {"organization_id": org_id, "block_id": block_id, "prepared": prepared,
            "seconds": time.perf_counter() - started}


def _plan():
    from domiland.exchange.windows import Plan

    return Plan(WINDOW_START, WINDOW_END, "manual")


def _measured(run, count_rows) -> dict:
    """Time ``run()`` with CPU (and that of the PostgreSQL backend serving it), peak RSS, how busy the machine was."""
    from domiland.db.engine import get_engine

    backend = pg_backend_pid(get_engine())  # the pool's one connection: the run's first checkout gets it again
    rss_before = current_rss_mb()
    watch = MachineWatch()
    db_cpu = proc_cpu_seconds(backend)
    cpu = time.process_time()
    started = time.perf_counter()
    extra = run()
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    peak = peak_rss_mb()
    db_after = proc_cpu_seconds(backend)
    db_cpu = db_after - db_cpu if db_after is not None and db_cpu is not None else None
    watch.stop()
    if backend and pg_backend_pid(get_engine()) != backend:
        db_cpu = None  # the run did not use that backend after all: unknown
    return {"rows": count_rows(extra), "seconds": seconds, "cpu_s": cpu, "peak_rss_mb": peak, "db_cpu_s": db_cpu,
            "rss_before_mb": rss_before, "others_cpu_s": watch.others_cpu_s(cpu + (db_cpu or 0.0)),
            "load1": watch.load1, **(extra if isinstance(extra, dict) else {})}


def _child_write(p: dict) -> dict:
    # DOMILAND_DB_URL is set by the parent before this interpreter started: get_engine() caches it.
    from zoneinfo import ZoneInfo

    from domiland.db.models import DataType
    from domiland.exchange.exports import EXPORT_TYPES, write_window

    export_type, plan, zone = EXPORT_TYPES[DataType.PAYMENTS], _plan(), ZoneInfo(ZONE)

    def run() -> int:
        with open(p["out"], "wb") as out:
            return write_window(out, export_type, p["organization_id"], plan, zone)

    res = _measured(run, lambda rows: rows)
    res["bytes"] = os.path.getsize(p["out"])
    return res


def _child_baseline(p: dict) -> dict:
    """Naive: every row fetched at once, the whole document built as an lxml tree, then written."""
    from zoneinfo import ZoneInfo

    from lxml import etree

    from domiland.db.engine import get_engine
    from domiland.db.models import DataType
    from domiland.exchange.exports import _RENDER, EXPORT_TYPES  # the same value formatting as the real path

    export_type, zone = EXPORT_TYPES[DataType.PAYMENTS], ZoneInfo(ZONE)
    engine = get_engine()
    dialect = engine.dialect.name
    sql = export_type.sql.format(p="?" if dialect == "sqlite" else "%s")
    params = (p["organization_id"], _timestamp(dialect, WINDOW_START), _timestamp(dialect, WINDOW_END))
    fmt, fields = export_type.format, export_type.fields
    timings = {}

    def run() -> dict:
        t0 = time.perf_counter()
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute(sql, params)
            rows = cur.fetchall()
            cur.close()
        finally:
            raw.close()
        t1 = time.perf_counter()
        render = [_RENDER[k](zone) for k in export_type.kinds]
        root = etree.Element(fmt.root, version="1")
        for row in rows:
            record = etree.SubElement(root, fmt.record)
            for name, r, value in zip(fields, render, row):
                if value is not None:
                    etree.SubElement(record, name).text = r(value)
        t2 = time.perf_counter()
        etree.ElementTree(root).write(p["out"], encoding="UTF-8", xml_declaration=True)
        timings.update(fetch_s=t1 - t0, build_s=t2 - t1, write_s=time.perf_counter() - t2)
        return {"count": len(root)}

    res = _measured(run, lambda extra: extra["count"])
    res.update(timings, bytes=os.path.getsize(p["out"]))
    return res


class ThreadedFtpd:
    """A plain pyftpdlib server on its own IOLoop in a daemon thread (as tests/fixtures/ftp.py does)."""

    def __init__(self, root: Path, user: str, password: str) -> None:
        from pyftpdlib.authorizers import DummyAuthorizer
        from pyftpdlib.handlers import FTPHandler
        from pyftpdlib.ioloop import IOLoop
        from pyftpdlib.servers import FTPServer

        authorizer = DummyAuthorizer()
        authorizer.add_user(user, password, str(root), perm="elradfmwMT")
        handler = type("BenchFTPHandler", (FTPHandler,), {"authorizer": authorizer, "encoding": "utf8"})
        self._server = FTPServer(("127.0.0.1", 0), handler, ioloop=IOLoop())
        self.port: int = self._server.address[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"ftpd-{self.port}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._server.ioloop.loop(timeout=0.05, blocking=False)
        self._server.close_all()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def _child_block(p: dict) -> dict:
    """``export_block`` end to end, uploading to a pyftpdlib server started here (outside the timing)."""
    import logging

    from domiland.db.engine import get_engine
    from domiland.exchange import exports

    logging.getLogger("pyftpdlib").setLevel(logging.WARNING)
    root = Path(p["ftp_root"])
    root.mkdir(parents=True, exist_ok=True)
    server = ThreadedFtpd(root, FTP_USER, p["ftp_password"])
    engine = get_engine()
    mark = "?" if engine.dialect.name == "sqlite" else "%s"
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(f"UPDATE ftp_connections SET port = {mark} WHERE organization_id = {mark}",
                    (server.port, p["organization_id"]))
        raw.commit()
        cur.close()
    finally:
        raw.close()

    # Where the time goes: the two halves of export_block, timed by wrapping them (one call each).
    parts: dict[str, float] = {}

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                parts[name] = parts.get(name, 0.0) + time.perf_counter() - t
        return wrapper

    exports.write_window = timed("write_window_s", exports.write_window)
    exports.upload_atomically = timed("upload_s", exports.upload_atomically)
    captured = {}

    def run() -> None:
        captured["report"] = exports.export_block(p["block_id"], kind="backfill", interval=(WINDOW_START, WINDOW_END))

    try:
        res = _measured(run, lambda _: captured["report"].rows)
    finally:
        server.stop()
    report = captured["report"]
    res.update(parts, error=report.error, warnings=list(report.warnings), file_name=report.file_name)
    uploaded = root / report.file_name if report.file_name else None
    if uploaded and uploaded.exists():
        res["bytes"] = uploaded.stat().st_size
        res["sha256"] = _sha256(uploaded)
        res["leftovers"] = [f.name for f in uploaded.parent.iterdir() if f.name.endswith(".part")]
        if p.get("remove"):
            uploaded.unlink()
    return res


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _child_validate(p: dict) -> dict:
    """Whole-document XSD validation, streamed (libxml2 validates while iterparse reads), + count + checksum."""
    from lxml import etree

    from domiland.config import repo_include_dir

    started = time.perf_counter()
    schema = etree.XMLSchema(etree.parse(str(repo_include_dir() / "xml_schemas" / "payments.xsd")))
    count, error = 0, None
    try:
        for _event, elem in etree.iterparse(p["path"], events=("end",), tag="Payment", schema=schema,
                                            resolve_entities=False, no_network=True):
            count += 1
            elem.clear()
            while elem.getprevious() is not None:
                del elem.getparent()[0]
    except etree.XMLSyntaxError as exc:  # a schema violation is reported as one, with its line
        error = f"line {exc.lineno}: {exc.msg}"
    seconds = time.perf_counter() - started
    return {"count": count, "error": error, "seconds": seconds, "sha256": _sha256(Path(p["path"])),
            "bytes": os.path.getsize(p["path"])}


def _preload_nothing() -> None:
    pass


def _preload_export() -> None:
    from zoneinfo import ZoneInfo

    import domiland.exchange.exports  # noqa: F401  (pulls in the FTP transport, i.e. Airflow)
    from domiland.exchange.windows import Plan  # noqa: F401

    ZoneInfo(ZONE)


def _preload_baseline() -> None:
    from lxml import etree  # noqa: F401

    _preload_export()


def _preload_block() -> None:
    import pyftpdlib.servers  # noqa: F401

    _preload_export()


def _preload_validate() -> None:
    from lxml import etree  # noqa: F401


CHILDREN = {"seed": _child_seed, "write": _child_write, "baseline": _child_baseline, "block": _child_block,
            "validate": _child_validate}
PRELOAD = {"seed": _preload_nothing, "write": _preload_export, "baseline": _preload_baseline,
           "block": _preload_block, "validate": _preload_validate}


# =========================================================================== parent

def _rate(rows: int, seconds: float) -> float:
    return rows / seconds if seconds > 0 else float("inf")


def _safe_url(url: str) -> str:
    """The URL without its password (``_common.safe_url`` would import SQLAlchemy into the parent)."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)


class Bench:
    """The parent only orchestrates: seeding, measuring and validating all run in children, so it stays small
    (a child's ``ru_maxrss`` starts at the parent's RSS when it was spawned)."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.rows: list[dict] = []
        self.failures: list[str] = []
        self.notes: list[str] = []
        self.children: list[Child] = []
        self.load_start = load_line("load average at start:")
        # A Fernet key is 32 random bytes, urlsafe-base64: no need to import cryptography here.
        self.fernet_key = base64.urlsafe_b64encode(os.urandom(32)).decode()
        self.ftp_password = secrets.token_urlsafe(12)
        self.checksums: dict[str, str] = {}

    def log(self, text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)

    def spawn(self, kind: str, url: str | None = None) -> Child:
        env = {"DOMILAND_STATE_DIR": str(self.workdir / "state"), "DOMILAND_FERNET_KEY": self.fernet_key,
               "DOMILAND_FTP_TIMEOUT": "60"}
        if url:
            env["DOMILAND_DB_URL"] = url  # before the child imports anything: get_engine() caches it
        if "AIRFLOW_HOME" not in os.environ:  # importing the FTP hook imports Airflow; keep ~/airflow clean
            env["AIRFLOW_HOME"] = str(self.workdir / "airflow")
        child = Child(SCRIPT, kind, env=env, log_dir=self.workdir)
        self.children.append(child)
        return child

    def step(self, what: str, child: Child, payload: dict) -> dict | None:
        try:
            return child.run(payload)
        except ChildFailed as exc:
            self.failures.append(f"{what}: {exc}")
            self.log(f"  FAILED: {exc}")
            return None

    def run(self) -> int:
        try:
            return self._run()
        finally:
            for child in self.children:
                child.kill()

    def _run(self) -> int:
        a = self.args
        self.log(f"workdir {self.workdir}; {a.records:,} payments in the window "
                 f"{WINDOW_START:%Y-%m-%d %H:%M} – {WINDOW_END:%Y-%m-%d %H:%M} UTC, {a.accounts:,} accounts")
        dbs = [("SQLite", fresh_sqlite_url(self.workdir / "export.db"))]
        if a.pg_url:
            dbs.append(("PostgreSQL", a.pg_url))
        for label, url in dbs:
            self.run_db(label, url)
        if a.pg_url and a.pg_drop:
            drop_postgres_database(a.pg_url)
            self.log("PostgreSQL database dropped")
        self.report()
        return 1 if self.failures else 0

    def run_db(self, label: str, url: str) -> None:
        a = self.args
        # Every interpreter of this database first: their imports overlap the seeding.
        seed = self.spawn("seed")
        write = self.spawn("write", url)
        baseline = None if a.skip_baseline else self.spawn("baseline", url)
        block = None if a.skip_ftp else self.spawn("block", url)
        validators = [self.spawn("validate") for _ in range(1 + (baseline is not None))]
        res = self.step(f"{label}: seeding", seed, {"url": url, "accounts": a.accounts, "records": a.records,
                                                     "ftp_password": self.ftp_password})
        if res is None:
            return
        org_id, block_id = res["organization_id"], res["block_id"]
        self.log(f"{label} hub database {_safe_url(url)}" + (f" ({res['prepared']})" if res["prepared"] else "")
                 + f": migrated, organization {org_id}, {a.accounts:,} accounts, {a.records:,} payments "
                 f"seeded in {res['seconds']:.1f} s")
        for child in [write, *([baseline] if baseline else []), *([block] if block else []), *validators]:
            child.wait_ready()  # nothing else runs while we measure

        tag = label.lower()
        out = self.workdir / f"export_{tag}.xml"
        written = self.measure(label, "write_window → file (streaming)", write,
                               {"organization_id": org_id, "out": str(out)})
        checked = self.validate(label, "write_window", validators.pop(0), out) if written else None
        if baseline:
            base_out = self.workdir / f"baseline_{tag}.xml"
            res = self.measure(label, "baseline: fetchall + lxml tree + write", baseline,
                               {"organization_id": org_id, "out": str(base_out)})
            if res:
                self.notes.append(f"{label} baseline: fetchall {res['fetch_s']:.2f} s, build tree "
                                  f"{res['build_s']:.2f} s, write {res['write_s']:.2f} s")
                self.validate(label, "baseline", validators.pop(0), base_out)
            base_out.unlink(missing_ok=True)
        if block:
            res = self.measure(label, "export_block incl. FTP upload", block,
                               {"organization_id": org_id, "block_id": block_id, "remove": True,
                                "ftp_root": str(self.workdir / f"ftp-root-{tag}"), "ftp_password": self.ftp_password})
            if res:
                if res.get("error"):
                    self.failures.append(f"{label} export_block: {res['error']}")
                elif checked and res.get("sha256") != checked["sha256"]:
                    self.failures.append(f"{label} export_block: the uploaded file {res.get('file_name')} "
                                         f"({res.get('bytes')} bytes) differs from write_window's "
                                         f"({checked['bytes']} bytes)")
                if res.get("leftovers"):
                    self.failures.append(f"{label} export_block: temporary uploads left: {res['leftovers']}")
                if res.get("warnings"):
                    self.notes.append(f"{label} export_block warnings: {res['warnings']}")
                if "upload_s" in res:
                    self.notes.append(f"{label} export_block: write_window {res.get('write_window_s', 0):.2f} s + "
                                      f"FTP upload & rename {res['upload_s']:.2f} s + the rest (settings, window, "
                                      f"export_runs) {res['seconds'] - res.get('write_window_s', 0) - res['upload_s']:.2f}"
                                      f" s; uploaded as {res.get('file_name')}")
        if checked:
            self.checksums[label] = checked["sha256"]
        out.unlink(missing_ok=True)
        for child in self.children:
            child.kill()
        self.children = []

    def measure(self, label: str, name: str, child: Child, payload: dict) -> dict | None:
        self.log(f"measuring: {label} {name} …")
        res = self.step(f"{label} {name}", child, payload)
        if res is None:
            return None
        res.update(db=label, name=name)
        self.rows.append(res)
        if res["rows"] != self.args.records:
            self.failures.append(f"{label} {name}: {res['rows']:,} rows exported, expected {self.args.records:,}")
        self.log(f"  {res['rows']:,} rows in {res['seconds']:.2f} s = {_rate(res['rows'], res['seconds']):,.0f} "
                 f"rows/s, peak RSS {res['peak_rss_mb']:.0f} MB")
        return res

    def validate(self, label: str, what: str, child: Child, path: Path) -> dict | None:
        res = self.step(f"{label} validating {what}", child, {"path": str(path)})
        if res is None:
            return None
        if res["error"]:
            self.failures.append(f"{label} {what}: {path.name} is not valid against payments.xsd: {res['error']}")
        if res["count"] != self.args.records:
            self.failures.append(f"{label} {what}: {res['count']:,} <Payment> records in {path.name}, "
                                 f"expected {self.args.records:,}")
        self.log(f"  {path.name}: {res['bytes'] / 1024**2:,.1f} MB, {res['count']:,} records, "
                 + ("valid against payments.xsd" if not res["error"] else f"INVALID: {res['error']}")
                 + f" (streamed whole-document validation, {res['seconds']:.1f} s, not timed)")
        return res

    # ------------------------------------------------------------------ output

    def report(self) -> None:
        baselines = {r["db"]: _rate(r["rows"], r["seconds"]) for r in self.rows if r["name"].startswith("baseline")}
        table = []
        for r in self.rows:
            rate = _rate(r["rows"], r["seconds"])
            base = baselines.get(r["db"])
            table.append((r["db"], r["name"], f"{r['rows']:,}", f"{r['seconds']:.2f}", f"{rate:,.0f}",
                          f"{r['peak_rss_mb']:.0f}", f"{rate / base:.2f}×" if base else "—",
                          f"{max(0.0, r['peak_rss_mb'] - r['rss_before_mb']):.0f}",
                          f"{r.get('bytes', 0) / 1024**2:,.1f}" if r.get("bytes") else "—", f"{r['cpu_s']:.2f}",
                          f"{r['db_cpu_s']:.2f}" if r.get("db_cpu_s") is not None else "—",
                          f"{r['others_cpu_s']:.1f}" if r.get("others_cpu_s") is not None else "?",
                          f"{r['load1']:.2f}" if r.get("load1") is not None else "?"))
        print()
        print(format_table(("db", "measurement", "rows", "seconds", "rows/s", "peak RSS MB", "× baseline",
                            "RSS growth MB", "file MB", "CPU s", "PG server CPU s", "others' CPU s", "load 1m"), table,
                           left=2))
        print("(peak RSS = ru_maxrss of the measurement's own process (export_block's includes the FTP server "
              "thread); RSS growth = that peak − its RSS once its modules were imported; CPU s = user+system time "
              "of the process; PG server CPU s = that of the PostgreSQL backend serving it; others' CPU s = CPU "
              "time the rest of the machine used meanwhile (/proc/stat); load 1m = the higher 1-minute load "
              "average before/after)")
        print(self.load_start)
        print(load_line("load average at end:  "))
        print()
        print(f"targets: ≥{TARGET_ROWS_PER_S // 1000}k rows/s, peak RSS ≤{TARGET_RSS_MB:.0f} MB")

        def verdict(ok: bool) -> str:
            return "PASS" if ok else "MISS"

        for prefix, title in (("write_window", "write_window → file"), ("export_block", "export_block + FTP")):
            runs = [r for r in self.rows if r["name"].startswith(prefix)]
            if not runs:
                continue
            speed = ", ".join(f"{r['db']} {_rate(r['rows'], r['seconds']):,.0f}" for r in runs)
            rss = ", ".join(f"{r['db']} {r['peak_rss_mb']:.0f} MB (+{r['peak_rss_mb'] - r['rss_before_mb']:.0f})"
                            for r in runs)
            print(f"  {title}: ≥{TARGET_ROWS_PER_S // 1000}k rows/s "
                  f"{verdict(all(_rate(r['rows'], r['seconds']) >= TARGET_ROWS_PER_S for r in runs))} ({speed}); "
                  f"peak RSS ≤{TARGET_RSS_MB:.0f} MB {verdict(all(r['peak_rss_mb'] <= TARGET_RSS_MB for r in runs))}"
                  f" ({rss})")
        if self.args.records < 200_000:
            print(f"  (only {self.args.records:,} rows: fixed costs weigh heavily, the verdicts mean little)")
        sums = self.checksums
        if len(sums) == 2:
            self.notes.append("SQLite and PostgreSQL exports are byte for byte identical" if len(set(sums.values())) == 1
                              else "SQLite and PostgreSQL exports DIFFER (value rendering per dialect?)")
        for note in self.notes:
            print(f"note: {note}")
        for failure in self.failures:
            print(f"FAILED: {failure}", file=sys.stderr)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--records", type=int, default=1_000_000, help="payments in the window (default 1,000,000)")
    p.add_argument("--accounts", type=int, default=10_000, help="accounts they belong to (default 10,000)")
    p.add_argument("--pg-url", help="also benchmark PostgreSQL at this SQLAlchemy URL, e.g. "
                   "postgresql+psycopg://postgres@127.0.0.1:5432/bench_export (database created if missing, "
                   "else ALL ITS TABLES ARE DROPPED)")
    p.add_argument("--pg-drop", action="store_true", help="drop the PostgreSQL database afterwards")
    p.add_argument("--skip-baseline", action="store_true", help="skip the naive lxml-tree baseline")
    p.add_argument("--skip-ftp", action="store_true", help="skip the export_block + FTP upload measurement")
    p.add_argument("--workdir", type=Path, help="keep the databases here (default: a temp dir, removed)")
    args = p.parse_args(argv)
    if args.records < 1 or args.accounts < 1:
        p.error("--records and --accounts must be positive")
    return args


if __name__ == "__main__":
    run_script(parse_args, Bench, "bench-export-", PRELOAD, CHILDREN)
