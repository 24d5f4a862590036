#!/usr/bin/env python
"""Benchmark of the integration-log search (LOG-5) on a large log in PostgreSQL (a measurement, not a test).

    .venv/bin/python bench/log_query.py                      # 1,000,000 rows into bench_domiland_log
    .venv/bin/python bench/log_query.py --rows 50000         # smoke run, seconds
    .venv/bin/python bench/log_query.py --reuse              # keep the seeded rows of an earlier run
    .venv/bin/python bench/log_query.py --drop               # drop the scratch database at the end

Creates (or empties: ALL ITS TABLES ARE DROPPED) the scratch database of ``--pg-url``, applies the
hub's migrations (so the indexes are exactly the migrations' own), seeds organizations and
``--rows`` log rows with one ``INSERT … SELECT FROM generate_series`` (the table's secondary
indexes are dropped for the load and re-created from their own definitions, as a bulk load
would), ``ANALYZE``s, then times pages of :func:`domiland.api.log_query.search` — the function
the API calls — for typical and awkward filters: median of ``--repeat`` warm runs of the page
query alone, the capped count query alone, and the whole ``search()`` call (which skips the count
when the first page holds every match), plus an EXPLAIN (ANALYZE) summary of the page query: the
plan's nodes and indexes, and the rows it read. Seeding 1M rows takes about a minute (the trigram
index build is half of it); ``--reuse`` skips it on the next run.

Exit code 0 whatever the numbers; 1 if a query failed or returned the wrong thing.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(BENCH_DIR.parent / "src"))

from _common import drop_postgres_database, format_table, prepare_postgres, safe_url  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_domiland_log"
TARGET_MS = 1000.0

# (task_type, title, method, data file stem): the hub's nine DAG kinds plus API imports
TASKS = [
    ("import_accruals", "Импорт начислений", "XML", "accruals"),
    ("import_payments", "Импорт платежей", "XML", "payments"),
    ("import_meter_readings", "Импорт показаний ИПУ", "XML", "meter_readings"),
    ("import_buildings", "Импорт объектов", "XML", "buildings"),
    ("import_clients", "Импорт клиентов", "XML", "clients"),
    ("import_news", "Импорт новостей", "URL", "news"),
    ("import_offers", "Импорт витрины", "URL", "offers"),
    ("export_payments", "Экспорт платежей", "XML", "payments"),
    ("export_meter_readings", "Экспорт показаний ИПУ", "XML", "meter_readings"),
    ("api_import_accruals", "Импорт начислений (API)", "URL", "accruals"),
]

SEED_SQL = """
WITH g AS (
    SELECT i,
           random() AS r_status,
           random() AS r_org,
           1 + floor(random() * {ntasks})::int AS task,
           now() - interval '365 days' + (i * (interval '365 days' / {rows})) + random() * interval '5 seconds'
               AS created
    FROM generate_series(1, {rows}) AS i
), t(task, task_type, title, method, stem) AS (VALUES {tasks})
INSERT INTO integration_log (id, organization_id, status, task_type, task_title, method, message, details,
                             dag_id, run_id, created_at, updated_at)
