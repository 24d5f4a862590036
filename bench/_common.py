"""Helpers shared by the benchmark scripts of ``bench/`` (not part of the package, not tests).

* every measurement runs in a fresh child process, so that its peak RSS is its own
  (:class:`Child` on the parent's side, :func:`child_entry` on the child's);
* :func:`fresh_sqlite_url` / :func:`prepare_postgres` give an empty hub database;
* :func:`format_table` prints the result table; :class:`MachineWatch` and :func:`load_line` say how
  busy the (shared) machine was during a measurement.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

RESULT_MARK = "@@BENCH_RESULT "


# --------------------------------------------------------------------------- child processes

def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (``ru_maxrss`` is KiB on Linux)."""
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":  # bytes there
        kib /= 1024
    return kib / 1024


def current_rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024**2
    except OSError:
        return float("nan")


class ChildrenPeakRss:
    """Peak RSS of this process's child processes (e.g. a parser helper), polled from ``VmHWM``.

    ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` is no good for this: Linux carries the
    parent's RSS over into a (v)forked child until it execs, so a small helper of a
    big process reports the big process's size. ``VmHWM`` is the high-water mark of
    the helper's own address space (read once it has exec'd), every ``interval``
    seconds while it lives.
    """

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ChildrenPeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return self.peak_kib / 1024

    def _children(self) -> list[int]:
        pids: list[int] = []
        try:
            for task in os.listdir("/proc/self/task"):
                with open(f"/proc/self/task/{task}/children") as f:
                    pids.extend(int(x) for x in f.read().split())
        except OSError:
            pass
        return pids

    def _run(self) -> None:
        try:
            with open("/proc/self/cmdline", "rb") as f:
                own = f.read()
        except OSError:
            return
        while not self._stop.is_set():
            for pid in self._children():
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        if f.read() == own:  # forked, not yet exec'd: still our address space
                            continue
                    with open(f"/proc/{pid}/status") as f:
                        for line in f:
                            if line.startswith("VmHWM:"):
                                self.peak_kib = max(self.peak_kib, int(line.split()[1]))
                                break
                except (OSError, ValueError):
                    pass
            self._stop.wait(self.interval)


def emit_result(result: dict[str, Any]) -> None:
    """Print the child's result as its last stdout line (the parent looks for the mark)."""
    result.setdefault("peak_rss_mb", peak_rss_mb())
    sys.stdout.write(RESULT_MARK + json.dumps(result, ensure_ascii=False) + "\n")
    sys.stdout.flush()


class ChildFailed(RuntimeError):
    pass


READY_MARK = "@@BENCH_READY"