SELECT g.i,
       1 + floor(power(g.r_org, 2) * {orgs})::int,
       s.status,
       t.task_type, t.title, t.method,
       CASE s.status
         WHEN 'Running' THEN ''
         WHEN 'Duplicate' THEN 'Дубликат: такой же импорт уже принят ' || to_char(g.created - interval '1 day', 'YYYY-MM-DD')
              || ' (запись ' || (g.i - 1000) || '); данные не загружены.'
         ELSE 'Прочитано записей: ' || (g.i % 5000) || ' (файлов: 1); создано ' || (g.i % 700) || ', обновлено '
              || (g.i % 300) || ', без изменений ' || (g.i % 4000) || ', пропущено ' || (g.i % 7) || '.'
              || CASE s.status
                   WHEN 'Warning' THEN E'\\nПредупреждения (2):\\n' || t.stem || '_' || to_char(g.created, 'YYYYMMDD')
                        || '.xml: строка ' || (g.i % 900) || ': лицевой счёт ' || (100000 + g.i % 400000)
                        || E' не найден\\n' || t.stem || '_' || to_char(g.created, 'YYYYMMDD') || '.xml: строка '
                        || (g.i % 900 + 12) || ': лицевой счёт ' || (100000 + (g.i * 7) % 400000) || ' не найден'
                   WHEN 'Error' THEN E'\\nОшибка: ' || t.stem || '_' || to_char(g.created, 'YYYYMMDD') || '.xml: строка '
                        || (g.i % 900) || ', запись ' || (g.i % 60) || ': не соответствует схеме ' || t.stem
                        || '.xsd: Element ''Amount'': ''' || (g.i % 97) || 'р'' is not a valid value of the atomic '
                        || 'type ''xs:decimal''.'
                   ELSE ''
                 END
       END,
       json_build_object('status', s.status, 'read', g.i % 5000, 'created', g.i % 700),
       'bench-uk-' || (1 + floor(power(g.r_org, 2) * {orgs})::int) || '.' || replace(t.task_type, '_', '.'),
       'scheduled__' || to_char(g.created, 'YYYY-MM-DD"T"HH24:MI:SS.US') || '__' || g.i,
       g.created,
       g.created + interval '7 seconds'
FROM g
JOIN t ON t.task = g.task
CROSS JOIN LATERAL (SELECT CASE WHEN g.r_status < 0.85 THEN 'Done' WHEN g.r_status < 0.93 THEN 'Warning'
                                WHEN g.r_status < 0.98 THEN 'Error' WHEN g.r_status < 0.99 THEN 'Running'
                                ELSE 'Duplicate' END AS status) AS s