class Child:
    """One measurement in a fresh interpreter: ``python <script> _child <kind>``.

    The child imports what it needs, says it is ready, then waits for its
    payload (one JSON line on stdin) and prints one result line. Children can
    thus be started early, their (slow) imports overlapping the parent's set-up,
    while the measurements themselves still run one at a time.
    """

    def __init__(self, script: Path, kind: str, *, env: dict[str, str] | None = None,
                 log_dir: Path | None = None) -> None:
        self.kind = kind
        self.stderr_path = Path(tempfile.mkstemp(prefix=f"child-{kind}-", suffix=".log",
                                                 dir=str(log_dir) if log_dir else None)[1])
        self._stderr = self.stderr_path.open("w")
        self.proc = subprocess.Popen([sys.executable, str(script), "_child", kind], env={**os.environ, **(env or {})},
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, text=True)
        self.started = time.perf_counter()
        self._ready = False

    def wait_ready(self) -> None:
        if self._ready:
            return
        for line in self.proc.stdout:
            if line.rstrip("\n") == READY_MARK:
                self._ready = True
                return
        self._fail("exited before it was ready")

    def run(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.wait_ready()
        try:
            self.proc.stdin.write(json.dumps(payload, ensure_ascii=False) + "\n")
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        out = self.proc.stdout.read()
        self.proc.wait()
        self._stderr.close()
        result = None
        for line in out.splitlines():
            if line.startswith(RESULT_MARK):
                result = json.loads(line[len(RESULT_MARK):])
        if self.proc.returncode != 0 or result is None:
            self._fail(f"exited with {self.proc.returncode}\n{out[-2000:]}")
        self.stderr_path.unlink(missing_ok=True)
        return result

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._stderr.close()

    def _fail(self, what: str) -> None:
        self.proc.wait()
        self._stderr.close()
        err = self.stderr_path.read_text(errors="replace")[-4000:]
        raise ChildFailed(f"child {self.kind!r} {what}\n{err}")


def child_entry(preload: dict[str, Any], run: dict[str, Any], kind: str) -> None:
    """The child side of :class:`Child`: import, say ready, read the payload, measure, report."""
    preload[kind]()
    sys.stdout.write(READY_MARK + "\n")
    sys.stdout.flush()
    payload = json.loads(sys.stdin.readline())
    emit_result(run[kind](payload))


def run_script(parse_args, bench_cls, prefix: str, preload: dict[str, Any], children: dict[str, Any]) -> None:
    """A benchmark script's entry: a child measurement (``_child KIND``) or the whole run.

    The run works in ``--workdir`` when given (kept), else in a temporary directory (removed).
    """
    if len(sys.argv) == 3 and sys.argv[1] == "_child":
        child_entry(preload, children, sys.argv[2])
        return
    args = parse_args(None)
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        sys.exit(bench_cls(args, args.workdir.resolve()).run())
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        sys.exit(bench_cls(args, Path(tmp)).run())


# --------------------------------------------------------------------------- databases

def fresh_sqlite_url(path: Path) -> str:
    """``sqlite:///path`` of a file that does not exist yet (old file and WAL/SHM removed)."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def prepare_postgres(url: str) -> str:
    """Create the database of ``url`` if missing, else drop all its tables; return what was done."""
    from sqlalchemy import MetaData, create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                  {"n": parsed.database}).scalar() is not None
            if not exists:
                conn.exec_driver_sql(f'CREATE DATABASE "{parsed.database}"')
                return "created"
    finally:
        admin.dispose()
    engine = create_engine(url)
    try:
        meta = MetaData()
        meta.reflect(engine)
        meta.drop_all(engine)
    finally:
        engine.dispose()
    return "emptied"


def drop_postgres_database(url: str) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
    finally:
        admin.dispose()


def safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# --------------------------------------------------------------------------- output

def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, left: int = 1) -> str:
    """A plain fixed-width table: the first ``left`` columns left-aligned, the others right-aligned."""
    cells = [list(map(str, headers))] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(r: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()

    out = [line(cells[0]), "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in cells[1:])
    return "\n".join(out)


# --------------------------------------------------------------------------- how busy the machine is

def load_average() -> tuple[float, float, float] | None:
    """The 1-, 5- and 15-minute load averages, or ``None`` where the platform has none."""
    try:
        return os.getloadavg()
    except (OSError, AttributeError):
        return None


def machine_busy_seconds() -> float | None:
    """CPU seconds all CPUs of the machine have been busy since boot (``/proc/stat``; steal included).

    The difference over a measurement, minus the measurement's own CPU seconds, is what the
    rest of the machine used meanwhile: a more direct sign of competition than the load average,
    which lags by a minute and counts the measurement itself.
    """
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    # user nice system idle iowait irq softirq steal [guest guest_nice: already inside user/nice]
    values = [int(v) for v in fields[1:9]]
    busy = sum(values) - values[3] - values[4]
    return busy / os.sysconf("SC_CLK_TCK")


class MachineWatch:
    """Load average and the machine's busy CPU seconds before and after one measurement."""

    def __init__(self) -> None:
        self.load_before = load_average()
        self.busy_before = machine_busy_seconds()
        self.load_after: tuple[float, float, float] | None = None
        self.busy_after: float | None = None

    def stop(self) -> MachineWatch:
        self.busy_after = machine_busy_seconds()
        self.load_after = load_average()
        return self

    def others_cpu_s(self, own_cpu_s: float) -> float | None:
        """CPU seconds the rest of the machine used during the measurement (≥ 0; ``None`` if unknown)."""
        if self.busy_before is None or self.busy_after is None:
            return None
        return max(0.0, self.busy_after - self.busy_before - own_cpu_s)

    @property
    def load1(self) -> float | None:
        loads = [x[0] for x in (self.load_before, self.load_after) if x]
        return max(loads) if loads else None


def proc_cpu_seconds(pid: int | None) -> float | None:
    """User+system CPU seconds of process ``pid`` so far (``/proc/<pid>/stat``), e.g. a PostgreSQL backend."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "; utime and stime are fields 14 and 15
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pg_backend_pid(engine: Any) -> int | None:
    """PID of the PostgreSQL backend behind the connection ``engine``'s pool hands out next (``None``: not PG).

    Call it just before the measured work: the connection goes back to the (otherwise empty)
    pool, and the work's first checkout gets it again.
    """
    if engine.dialect.name != "postgresql":
        return None
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("SELECT pg_backend_pid()")
        pid = int(cur.fetchone()[0])
        cur.close()
        raw.commit()
    finally:
        raw.close()
    return pid


def load_line(label: str = "load average") -> str:
    """``load average 1.23 / 1.10 / 0.98 (1/5/15 min) on 2 CPUs`` — for printing next to a table."""
    loads = load_average()
    cpus = os.cpu_count() or 1
    if loads is None:
        return f"{label}: unknown on {cpus} CPUs"
    return f"{label} {loads[0]:.2f} / {loads[1]:.2f} / {loads[2]:.2f} (1/5/15 min) on {cpus} CPUs"