"""


def seed(engine, rows: int, orgs: int) -> dict[str, float]:
    """Organizations and ``rows`` log rows; secondary indexes dropped for the load and rebuilt."""
    from sqlalchemy import text

    timings: dict[str, float] = {}
    tasks = ", ".join(f"({n}, '{tt}', '{title}', '{method}', '{stem}')"
                      for n, (tt, title, method, stem) in enumerate(TASKS, 1))
    from sqlalchemy.orm import Session

    from domiland.db.models import Organization, OrganizationKind

    with Session(engine) as session, session.begin():
        session.add_all(Organization(id=i, code=f"bench-uk-{i}", name=f"ООО «УК Бенчмарк {i}»",
                                     kind=OrganizationKind.MANAGEMENT) for i in range(1, orgs + 1))
    with engine.begin() as conn:
        defs = conn.execute(text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = 'integration_log' "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)")).all()
        for name, _ in defs:
            conn.execute(text(f'DROP INDEX "{name}"'))
        started = time.perf_counter()
        conn.execute(text(SEED_SQL.format(rows=rows, orgs=orgs, ntasks=len(TASKS), tasks=tasks)))
        timings["insert"] = time.perf_counter() - started
        conn.execute(text("SELECT setval(pg_get_serial_sequence('integration_log', 'id'), :n)"), {"n": rows})
        conn.execute(text("SET maintenance_work_mem = '512MB'"))
        for name, ddl in defs:
            started = time.perf_counter()
            conn.execute(text(ddl))
            timings[f"index {name}"] = time.perf_counter() - started
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        started = time.perf_counter()
        conn.execute(text("VACUUM (ANALYZE) integration_log"))
        conn.execute(text("ANALYZE organizations"))
        timings["vacuum analyze"] = time.perf_counter() - started
    return timings


def scenarios(session) -> list[tuple[str, dict, int]]:
    """(name, make_filter kwargs, pages to walk first): typical and awkward searches on the seeded data."""
    from sqlalchemy import select

    from domiland.db.models import IntegrationLog

    newest = session.scalar(select(IntegrationLog.created_at).order_by(IntegrationLog.created_at.desc()).limit(1))
    day = (newest.date()).toordinal()
    from datetime import date

    month_ago = date.fromordinal(day - 30).isoformat()
    week_ago = date.fromordinal(day - 7).isoformat()
    mid = date.fromordinal(day - 180)
    today = date.fromordinal(day).isoformat()
    return [
        ("first page, no filter", {}, 0),
        ("partner org 7 (~4 % of rows)", {"organization_id": 7}, 0),
        ("status=Error", {"status": ["Error"]}, 0),
        ("status=Running,Duplicate", {"status": ["Running", "Duplicate"]}, 0),
        ("task_type + method", {"task_type": ["import_payments"], "method": ["XML"]}, 0),
        ("date range: one day, 180 days ago", {"created_from": mid.isoformat(), "created_to": mid.isoformat()}, 0),
        ("q='не найден' (common, Cyrillic)", {"q": "не найден"}, 0),
        ("q='НЕ НАЙДЕН' (upper case)", {"q": "НЕ НАЙДЕН"}, 0),
        ("q=file of one day (rare)", {"q": f"accruals_{mid:%Y%m%d}.xml"}, 0),
        ("q=account number (1-3 rows)", {"q": "лицевой счёт 234567 "}, 0),
        ("q=absent text", {"q": "нет такого текста"}, 0),
        ("q+status+30 days", {"q": "xsd", "status": ["Error"], "created_from": month_ago, "created_to": today}, 0),
        ("q+status+30 days+org+method", {"q": "лицевой счёт", "status": ["Warning", "Error"],
                                         "created_from": month_ago, "created_to": today, "organization_id": 1,
                                         "method": ["XML"]}, 0),
        ("q='xsd%_' (escaped wildcards, absent)", {"q": "xsd%_"}, 0),
        ("q=common words, absent together", {"q": "найден: ошибка"}, 0),
        ("q+7 days, page 21 (cursor)", {"q": "xsd", "created_from": week_ago}, 20),
        ("no filter, page 201 (cursor)", {}, 200),
        ("q='ъёь' (3 letters, absent)", {"q": "ъёь"}, 0),
    ]


def explain_summary(session, stmt) -> str:
    """The plan's nodes (with their indexes) and the time PostgreSQL reports for one run."""
    from sqlalchemy.dialects import postgresql

    compiled = stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"render_postcompile": True})
    conn = session.connection()
    plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + str(compiled),
                                compiled.params).scalar()
    plan = plan if isinstance(plan, list) else json.loads(plan)
    root = plan[0]
    nodes: list[str] = []
    scanned = 0

    def walk(node) -> None:
        nonlocal scanned
        name = node["Node Type"]
        if node.get("Scan Direction") == "Backward":
            name += " Backward"
        if node.get("Index Name"):
            name += f"({node['Index Name'].removeprefix('ix_integration_log_')})"
        if node["Node Type"] in ("Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan"):
            scanned += int(node.get("Actual Rows", 0) * node.get("Actual Loops", 1)) + int(
                node.get("Rows Removed by Filter", 0)) + int(node.get("Rows Removed by Index Recheck", 0))
        nodes.append(name)
        for child in node.get("Plans", []):
            walk(child)

    walk(root["Plan"])
    return f"{' > '.join(nodes)}; rows read {scanned}; pg {root['Execution Time']:.1f} ms"


def run(args: argparse.Namespace) -> int:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from domiland.api import log_query
    from domiland.db.engine import get_engine
    from domiland.db.migrate import upgrade
    from domiland.db.models import IntegrationLog

    url = args.pg_url
    engine = get_engine(url)
    print(f"database: {safe_url(url)}")
    existing = 0
    if args.reuse:
        try:
            with Session(engine) as s:
                existing = s.scalar(select(func.count()).select_from(IntegrationLog))
        except Exception:  # noqa: BLE001 - no table yet: seed
            existing = 0
    if existing == args.rows:
        upgrade(url)
        print(f"reusing {existing:,} rows")
    else:
        engine.dispose()
        print(f"database {prepare_postgres(url)}; migrating and seeding {args.rows:,} rows …")
        upgrade(url)
        started = time.perf_counter()
        timings = seed(engine, args.rows, args.orgs)
        total = time.perf_counter() - started
        print(f"seeded in {total:.1f} s: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    with engine.connect() as conn:
        size = conn.exec_driver_sql("SELECT pg_size_pretty(pg_total_relation_size('integration_log'))").scalar()
    print(f"integration_log with its indexes: {size}\n")

    failed = False
    results = []
    plans = []
    with Session(engine) as session:
        for name, kwargs, pages in scenarios(session):
            f = log_query.make_filter(**kwargs)
            cursor = None
            for _ in range(pages):  # walk to the page measured
                cursor = log_query.search(session, f, limit=args.limit, cursor=cursor, with_count=False).next_cursor
                if cursor is None:
                    break
            after = log_query.Cursor.decode(cursor) if cursor else None
            page_stmt = log_query.page_query(f, "postgresql", limit=args.limit, after=after)
            count_stmt = log_query.count_query(f, "postgresql")
            page_ms, count_ms, total_ms = [], [], []
            page = None
            for i in range(args.repeat + 1):
                t0 = time.perf_counter()
                rows = list(session.scalars(page_stmt))
                t1 = time.perf_counter()
                session.scalar(count_stmt)
                t2 = time.perf_counter()
                page = log_query.search(session, f, limit=args.limit, cursor=cursor, with_count=pages == 0)
                t3 = time.perf_counter()
                if i:  # the first run warms the cache
                    page_ms.append((t1 - t0) * 1000)
                    count_ms.append((t2 - t1) * 1000)
                    total_ms.append((t3 - t2) * 1000)
                session.rollback()
            if [r.id for r in page.rows] != [r.id for r in rows[:args.limit]] or not _ordered(page.rows):
                print(f"FAIL {name}: the page is not the query's rows newest first", file=sys.stderr)
                failed = True
            if kwargs.get("q") and any(kwargs["q"].lower() not in r.message.lower() for r in page.rows):
                print(f"FAIL {name}: a row does not contain {kwargs['q']!r}", file=sys.stderr)
                failed = True
            count = "—" if page.count is None else (f"{page.count:,}" if page.count_exact else f">{page.count:,}")
            med = statistics.median(total_ms)
            results.append((name, len(page.rows), count, f"{statistics.median(page_ms):.1f}",
                            f"{statistics.median(count_ms):.1f}", f"{med:.1f}", f"{max(total_ms):.1f}",
                            "ok" if med < TARGET_MS else "SLOW"))
            plans.append((name, explain_summary(session, page_stmt)))
            session.rollback()
    print(format_table(["search (limit %d)" % args.limit, "rows", "count", "page ms", "count ms",
                        "search() ms", "max ms", f"<{TARGET_MS:.0f} ms"], results))
    print("\nplans of the page queries (EXPLAIN ANALYZE):")
    for name, summary in plans:
        print(f"  {name}: {summary}")
    return 1 if failed else 0


def _ordered(rows) -> bool:
    keys = [(r.created_at, r.id) for r in rows]
    return keys == sorted(keys, reverse=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default=DEFAULT_URL,
                        help="scratch database (created if missing, otherwise ALL ITS TABLES ARE DROPPED)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--orgs", type=int, default=25)
    parser.add_argument("--limit", type=int, default=50, help="page size")
    parser.add_argument("--repeat", type=int, default=5, help="measured runs per search (after one warm-up)")
    parser.add_argument("--reuse", action="store_true", help="keep the rows of an earlier run with as many rows")
    parser.add_argument("--drop", action="store_true", help="drop the scratch database at the end")
    args = parser.parse_args()
    try:
        return run(args)
    except Exception as exc:  # noqa: BLE001 - a measurement: report and exit 1
        import traceback

        traceback.print_exc()
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.drop:
            from domiland.db.engine import get_engine

            get_engine(args.pg_url).dispose()
            drop_postgres_database(args.pg_url)
            print(f"\ndropped {safe_url(args.pg_url)}")


if __name__ == "__main__":
    sys.exit(main())
